"""Shared fixtures: a fixed clock, a real SQLite store in tmp_path, users, the store thread.

Qt runs offscreen, set here before pytest-qt creates the QApplication, so tests never need a
display. Every store lives in its own tmp_path folder: no test touches real user data.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.pop("ADVICE_DESK_DATA_DIR", None)
os.environ.pop("ADVICE_DESK_DATABASE_URL", None)
# Secrets such as the export key go to a folder of the test run, never the user's config.
os.environ["ADVICE_DESK_CONFIG_DIR"] = tempfile.mkdtemp(prefix="advice-desk-config-")

import pytest

from advice_desk.clock import UK, FixedClock
from advice_desk.paths import Location, resolve_location
from advice_desk.people import accounts
from advice_desk.people.permissions import Actor, Role
from advice_desk.people.users import get_or_create_user
from advice_desk.store.engine import Store, open_store
from advice_desk.store.models import User
from tests.support import PASSWORD

# The session's PostgreSQL server and the store_location fixture over SQLite and PostgreSQL.
pytest_plugins = ("tests.postgres",)

# A Monday, 10:15 in London (GMT): the line is open.
MONDAY_MORNING = datetime(2026, 11, 23, 10, 15, tzinfo=UK)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_MORNING)


@pytest.fixture
def location(tmp_path: Path) -> Location:
    return resolve_location(tmp_path / "data")


@pytest.fixture
def store(location: Location, clock: FixedClock):
    opened = open_store(location, clock)
    yield opened
    opened.close()


@pytest.fixture
def worker(store: Store, clock: FixedClock) -> User:
    return get_or_create_user(store, "amy", clock, display_name="Amy Adviser")


@pytest.fixture
def sam(store: Store, clock: FixedClock) -> Actor:
    """The store's first supervisor, signed in."""
    return accounts.create_first_supervisor(store, "sam", "Sam Supervisor", PASSWORD, clock)


@pytest.fixture
def amy(store: Store, clock: FixedClock, sam: Actor) -> Actor:
    """A worker, added by sam and signed in."""
    accounts.add_user(store, sam, "amy", "Amy Adviser", Role.WORKER, PASSWORD, clock)
    return accounts.sign_in(store, "amy", PASSWORD, clock)


@pytest.fixture
def tasks(store: Store):
    """The GUI's store thread; stopped before the store closes, so no job outlives it."""
    from advice_desk.gui.taskman import TaskManager

    manager = TaskManager()
    yield manager
    manager.shutdown()
