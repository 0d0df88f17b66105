"""``advice-desk check``: is the store whole, and do its figures agree with its calls?
(PRODUCT.md §10)"""

from __future__ import annotations

import argparse

from advice_desk.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    Commands,
    Parser,
    location_of,
    opened_store,
)


def register_check(commands: Commands, parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "check", parents=parents, help="check that the store is whole",
        description="Run SQLite's full integrity check on the store (a few seconds for a "
                    "million calls) and say ok, or what is wrong and which backup to restore. "
                    "On a database server, check that every table is there (the server checks "
                    "its own pages). With --figures, also count the report's figures afresh "
                    "from the calls and compare them with the figures the store keeps; "
                    "--repair then puts right any that differ. Exit code 0 when whole (and "
                    "the figures agree, or were repaired), 1 when not.")
    parser.add_argument("--figures", action="store_true",
                        help="also check the figures the reports read against the calls")
    parser.add_argument("--repair", action="store_true",
                        help="with --figures: count the figures again where they differ")
    parser.set_defaults(func=run_check)


SHOWN_DIFFERENCES = 10  # the rest are counted, not listed


def run_check(args: argparse.Namespace) -> int:
    if args.repair and not args.figures:
        raise CommandError("--repair goes with --figures (the store itself is repaired by "
                           "restoring a backup)")
    _check_whole(args)
    if args.figures:
        _check_figures(args)
    return EXIT_OK


def _check_figures(args: argparse.Namespace) -> None:
    from advice_desk.figures import recount

    with opened_store(args) as store:
        with store.read() as session:
            found = recount.differences(session.connection())
        if not found:
            print("ok: the figures agree with the calls")
            return
        listed = [f"  {difference}" for difference in found[:SHOWN_DIFFERENCES]]
        if len(found) > SHOWN_DIFFERENCES:
            listed.append(f"  … and {len(found) - SHOWN_DIFFERENCES} more")
        if not args.repair:
            raise CommandError(
                f"{len(found)} of the figures differ from the calls (advice-desk check "
                "--figures --repair counts them again)", EXIT_FAILED, details=listed)
        with store.write() as session:
            recount.rebuild(session.connection())
        for line in listed:
            print(line)
        print(f"repaired: {len(found)} of the figures differed from the calls; they were "
              "counted again from the calls")


def _check_whole(args: argparse.Namespace) -> None:
    from advice_desk.clock import SystemClock
    from advice_desk.store import audit_guards, integrity
    from advice_desk.store.engines import read_only_engine
    from advice_desk.store.errors import StoreError

    location = location_of(args)
    path = location.sqlite_file
    if path is None:
        with opened_store(args) as store:
            result = store.check_tables()
            missing = audit_guards.missing_guards_of(store.engine)
        if not result.ok:
            raise CommandError(f"the store {location.shown} is not whole", EXIT_FAILED,
                               details=result.problems)
        _refuse_missing_guards(location.shown, missing)
        print(f"ok: the server store {location.shown} has all its tables "
              "(the server checks its own pages)")
        return
    if not path.exists():
        raise CommandError(f"there is no store at {path}", EXIT_FAILED)
    try:
        integrity.refuse_foreign_file(location)
    except StoreError as error:
        raise CommandError(str(error), EXIT_FAILED) from error
    result = integrity.full_check(location, SystemClock())
    if not result.ok:
        raise CommandError(str(integrity.damaged(location, result.problems)), EXIT_FAILED,
                           details=[f"  {line}" for problem in result.problems
                                    for line in problem.splitlines()]
                           if len(result.problems) > 1 else ())
    if not integrity.is_advice_desk_file(path):
        raise CommandError(f"the file {path} is whole but is not an Advice Desk store (it has "
                           "no Advice Desk schema)", EXIT_FAILED)
    reading = read_only_engine(path)
    try:
        missing = audit_guards.missing_guards_of(reading)
    finally:
        reading.dispose()
    _refuse_missing_guards(str(path), missing)
    print(f"ok: the store {path} is whole (SQLite's full integrity check, "
          f"{result.seconds:.1f} s)")

def _refuse_missing_guards(shown: str, missing: list[str]) -> None:
    if missing:
        raise CommandError(
            f"the store {shown} is whole, but the guards of its audit trail "
            f"{', '.join(missing)} are missing: they were removed or changed outside Advice "
            "Desk, a sign of tampering; run 'advice-desk audit verify' to check the trail, "
            "and 'advice-desk audit verify --repair' to put them back", EXIT_FAILED)
