"""Commands that put calls into the store or read its hours: demo, import, hours."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path

from advice_desk.cli.common import (
    EXIT_OK,
    CommandError,
    Commands,
    Parser,
    calls_text,
    opened_store,
    positive_int,
)


def register_demo(commands: Commands,
                  parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "demo", parents=parents, help="fill a store with realistic synthetic calls",
        description="Add realistic synthetic calls (fake people only) to the store, spread "
                    "over the opening hours of the last days. The same seed gives the same calls.")
    parser.add_argument("--calls", type=positive_int, required=True, metavar="N",
                        help="how many calls to add")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="seed of the random calls (default: 0)")
    parser.add_argument("--days", type=positive_int, default=365, metavar="D",
                        help="spread the calls over the last D days (default: 365)")
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from advice_desk.clock import SystemClock
    from advice_desk.demo import DemoError
    from advice_desk.demo.synthetic import add_demo_calls

    started = time.perf_counter()
    with opened_store(args) as store:
        try:
            added = add_demo_calls(store, args.calls, SystemClock(), seed=args.seed,
                                   days=args.days)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
    print(f"Added {calls_text(added)} to {store.location.shown} "
          f"in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def register_import(commands: Commands,
                    parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "import", parents=parents, help="import calls from a spreadsheet (all rows or none)",
        description="Import calls from a UTF-8 CSV file with a header row. Every row is "
                    "checked first; if any is wrong, nothing is imported and every problem "
                    "is listed as 'row N, column C: reason'.")
    parser.add_argument("file", type=Path, metavar="FILE.csv", help="the CSV file")
    parser.add_argument("--worker", metavar="NAME",
                        help="username the calls are logged for (default: a user 'imported')")
    parser.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from advice_desk.calls.import_source import CsvSource, ImportRejected
    from advice_desk.calls.importer import DEFAULT_WORKER, import_calls
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor

    try:
        source = CsvSource.of_file(args.file)  # a wrong name must not create an empty store
        try:
            with opened_store(args) as store:
                imported = import_calls(store, source, SystemClock(),
                                        args.worker or DEFAULT_WORKER,
                                        actor=command_line_actor())
        finally:
            source.close()
    except ImportRejected as exc:
        raise CommandError(f"{args.file}: {exc}",
                           details=[str(p) for p in exc.problems]) from exc
    print(f"Imported {calls_text(imported)} from {args.file}")
    return EXIT_OK


def _instant(text: str) -> datetime:
    from advice_desk.clock import parse_instant

    try:
        return parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register_hours(commands: Commands,
                   parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "hours", parents=parents, help="open or closed, and the next opening or closing",
        description="Say whether the line is open now (or at --at), and when that changes, "
                    "from the store's opening hours. --recompute sets the in-hours flag of "
                    "every stored call again after the hours have changed.")
    parser.add_argument("--at", type=_instant, metavar="DATETIME",
                        help="YYYY-MM-DD HH:MM in UK time, or ISO 8601 with an offset")
    parser.add_argument("--recompute", action="store_true",
                        help="recompute in-hours for every stored call from the current hours")
    parser.set_defaults(func=run_hours)


def run_hours(args: argparse.Namespace) -> int:
    from advice_desk.calls.in_hours import recompute_in_hours
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.reference.hours import describe_status
    from advice_desk.settings import Settings

    with opened_store(args, reading=not args.recompute) as store:
        policy = Settings(store, command_line_actor(), SystemClock()).hours_policy()
        if args.recompute:
            changed = recompute_in_hours(store)
            print(f"In-hours recomputed: {calls_text(changed)} changed")
            return EXIT_OK
    at = args.at or SystemClock().now()
    print(describe_status(policy.status(at), at, policy))
    return EXIT_OK


