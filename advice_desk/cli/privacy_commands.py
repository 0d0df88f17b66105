"""Commands for callers' data rights: retention, subject access, erasure (PRODUCT.md §7)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from advice_desk.cli.common import (
    EXIT_OK,
    CommandError,
    Commands,
    Parser,
    calls_text,
    opened_store,
    writing,
)

if TYPE_CHECKING:
    from advice_desk.privacy.identity import PersonQuery
    from advice_desk.privacy.personal_data import PersonalData
    from advice_desk.store.engine import Store


def register_retention(commands: Commands,
                       parents: list[Parser]) -> None:
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
    print(f"{verb} the personal details of {calls_text(count)} older than {months} months")
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


def register_subject_access(commands: Commands,
                            parents: list[Parser]) -> None:
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
    print(f"Wrote {calls_text(len(ids))} to {args.out}")
    return EXIT_OK


def register_erase(commands: Commands,
                   parents: list[Parser]) -> None:
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
    kept = f"; {calls_text(held)} on legal hold left alone" if held else ""
    if args.yes:
        print(f"Erased the personal details of {calls_text(count)}{kept}")
    else:
        print(f"Would erase the personal details of {calls_text(count)}{kept}; "
              "run again with --yes to erase them")
    return EXIT_OK


