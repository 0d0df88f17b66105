"""What every command shares: exit codes, the one-line error, opening the store, writing files.

Exit codes: 0 success; 1 the work failed (the store could not be opened, a file could not be
written); 2 bad input (unknown option, bad date, a bad import row). Errors are one line on
stderr, ``advice-desk: error: ...``, followed by one line per problem where there are several.
Heavy modules (SQLModel, the store) are imported inside commands so ``--version`` stays instant.

Every other failure of a command (a database or file error after the store opened: disk full,
read-only, damaged, locked; or a fault in our code) is also one line, worded by its kind alone
(:func:`failure_message`): the text of a database error can quote stored personal values.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeAlias

from advice_desk.paths import (
    DATA_DIR_ENV,
    DATABASE_URL_ENV,
    PASSWORD_ADVICE,
    Location,
    resolve_location,
)
from advice_desk.store.failures import Kind, failure_of, is_refusal

if TYPE_CHECKING:
    from advice_desk.store.engine import Store

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class CommandError(Exception):
    """A command cannot go on; ``str()`` is the one-line message, ``details`` extra lines."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT,
                 details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.details = list(details)


class Parser(argparse.ArgumentParser):
    """Bad input is one line on stderr (``--help`` still shows the usage), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


# The sub-command registry that each command group adds its parsers to.
Commands: TypeAlias = "argparse._SubParsersAction[Parser]"


def store_options(*, top_level: bool) -> Parser:
    """--data-dir / --database-url, accepted before or after the command name."""
    parser = Parser(add_help=False)
    default = None if top_level else argparse.SUPPRESS
    parser.add_argument("--data-dir", metavar="DIR", default=default,
                        help=f"folder of the store (default: ${DATA_DIR_ENV} or the user data dir)")
    parser.add_argument("--database-url", metavar="URL", default=default,
                        help=f"SQLAlchemy URL of a database server (default: ${DATABASE_URL_ENV})")
    return parser


def location_of(args: argparse.Namespace) -> Location:
    """The store the options name; a URL with a password in it is bad input."""
    location = resolve_location(args.data_dir, args.database_url)
    if location.url_has_password:
        raise CommandError(f"the database URL {location.shown} holds a password: "
                           f"{PASSWORD_ADVICE}")
    return location


@contextmanager
def opened_store(args: argparse.Namespace, *, reading: bool = False) -> Iterator[Store]:
    """The store the options name, open for the block. ``reading``: the command only reads, so
    a store this account may not write is opened read-only (a command that writes is refused
    at once on it, before any work)."""
    from advice_desk.store.engine import StoreError, open_store

    location = location_of(args)
    try:
        store = open_store(location, reading=reading)
    except StoreError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from exc
    for notice in store.notices:
        print(f"advice-desk: {notice}", file=sys.stderr)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def writing(path: Path | None) -> Iterator[None]:
    """A file that cannot be written is a failed command, said in one line. Files are written
    whole or not at all, so the message can promise that nothing was left behind."""
    try:
        yield
    except OSError as error:
        failure = failure_of(error)
        advice = {Kind.DISK_FULL: "; free some space on that disk, then try again",
                  Kind.READ_ONLY: "; choose a folder this account may write"}.get(
                      failure.kind if failure else Kind.OTHER, "")
        raise CommandError(f"cannot write {path}: {error.strerror or type(error).__name__}; "
                           f"nothing was written{advice}", EXIT_FAILED) from error


def failure_message(error: BaseException, args: argparse.Namespace | None = None) -> str:
    """The one line for a command that failed with ``error`` (not a CommandError): a database
    or file failure by its kind and what to do (a restore command naming the store
    ``args`` name), any other fault by its type and place. Never the error's own text, which
    may hold stored values."""
    if is_refusal(error):  # e.g. the audit key missing: the store's own words
        return str(error)
    failure = failure_of(error)
    if failure is not None:
        return failure.advice_at(_location_or_none(args))
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return (f"an unexpected fault ({type(error).__name__}{where}); try again, and if it "
            "happens again, report this line")


def _location_or_none(args: argparse.Namespace | None) -> Location | None:
    if args is None:
        return None
    try:
        return resolve_location(getattr(args, "data_dir", None),
                                getattr(args, "database_url", None))
    except (OSError, ValueError):
        return None


def calls_text(count: int) -> str:
    return f"{count} call" if count == 1 else f"{count} calls"


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def uk_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-23") from None
