"""The ``advice-desk`` command line (PRODUCT.md §10): a contract that supervisors script.

Exit codes: 0 success; 1 the work failed (the store could not be opened, a file could not be
written); 2 bad input (unknown option, bad date, a bad import row). Errors are one line on
stderr, ``advice-desk: error: ...``, followed by one line per problem where there are several.
Heavy modules (SQLModel, the store) are imported inside commands so ``--version`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from advice_desk import __version__
from advice_desk.paths import DATA_DIR_ENV, DATABASE_URL_ENV, Location, resolve_location

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


# Each entry adds one sub-command: register(subparsers, parents) sets ``func`` on its parser,
# a function (args) -> int that may raise CommandError.
COMMANDS: list[Callable[[argparse._SubParsersAction, list[argparse.ArgumentParser]], None]] = []


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
