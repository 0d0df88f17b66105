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
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from advice_desk import __version__
from advice_desk.files import atomic_file
from advice_desk.paths import DATA_DIR_ENV, DATABASE_URL_ENV, Location, resolve_location

if TYPE_CHECKING:
    from advice_desk.privacy.identity import PersonQuery
    from advice_desk.privacy.personal_data import PersonalData
    from advice_desk.store.engine import Store

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class CommandError(Exception):
    """A command cannot go on; ``str()`` is the one-line message, ``details`` extra lines."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT,
                 details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.details = list(details)


class _Parser(argparse.ArgumentParser):
    """Bad input is one line on stderr (``--help`` still shows the usage), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _store_options(*, top_level: bool) -> argparse.ArgumentParser:
    """--data-dir / --database-url, accepted before or after the command name."""
    parser = _Parser(add_help=False)
    default = None if top_level else argparse.SUPPRESS
    parser.add_argument("--data-dir", metavar="DIR", default=default,
                        help=f"folder of the store (default: ${DATA_DIR_ENV} or the user data dir)")
    parser.add_argument("--database-url", metavar="URL", default=default,
                        help=f"SQLAlchemy URL of a database server (default: ${DATABASE_URL_ENV})")
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    from advice_desk.store.engine import StoreError, open_store

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


@contextmanager
def writing(path: Path | None) -> Iterator[None]:
    """A file that cannot be written is a failed command, said in one line. Files are written
    whole or not at all, so the message can promise that nothing was left behind."""
    try:
        yield
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}; nothing was "
                           "written", EXIT_FAILED) from error


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
    from advice_desk.demo import DemoError
    from advice_desk.demo.synthetic import add_demo_calls

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
    from advice_desk.calls.importer import DEFAULT_WORKER, ImportRejected, import_calls, read_text
    from advice_desk.clock import SystemClock

    try:
        text = read_text(args.file)
        with opened_store(args) as store:
            imported = import_calls(store, text, SystemClock(), args.worker or DEFAULT_WORKER)
    except ImportRejected as exc:
        raise CommandError(f"{args.file}: {exc}",
                           details=[str(p) for p in exc.problems]) from exc
    print(f"Imported {_calls(imported)} from {args.file}")
    return EXIT_OK


# --- hours --------------------------------------------------------------------------------

def _instant(text: str) -> datetime:
    from advice_desk.clock import parse_instant

    try:
        return parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register_hours(commands: argparse._SubParsersAction,
                   parents: list[argparse.ArgumentParser]) -> None:
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
    from advice_desk.calls.service import recompute_in_hours
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.reference.hours import describe_status
    from advice_desk.settings import Settings

    with opened_store(args) as store:
        policy = Settings(store, command_line_actor(), SystemClock()).hours_policy()
        if args.recompute:
            changed = recompute_in_hours(store)
            print(f"In-hours recomputed: {_calls(changed)} changed")
            return EXIT_OK
    at = args.at or SystemClock().now()
    print(describe_status(policy.status(at), at, policy))
    return EXIT_OK


# --- report -------------------------------------------------------------------------------

REPORT_FORMATS = ("text", "json", "csv", "pdf")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-23") from None


def register_report(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                    parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "report", parents=parents, help="the supervisor's report for a day or a range",
        description="Every figure of the daily report for one UK day (--date) or a range "
                    "(--from and --to, both included), as text, JSON, CSV or PDF.")
    parser.add_argument("--date", type=_day, metavar="D", help="one day, YYYY-MM-DD")
    parser.add_argument("--from", dest="date_from", type=_day, metavar="D",
                        help="first day of a range")
    parser.add_argument("--to", dest="date_to", type=_day, metavar="D",
                        help="last day of a range")
    parser.add_argument("--format", choices=REPORT_FORMATS, default="text")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="write to FILE (written whole or not at all) instead of stdout")
    parser.set_defaults(func=run_report)


def _period(args: argparse.Namespace) -> tuple[date, date]:
    if args.date and (args.date_from or args.date_to):
        raise CommandError("give either --date or --from and --to, not both")
    if args.date:
        return args.date, args.date
    if not (args.date_from and args.date_to):
        raise CommandError("give --date D, or --from D and --to D")
    if args.date_to < args.date_from:
        raise CommandError(f"--to {args.date_to} is before --from {args.date_from}")
    return args.date_from, args.date_to


def run_report(args: argparse.Namespace) -> int:
    date_from, date_to = _period(args)
    if args.format == "pdf" and args.out is None:
        raise CommandError("--format pdf needs --out FILE")
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.reports import output as report_output
    from advice_desk.reports.compute import Reports

    with opened_store(args) as store:
        reports = Reports(store, command_line_actor(), SystemClock())
        report, labels = reports.for_period(date_from, date_to)
    name = report_output.labeller(labels)
    with writing(args.out):
        if args.format == "pdf":
            reports.save_pdf(report, labels, args.out)
            return EXIT_OK
        text = {"text": lambda: report_output.as_text(report, name),
                "json": lambda: report_output.as_json(report),
                "csv": lambda: report_output.as_csv(report)}[args.format]()
        if args.out is None:
            sys.stdout.write(text)
        else:
            with atomic_file(args.out) as f:
                f.write(text)
    return EXIT_OK


# --- export -------------------------------------------------------------------------------

