"""What tests build again and again, written once: a call, a UK time, the desk's people (sam
the supervisor, amy and bob the workers) and an opened store.

Each factory gives a valid default and takes keyword overrides, so a test names only what it
is about.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from advice_desk.calls.record import CallDetails
from advice_desk.clock import UK, Clock
from advice_desk.paths import Location, resolve_location
from advice_desk.people import accounts
from advice_desk.people.permissions import Actor, Role
from advice_desk.store.engine import Store, open_store
from tests.support import PASSWORD

FIFTEEN_MINUTES = 15 * 60
# A call made "now" started this long before the clock's now, so it has ended by then.
RECENTLY = timedelta(minutes=20)


def uk(first: str | date | int, *rest: int, fold: int = 0) -> datetime:
    """A wall-clock time in London, written the way the test reads best:
    ``uk("2026-11-23 10:15")``, ``uk(MONDAY, 9, 30)`` or ``uk(2026, 11, 23, 9, 30)``.
    ``fold=1`` picks the second of an autumn hour that the clocks go through twice."""
    if isinstance(first, str):
        naive = datetime.fromisoformat(first)
    elif isinstance(first, date):
        naive = datetime(first.year, first.month, first.day, *rest)  # type: ignore[arg-type]
    else:
        naive = datetime(first, *rest)  # type: ignore[arg-type]  # rest holds ints only
    return naive.replace(tzinfo=UK, fold=fold)


def a_call(start: datetime | Clock, seconds: int | None = FIFTEEN_MINUTES,
           **changes: object) -> CallDetails:
    """A valid call (a grandparent with an SGO, advised on allowances) that began at
    ``start`` and lasted ``seconds`` (``None``: no end). Given a clock rather than a time, the
    call began twenty minutes before its now. Any other field is given in ``changes``; a
    ``started_at`` there replaces the start without moving the end."""
    started_at = start if isinstance(start, datetime) else start.now() - RECENTLY
    values: dict[str, object] = {
        "started_at": started_at,
        "ended_at": None if seconds is None else started_at + timedelta(seconds=seconds),
        "caller_type": "grandparent", "arrangement": "sgo",
        "topics": ("financial.allowances",), "outcomes": ("advice",),
    }
    return CallDetails(**{**values, **changes})  # type: ignore[arg-type]  # fields vary


class Team(NamedTuple):
    """The desk's people, signed in: sam supervises, amy and bob take calls."""

    sam: Actor
    amy: Actor
    bob: Actor


def first_supervisor(store: Store, clock: Clock) -> Actor:
    """sam, "Sam Supervisor": the store's first supervisor, signed in."""
    return accounts.create_first_supervisor(store, "sam", "Sam Supervisor", PASSWORD, clock)


def add_account(store: Store, clock: Clock, supervisor: Actor, username: str,
               role: Role = Role.WORKER) -> int:
    """A user added by ``supervisor``, named after the user name ("amy": "Amy Adviser")."""
    return accounts.Users(store, supervisor, clock).add(username, f"{username.title()} Adviser",
                                                        role, PASSWORD)


def signed_in(store: Store, clock: Clock, username: str) -> Actor:
    return accounts.sign_in(store, username, PASSWORD, clock)


def a_worker(store: Store, clock: Clock, supervisor: Actor, username: str) -> Actor:
    """A worker added by ``supervisor`` and signed in."""
    add_account(store, clock, supervisor, username)
    return signed_in(store, clock, username)


def sam_amy_and_bob(store: Store, clock: Clock) -> Team:
    """sam, then amy and bob added, then amy and bob signed in: the desk most tests need."""
    sam = first_supervisor(store, clock)
    for username in ("amy", "bob"):
        add_account(store, clock, sam, username)
    return Team(sam, signed_in(store, clock, "amy"), signed_in(store, clock, "bob"))


@contextmanager
def opened_store(where: Location | Path, clock: Clock | None = None) -> Iterator[Store]:
    """The store at ``where`` (a location, or a data folder), opened, and closed again after."""
    location = where if isinstance(where, Location) else resolve_location(where)
    store = open_store(location, clock)
    try:
        yield store
    finally:
        store.close()


def store_options(location: Location) -> list[str]:
    """The command-line options that point the CLI at ``location``'s store: its data folder,
    and its database URL when it lives on a server rather than in the folder's SQLite file."""
    options = ["--data-dir", str(location.data_dir)]
    if location.sqlite_file is None:
        options += ["--database-url", location.database_url]
    return options


def modules_loaded_by(code: str, watched: tuple[str, ...]) -> list[str]:
    """Which of ``watched`` a fresh interpreter has loaded after running ``code``: for the
    tests that keep heavy or forbidden packages out of an import."""
    script = f"import sys; {code}; print(*sorted(m for m in {watched!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    return result.stdout.splitlines()[-1].split()  # the last line: ``code`` may print too
