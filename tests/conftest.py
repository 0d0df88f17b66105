"""Shared fixtures: a fixed clock, a real SQLite store in tmp_path, users, the store thread.

Qt runs offscreen, set here before pytest-qt creates the QApplication, so tests never need a
display. Every store lives in its own tmp_path folder and every test has its own config folder:
no test touches real user data, nor sees what another test left behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.pop("ADVICE_DESK_DATA_DIR", None)
os.environ.pop("ADVICE_DESK_DATABASE_URL", None)
# Secrets such as the export key never go to the user's config: before any test runs (while
# collecting, in module fixtures) to a folder of the test run, then to one of each test's own.
os.environ["ADVICE_DESK_CONFIG_DIR"] = tempfile.mkdtemp(prefix="advice-desk-config-")

import pytest

from advice_desk.clock import FixedClock
from advice_desk.paths import CONFIG_DIR_ENV, Location, resolve_location
from advice_desk.people.accounts import get_or_create_user
from advice_desk.people.permissions import Actor
from advice_desk.store.engine import Store
from advice_desk.store.models import User
from tests.factories import a_worker, first_supervisor, opened_store, store_options, uk

# The session's PostgreSQL server and a fresh database of it per test (postgres_url).
pytest_plugins = ("tests.postgres",)

# A Monday, 10:15 in London (GMT): the line is open.
MONDAY_MORNING = uk(2026, 11, 23, 10, 15)


@pytest.fixture(autouse=True)
def config_folder(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own config folder (empty): a key one test stores is not another's."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv(CONFIG_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_MORNING)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every core test with a store runs twice, on SQLite and on the session's PostgreSQL
    server; GUI tests (test_gui_*) and tests marked ``sqlite_only`` run on SQLite alone."""
    if "engine" not in metafunc.fixturenames:
        return
    gui = metafunc.module.__name__.rpartition(".")[2].startswith("test_gui_")
    if gui or metafunc.definition.get_closest_marker("sqlite_only") is not None:
        return
    metafunc.parametrize("engine", ["sqlite", pytest.param("postgresql",
                                                           marks=pytest.mark.postgres)],
                         indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A ``sqlite_only`` test says why next to its mark: the test runs on one engine only,
    and a reader (or the next helper) must see it is about the SQLite file, not a gap."""
    bare = [item.nodeid for item in items
            if (mark := item.get_closest_marker("sqlite_only")) is not None
            and not (mark.args or mark.kwargs.get("reason"))]
    if bare:
        raise pytest.UsageError("sqlite_only without its reason (write it in the mark): "
                                + ", ".join(bare))


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The database a test's store runs on: "sqlite" unless parametrised."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def location(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Location:
    """Where the test's store lives: a SQLite file in tmp_path, or a fresh migrated
    PostgreSQL database (tmp_path is then its data folder, for backups and exports)."""
    if engine == "sqlite":
        return resolve_location(tmp_path / "data")
    return resolve_location(tmp_path / "data", request.getfixturevalue("postgres_url"))


@pytest.fixture
def cli_location(location: Location) -> list[str]:
    """The command-line words that point the CLI at the test's store on its engine:
    ``--data-dir D``, and on the server also ``--database-url URL``."""
    return store_options(location)


@pytest.fixture
def store(location: Location, clock: FixedClock) -> Iterator[Store]:
    with opened_store(location, clock) as opened:
        yield opened


@pytest.fixture
def worker(store: Store, clock: FixedClock) -> User:
    return get_or_create_user(store, "amy", clock, display_name="Amy Adviser")


@pytest.fixture
def sam(store: Store, clock: FixedClock) -> Actor:
    """The store's first supervisor, signed in."""
    return first_supervisor(store, clock)


@pytest.fixture
def amy(store: Store, clock: FixedClock, sam: Actor) -> Actor:
    """A worker, added by sam and signed in."""
    return a_worker(store, clock, sam, "amy")


@pytest.fixture
def tasks(store: Store):
    """The GUI's store thread; stopped before the store closes, so no job outlives it."""
    from advice_desk.gui.taskman import TaskManager

    manager = TaskManager()
    yield manager
    manager.shutdown()
