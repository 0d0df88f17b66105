"""``advice-desk check``: is the store whole? (PRODUCT.md §10; ``--figures`` comes later.)"""

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
                    "its own pages). Exit code 0 when whole, 1 when not.")
    parser.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    from advice_desk.clock import SystemClock
    from advice_desk.store import audit_chain, integrity
    from advice_desk.store.engine import read_only_engine
    from advice_desk.store.errors import StoreError

    location = location_of(args)
    path = location.sqlite_file
    if path is None:
        with opened_store(args) as store:
            result = store.check_tables()
            missing = audit_chain.missing_guards_of(store.engine)
        if not result.ok:
            raise CommandError(f"the store {location.shown} is not whole", EXIT_FAILED,
                               details=result.problems)
        _refuse_missing_guards(location.shown, missing)
        print(f"ok: the server store {location.shown} has all its tables "
              "(the server checks its own pages)")
        return EXIT_OK
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
        missing = audit_chain.missing_guards_of(reading)
    finally:
        reading.dispose()
    _refuse_missing_guards(str(path), missing)
    print(f"ok: the store {path} is whole (SQLite's full integrity check, "
          f"{result.seconds:.1f} s)")
    return EXIT_OK


def _refuse_missing_guards(shown: str, missing: list[str]) -> None:
    if missing:
        raise CommandError(
            f"the store {shown} is whole, but the guards of its audit trail "
            f"{', '.join(missing)} are missing: they were removed or changed outside Advice "
            "Desk, a sign of tampering; run 'advice-desk audit verify' to check the trail, "
            "and 'advice-desk audit verify --repair' to put them back", EXIT_FAILED)
