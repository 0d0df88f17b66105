"""``advice-desk setup`` and ``advice-desk connect``: one store for several PCs (PRODUCT.md §10).

**setup** prepares the store the options name, meant for a PostgreSQL server (on SQLite it is
the same operation): the schema through Alembic, then the first supervisor, whose password is
read from standard input (asked twice on a terminal), never from an option. Run again, it says
the store is ready and changes nothing. It looks at the database before writing anything: a
server it cannot reach, a database that belongs to another program, or one written by a newer
Advice Desk is each refused in one line, and nothing is written.

**connect URL** points this PC at a server store that setup prepared: the URL (never one with a
password) is saved in the config folder, mode 0600, and every later start and command of this
PC uses it (``--database-url``, ``ADVICE_DESK_DATABASE_URL`` and a folder named with
``--data-dir`` come first). ``connect`` alone says which store this PC uses; ``--forget`` goes
back to its own.

No password is ever printed or logged: the URL holds none (refused), the password typed for the
supervisor goes straight to the argon2 hash, and a connection failure is told by its kind.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING, TextIO

from advice_desk.cli.common import EXIT_FAILED, EXIT_OK, CommandError, Commands, Parser, location_of
from advice_desk.paths import (
    DATABASE_URL_ENV,
    PASSWORD_ADVICE,
    Location,
    resolve_location,
    save_database_url,
    saved_database_url,
    saved_url_file,
)

if TYPE_CHECKING:
    import sqlalchemy as sa

    from advice_desk.store.inspection import Found

OUR_TABLES = frozenset({"call", "app_user", "topic", "audit_event"})


def register_setup(commands: Commands, parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "setup", parents=parents, help="prepare a server store (schema, first supervisor)",
        description="Prepare the store for several PCs: build or upgrade its schema and add the "
                    "first supervisor, whose password is read from standard input (asked twice "
                    "on a terminal). Run again, it says the store is ready and changes nothing.")
    parser.add_argument("--supervisor", metavar="USER", help="the first supervisor's user name")
    parser.add_argument("--full-name", metavar="NAME",
                        help="the first supervisor's name as people know it")
    parser.set_defaults(func=run_setup)


def register_connect(commands: Commands, parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "connect", parents=parents, help="point this PC at a server store, or say which it uses",
        description="Save the URL of a server store that setup prepared, so this PC uses it "
                    "(in the config folder, mode 0600; a URL with a password is refused). "
                    "With no URL, say which store this PC uses.")
    parser.add_argument("url", metavar="URL", nargs="?",
                        help="e.g. postgresql+psycopg://amy@office-server/advice_desk")
    parser.add_argument("--forget", action="store_true",
                        help="forget the saved URL: this PC uses its own store again")
    parser.set_defaults(func=run_connect)


# --- what the database holds, read without changing it -------------------------------------

def look_at(location: Location) -> Found | None:
    """What the store holds now (:func:`advice_desk.store.inspection.look_at`); a driver not
    known or a server that cannot be reached is a :class:`CommandError`."""
    import sqlalchemy as sa

    from advice_desk.store import inspection

    try:
        return inspection.look_at(location)
    except inspection.UnknownDriver as error:
        raise CommandError(f"the database URL {location.shown} names a driver that is not "
                           "installed or not known (use postgresql+psycopg://USER@HOST/DATABASE)"
                           ) from error
    except sa.exc.DBAPIError as error:
        raise cannot_reach(location, error) from None


def cannot_reach(location: Location, error: sa.exc.DBAPIError) -> CommandError:
    """The one line for a server that did not let us in, by what the driver says went wrong
    (its connection messages name the host and the user, never a password or a stored value)."""
    state = getattr(error.orig, "sqlstate", None)
    said = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
    if "pg_hba.conf" in said:
        reason = ("the server does not let this PC in: its pg_hba.conf has no line for this "
                  "PC's address, user and database (a hostssl line also needs sslmode in the "
                  "URL)")
    elif state in ("28P01", "28000") or "password" in said:
        reason = ("the server refused to sign this user in: check the user name in the URL "
                  "and the password in the .pgpass file (named by PGPASSFILE, mode 0600)")
    elif state == "3D000" or "does not exist" in said:
        reason = ("there is no such database on that server: create it first "
                  "(createdb --owner USER NAME, as the postgres user)")
    elif "SSL" in said or "certificate" in said:
        reason = (f"the TLS connection failed ({said.rpartition(': ')[2]}): check sslmode and "
                  "sslrootcert in the URL and the server's certificate")
    else:
        reason = (f"the server did not answer ({said.rpartition(': ')[2] or 'no reason given'}); "
                  "check the host and port in the URL, that PostgreSQL runs there and that it "
                  "accepts connections from this PC (listen_addresses, pg_hba.conf)")
    return CommandError(f"cannot connect to the database {location.shown}: {reason}",
                        EXIT_FAILED)


def refuse_what_is_not_ours(location: Location, found: Found) -> None:
    """A database of another program, or of a newer Advice Desk, is left as it is."""
    from alembic.script import ScriptDirectory

    from advice_desk.store.schema import MIGRATIONS_DIR

    known = {rev.revision for rev in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
    others = sorted(found.tables - OUR_TABLES - {"alembic_version"})
    if found.revision is None and found.tables:
        raise CommandError(
            f"the database {location.shown} belongs to something else: it holds tables that "
            f"are not Advice Desk's ({_some(sorted(found.tables))}) and no Advice Desk schema; "
            "it is left as it is: give setup an empty database", EXIT_FAILED)
    if found.revision is not None and found.revision not in known:
        if found.tables >= OUR_TABLES:
            raise CommandError(
                f"the store {location.shown} was written by a newer version of Advice Desk "
                f"(schema {found.revision}); install that version or newer on this PC",
                EXIT_FAILED)
        raise CommandError(
            f"the database {location.shown} belongs to something else: its schema revision "
            f"{found.revision} is not Advice Desk's (tables {_some(others)}); it is left as "
            "it is: give setup an empty database", EXIT_FAILED)


def _some(names: list[str]) -> str:
    return ", ".join(names[:5]) + (", …" if len(names) > 5 else "") if names else "none"


# --- setup ----------------------------------------------------------------------------------

def run_setup(args: argparse.Namespace) -> int:
    from advice_desk.people import accounts
    from advice_desk.store.schema import schema_head

    location = location_of(args)
    found = look_at(location)
    if found is not None:
        refuse_what_is_not_ours(location, found)
    head = schema_head()
    if found is not None and found.revision == head and found.supervisors:
        print(f"The store {location.shown} is ready (schema {head}, supervisor "
              f"{', '.join(found.supervisors)}); nothing was changed.")
        return EXIT_OK
    # The first supervisor's password is asked for before anything is written.
    password = _first_supervisor_password(args) if found is not None and not found.supervisors \
        else None
    from advice_desk.cli.common import opened_store
    from advice_desk.clock import SystemClock
    from advice_desk.validation import ValidationError

    with opened_store(args) as store:
        supervisor = None
        if accounts.needs_first_supervisor(store):
            if password is None:
                password = _first_supervisor_password(args)
            try:
                supervisor = accounts.create_first_supervisor(
                    store, args.supervisor, args.full_name, password, SystemClock())
            except ValidationError as error:
                raise CommandError(f"the first supervisor cannot be added: {error}") from None
    was = found.revision if found is not None else None
    schema = (f"schema {head}" if was == head else
              f"schema upgraded from {was} to {head}" if was else f"schema {head} built")
    if supervisor is not None:
        print(f"Set up the store {location.shown}: {schema}, first supervisor "
              f"{supervisor.username} ({supervisor.name}).")
    else:
        print(f"The store {location.shown} is ready: {schema}; it already had its supervisor.")
    if location.sqlite_file is None:
        print(f"Point each PC at it with: advice-desk connect {location.shown}")
    return EXIT_OK


def _first_supervisor_password(args: argparse.Namespace) -> str:
    """The password, checked with the user and full names before any store is touched."""
    from advice_desk.people import accounts
    from advice_desk.validation import ValidationError

    if not args.supervisor or not args.full_name:
        raise CommandError("this store has no supervisor yet: give --supervisor USER and "
                           "--full-name NAME (the password is then read from standard input)")
    password = read_password(sys.stdin)
    try:
        accounts.check_new_account(args.supervisor, args.full_name, password)
    except ValidationError as error:
        raise CommandError(f"the first supervisor cannot be added: {error}; nothing was "
                           "changed") from None
    return password


def read_password(stdin: TextIO) -> str:
    """From a terminal, asked twice without echo; otherwise the first line of ``stdin``."""
    if stdin.isatty():
        first = getpass.getpass("Password for the first supervisor: ")
        if getpass.getpass("The same password again: ") != first:
            raise CommandError("the two passwords differ; nothing was changed")
        return first
    return stdin.readline().removesuffix("\n").removesuffix("\r")


# --- connect --------------------------------------------------------------------------------

def run_connect(args: argparse.Namespace) -> int:
    if args.forget:
        had = saved_database_url()
        save_database_url(None)
        own = resolve_location(args.data_dir, args.database_url)
        print(f"Forgot the server {resolve_location(None, had).shown}; this PC uses "
              f"{own.shown}." if had else f"No server was saved; this PC uses {own.shown}.")
        return EXIT_OK
    if args.url is None:
        return _say_which_store(args)
    location = resolve_location(args.data_dir, args.url)
    if location.url_has_password:
        raise CommandError(f"the database URL {location.shown} holds a password: "
                           f"{PASSWORD_ADVICE}; nothing was saved")
    if location.sqlite_file is not None or not args.url.startswith("postgresql"):
        raise CommandError("connect takes the URL of a PostgreSQL server "
                           "(postgresql+psycopg://USER@HOST/DATABASE); nothing was saved")
    from advice_desk.store.schema import schema_head

    found = look_at(location)
    assert found is not None  # a server: unreachable was raised
    refuse_what_is_not_ours(location, found)
    if not found.supervisors:
        raise CommandError(
            f"the store {location.shown} is not set up yet: run advice-desk --database-url "
            f"{location.shown} setup --supervisor USER --full-name NAME first; nothing was "
            "saved", EXIT_FAILED)
    path = save_database_url(args.url)
    later = "" if found.revision == schema_head() else \
        f" (its schema {found.revision} is upgraded when this PC first opens it)"
    print(f"This PC now uses the store {location.shown}{later}; saved in {path}.")
    if os.environ.get(DATABASE_URL_ENV):
        print(f"Note: {DATABASE_URL_ENV} is set on this PC, and it wins over the saved URL.")
    return EXIT_OK


def _say_which_store(args: argparse.Namespace) -> int:
    location = location_of(args)
    if args.database_url:
        source = "named by --database-url"
    elif os.environ.get(DATABASE_URL_ENV):
        source = f"named by {DATABASE_URL_ENV}"
    elif location.database_url == saved_database_url():
        source = f"saved in {saved_url_file()}"
    else:
        source = "this PC's own store"
    print(f"This PC uses {location.shown} ({source}).")
    return EXIT_OK
