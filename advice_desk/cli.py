"""The ``advice-desk`` command line (PRODUCT.md §10): a contract that supervisors script.

Exit codes: 0 success; 1 the work failed (the store could not be opened, a file could not be
written); 2 bad input (unknown option, bad date, a bad import row). Errors are one line on
stderr, ``advice-desk: error: ...``, followed by one line per problem where there are several.
Heavy modules (SQLModel, the store) are imported inside commands so ``--version`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from advice_desk import __version__
from advice_desk.paths import DATA_DIR_ENV, DATABASE_URL_ENV, Location, resolve_location

if TYPE_CHECKING:
    from advice_desk.store import Store

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class CommandError(Exception):
    """A command cannot go on; ``str()`` is the one-line message, ``details`` extra lines."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT,
                 details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.details = list(details)


def _store_options(*, top_level: bool) -> argparse.ArgumentParser:
    """--data-dir / --database-url, accepted before or after the command name."""
    parser = argparse.ArgumentParser(add_help=False)
    default = None if top_level else argparse.SUPPRESS
    parser.add_argument("--data-dir", metavar="DIR", default=default,
                        help=f"folder of the store (default: ${DATA_DIR_ENV} or the user data dir)")
    parser.add_argument("--database-url", metavar="URL", default=default,
                        help=f"SQLAlchemy URL of a database server (default: ${DATABASE_URL_ENV})")
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advice-desk", parents=[_store_options(top_level=True)],
        description="Log, review and report the calls of a telephone advice line. "
                    "With no command, start the app.")
    parser.add_argument("--version", action="version", version=f"advice-desk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = [_store_options(top_level=False)]
    for register in COMMANDS:
        register(commands, common)
    return parser


def location_of(args: argparse.Namespace) -> Location:
    return resolve_location(args.data_dir, args.database_url)


def describe(location: Location) -> str:
    """The store as a message names it: its file, or its URL without the password."""
    if location.sqlite_file is not None:
        return str(location.sqlite_file)
    from sqlalchemy.engine import make_url

    return make_url(location.database_url).render_as_string(hide_password=True)


@contextmanager
def opened_store(args: argparse.Namespace) -> Iterator[Store]:
    from advice_desk.store import StoreError, open_store

    location = location_of(args)
    try:
        store = open_store(location)
    except StoreError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from exc
    except OSError as exc:  # e.g. the data folder is a file, or may not be written
        raise CommandError(f"cannot open the store {describe(location)}: "
                           f"{exc.strerror or exc}", EXIT_FAILED) from exc
    try:
        yield store
    finally:
        store.close()


def _calls(count: int) -> str:
    return f"{count} call" if count == 1 else f"{count} calls"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


# --- demo ---------------------------------------------------------------------------------

def register_demo(commands: argparse._SubParsersAction,
                  parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo", parents=parents, help="fill a store with realistic synthetic calls",
        description="Add realistic synthetic calls (fake people only) to the store, spread "
                    "over the opening hours of the last days. The same seed gives the same calls.")
    parser.add_argument("--calls", type=_positive_int, required=True, metavar="N",
                        help="how many calls to add")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="seed of the random calls (default: 0)")
    parser.add_argument("--days", type=_positive_int, default=365, metavar="D",
                        help="spread the calls over the last D days (default: 365)")
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from advice_desk.clock import SystemClock
    from advice_desk.demo import DemoError, add_demo_calls

    started = time.perf_counter()
    with opened_store(args) as store:
        try:
            added = add_demo_calls(store, args.calls, SystemClock(), seed=args.seed,
                                   days=args.days)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
    print(f"Added {_calls(added)} to {describe(store.location)} "
          f"in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


# --- import -------------------------------------------------------------------------------

def register_import(commands: argparse._SubParsersAction,
                    parents: list[argparse.ArgumentParser]) -> None:
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
    from advice_desk.clock import SystemClock
    from advice_desk.importer import DEFAULT_WORKER, ImportRejected, import_calls, read_text

    try:
        text = read_text(args.file)
        with opened_store(args) as store:
            imported = import_calls(store, text, SystemClock(), args.worker or DEFAULT_WORKER)
    except ImportRejected as exc:
        raise CommandError(f"{args.file}: {exc}",
                           details=[str(p) for p in exc.problems]) from exc
    print(f"Imported {_calls(imported)} from {args.file}")
    return EXIT_OK


# Each entry adds one sub-command: register(subparsers, parents) sets ``func`` on its parser,
# a function (args) -> int that may raise CommandError.
COMMANDS: list[Callable[[argparse._SubParsersAction, list[argparse.ArgumentParser]], None]] = [
    register_demo,
    register_import,
]


def main(argv: Sequence[str], start_gui: Callable[[Location], int] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.command is None:
        if start_gui is None:
            parser.error("a command is required")
        return start_gui(location_of(args))
    try:
        return args.func(args)
    except CommandError as exc:
        print(f"advice-desk: error: {exc}", file=sys.stderr)
        for line in exc.details:
            print(line, file=sys.stderr)
        return exc.exit_code