def register_export(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                    parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "export", parents=parents, help="anonymised funder export",
        description="Write summary.csv (counts per month and in total, with disclosure "
                    "control) and data-dictionary.md into DIR; with --rows also calls.csv, one "
                    "k-anonymous row per call. All files are written, or none.")
    parser.add_argument("--from", dest="date_from", type=_day, required=True, metavar="D")
    parser.add_argument("--to", dest="date_to", type=_day, required=True, metavar="D")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="an existing folder")
    parser.add_argument("--rows", action="store_true", help="add the row-level extract")
    parser.add_argument("--fresh-key", action="store_true",
                        help="hash repeat callers with a key made for this export alone")
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    if args.date_to < args.date_from:
        raise CommandError(f"--to {args.date_to} is before --from {args.date_from}")
    if not args.out.is_dir():
        raise CommandError(f"--out {args.out} is not a folder")
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.reports.funder_export import FunderExport

    with opened_store(args) as store:
        export = FunderExport(store, command_line_actor(), SystemClock())
        choices = export.choices(args.rows, args.fresh_key)
        with writing(args.out):
            result = export.write(args.date_from, args.date_to, args.out, choices)
    print(f"Wrote {', '.join(p.name for p in result.files)} to {args.out}")
    return EXIT_OK


# --- people's data: retention, subject access, erasure ------------------------------------

def register_retention(commands: argparse._SubParsersAction,
                       parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "retention", parents=parents, help="erase the personal details of old calls",
        description="Erase the personal details (name, contact details, notes) of every call "
                    "older than the retention period (setting retention_months, default 12), "
                    "unless the call is on legal hold. The calls stay, for the statistics. "
                    "Running it again erases nothing more.")
    parser.add_argument("--dry-run", action="store_true",
                        help="only say how many calls would be erased")
    parser.set_defaults(func=run_retention)


def run_retention(args: argparse.Namespace) -> int:
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.privacy.retention import apply_retention
    from advice_desk.settings import Settings

    actor, clock = command_line_actor(), SystemClock()
    with opened_store(args) as store:
        months = Settings(store, actor, clock).retention_months()
        count = apply_retention(store, actor, clock, months, dry_run=args.dry_run)
    verb = "Would erase" if args.dry_run else "Erased"
    print(f"{verb} the personal details of {_calls(count)} older than {months} months")
    return EXIT_OK


def _person_options(parser: argparse.ArgumentParser) -> None:
    person = parser.add_mutually_exclusive_group(required=True)
    person.add_argument("--name", metavar="N", help="the caller's name (any case)")
    person.add_argument("--phone", metavar="P", help="the caller's phone number (any format)")
    person.add_argument("--email", metavar="E", help="the caller's email address (any case)")


def _person_data(store: Store) -> PersonalData:
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.privacy.personal_data import PersonalData

    return PersonalData(store, command_line_actor(), SystemClock())


def _find_person(people: PersonalData, args: argparse.Namespace
                 ) -> tuple[PersonQuery, list[int]]:
    """The person the options describe, and their calls; a poor description is bad input."""
    from advice_desk.privacy.identity import PersonQuery, SearchError

    try:
        person = PersonQuery.given(args.name, args.phone, args.email)
        return person, people.find(person)
    except SearchError as exc:
        raise CommandError(str(exc)) from exc


def register_subject_access(commands: argparse._SubParsersAction,
                            parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "subject-access", parents=parents, help="save every call of a person as one file",
        description="Find every call of a person by name, phone or email and save them as "
                    "one Markdown file: each call's date, topics, outcomes and every detail "
                    "stored about the caller. The file is written whole or not at all.")
    _person_options(parser)
    parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="the file to write (Markdown)")
    parser.set_defaults(func=run_subject_access)


def run_subject_access(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        people = _person_data(store)
        _, ids = _find_person(people, args)
        with writing(args.out):
            people.save_subject_access(ids, args.out)
    print(f"Wrote {_calls(len(ids))} to {args.out}")
    return EXIT_OK


def register_erase(commands: argparse._SubParsersAction,
                   parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "erase", parents=parents, help="erase one person's details from every call",
        description="Erase the personal details of one person (found by name, phone or email) "
                    "from every call, keeping the calls for the statistics. Calls on legal "
                    "hold are left alone. Without --yes, only say how many calls would change.")
    _person_options(parser)
    parser.add_argument("--yes", action="store_true", help="really erase")
    parser.set_defaults(func=run_erase)


def run_erase(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        people = _person_data(store)
        person, ids = _find_person(people, args)
        held = len(people.held_calls(ids))
        count = people.erase(person, dry_run=not args.yes)
    kept = f"; {_calls(held)} on legal hold left alone" if held else ""
    if args.yes:
        print(f"Erased the personal details of {_calls(count)}{kept}")
    else:
        print(f"Would erase the personal details of {_calls(count)}{kept}; "
              "run again with --yes to erase them")
    return EXIT_OK


# Each entry adds one sub-command: register(subparsers, parents) sets ``func`` on its parser,
# a function (args) -> int that may raise CommandError.
COMMANDS: list[Callable[[argparse._SubParsersAction, list[argparse.ArgumentParser]], None]] = [
    register_demo,
    register_import,
    register_hours,
    register_report,
    register_export,
    register_retention,
    register_subject_access,
    register_erase,
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
