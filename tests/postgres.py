"""A real PostgreSQL server for the test session, and a fresh migrated database for each test.

The session starts one server of its own, only when a test first asks for it: ``initdb`` in a
``mkdtemp`` folder (as the ``postgres`` user when we are root, since PostgreSQL refuses to run
as root and pytest's ``tmp_path`` is not readable by that user), trust authentication, a Unix
socket in that folder and no TCP port, durability switched off for speed. One template database
is migrated once, by opening it the way the app does; each test gets its own copy
(``CREATE DATABASE … TEMPLATE …``), dropped afterwards, so tests stay isolated and fast.

Fixture: ``postgres_url`` (a fresh migrated database); conftest's ``location`` runs every core
test on both engines, and the PostgreSQL case carries the ``postgres`` marker, so
``-m "not postgres"`` runs the SQLite half alone. Where no server can be had, the PostgreSQL
cases are skipped with one line saying how to get it.
"""

from __future__ import annotations

import functools
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, LiteralString

import pytest

from advice_desk.paths import resolve_location
from advice_desk.store.engine import open_store

if TYPE_CHECKING:
    import psycopg

SERVER_USER = "postgres"
TEMPLATE_DATABASE = "advice_desk_template"
HOW_TO_GET = (
    "to run them: sudo apt-get install postgresql (the server), "
    "pip install -e '.[postgres]' (the driver)"
)
# Nothing a test writes needs to survive a crash of the server.
SPEED_SETTINGS = {
    "listen_addresses": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "wal_level": "minimal",
    "max_wal_senders": "0",
}


class PostgresUnavailable(Exception):
    """No PostgreSQL server can be started here; the message says what is missing."""


def server_bin_dir() -> Path:
    """Debian's newest server binaries (/usr/lib/postgresql/N/bin), else those on PATH."""
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                    key=lambda path: int(Path(path).parts[-3]))
    if debian:
        return Path(debian[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise PostgresUnavailable("no PostgreSQL server binaries (initdb, pg_ctl)")


def _run_as_prefix() -> list[str]:
    """Root runs the server as the ``postgres`` user; anyone else runs it as themselves."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(f"running as root and there is no {SERVER_USER!r} user") from None
    return ["runuser", "-u", SERVER_USER, "--"]


@dataclass
class PostgresServer:
    """One server of the test session, reached through a Unix socket in its own folder."""

    bin_dir: Path
    folder: Path
    run_as: list[str]
    admin: psycopg.Connection[tuple[object, ...]] | None = None
    # The bench starts one with the server's own durable defaults instead.
    settings: dict[str, str] = field(default_factory=lambda: dict(SPEED_SETTINGS))
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@/{database}?host={self.folder}"

    @classmethod
    def start(cls, settings: dict[str, str] | None = None) -> PostgresServer:
        """Start a server in a new folder, waiting (``pg_ctl -w``) until it accepts connections;
        a failure here is an error, not a skip: the binaries are there but do not work."""
        bin_dir, run_as = requirements()
        server = cls(bin_dir, Path(tempfile.mkdtemp(prefix="advice-desk-pg-")), run_as)
        if settings is not None:
            server.settings = settings
        if run_as:
            shutil.chown(server.folder, SERVER_USER, SERVER_USER)
        try:
            server._init_cluster()
            server._pg_ctl("start", "-w", "-t", "60", "-l", str(server.folder / "server.log"))
            server.admin = server.connect("postgres")
        except BaseException:
            server.stop()
            raise
        return server

    def _init_cluster(self) -> None:
        self._run("initdb", "-D", str(self.data_dir), "--auth=trust", f"--username={SERVER_USER}",
                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions")
        settings = {**self.settings, "unix_socket_directories": f"'{self.folder}'"}
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run([*self.run_as, str(self.bin_dir / program), *args],
                              cwd=self.folder, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"the test server's {program} failed: {done.stderr.strip()}")

    def _pg_ctl(self, action: str, *args: str) -> None:
        self._run("pg_ctl", action, "-D", str(self.data_dir), *args)

    def connect(self, database: str) -> psycopg.Connection[tuple[object, ...]]:
        import psycopg

        return psycopg.connect(dbname=database, user=SERVER_USER, host=str(self.folder),
                               autocommit=True)

    def create_template(self) -> None:
        """The template every test copies: migrated and seeded by opening it as the app does,
        then closed, since a database cannot be copied while anyone is connected to it."""
        self._execute("CREATE DATABASE {}", TEMPLATE_DATABASE)
        store = open_store(resolve_location(self.folder / "template-data",
                                            self.url(TEMPLATE_DATABASE)))
        store.close()
        self._execute("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false", TEMPLATE_DATABASE)

    def copy_template(self) -> str:
        """A new database, a copy of the migrated template; returns its name."""
        name = f"test_{next(self._names)}"
        # FILE_COPY copies the files whole (with fsync off): a little faster than WAL_LOG here.
        self._execute("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY",
                      name, TEMPLATE_DATABASE)
        return name

    def drop(self, database: str) -> None:
        # FORCE ends the connections of a store the test left open.
        self._execute("DROP DATABASE {} WITH (FORCE)", database)

    def _execute(self, statement: LiteralString, *databases: str) -> None:
        from psycopg import sql

        assert self.admin is not None, "the server is not running"
        self.admin.execute(sql.SQL(statement).format(*map(sql.Identifier, databases)))

    def stop(self) -> None:
        if self.admin is not None:
            self.admin.close()
        if (self.data_dir / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "immediate", "-w")
        shutil.rmtree(self.folder, ignore_errors=True)


@functools.cache
def requirements() -> tuple[Path, list[str]]:
    """The server's binaries and how to run them, or PostgresUnavailable saying what is missing."""
    try:
        import psycopg  # noqa: F401  (the driver the app's URL names)
    except ImportError:
        raise PostgresUnavailable("the psycopg driver is not installed") from None
    return server_bin_dir(), _run_as_prefix()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs on a PostgreSQL server of the session")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the server is marked, so ``-m "not postgres"`` leaves it out."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip the PostgreSQL tests where no server can be had. Raised here rather than in a
    fixture, so pytest reports every such skip under this one line instead of one per test."""
    if item.get_closest_marker("postgres") is None:
        return
    try:
        requirements()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}; {HOW_TO_GET}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's server with its migrated template, started on first use."""
    server = PostgresServer.start()
    try:
        server.create_template()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, migrated database of this test's own."""
    database = postgres_server.copy_template()
    yield postgres_server.url(database)
    postgres_server.drop(database)
