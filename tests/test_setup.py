"""``advice-desk setup`` on a real PostgreSQL server (and on SQLite, the same operation), and
``advice-desk connect``: the schema and the first supervisor, once; a database that is not ours,
newer, or out of reach refused in one line; the password never on a command line, in a setting,
in the output or in a log; each PC pointed at the server by a setting of its own."""

from __future__ import annotations

import io
import itertools
import logging
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from advice_desk.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from advice_desk.cli.main import main
from advice_desk.clock import SystemClock
from advice_desk.paths import DATA_DIR_ENV, DATABASE_URL_ENV, resolve_location, saved_url_file
from advice_desk.people import accounts
from advice_desk.store.engine import open_store
from advice_desk.store.schema import schema_head
from tests.postgres import PostgresServer

PASSWORD = "tea-and-biscuits-42"
SETUP = ["setup", "--supervisor", "sam", "--full-name", "Sam Supervisor"]
_names = itertools.count(1)


@pytest.fixture
def empty_database(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database on the session's server (as createdb leaves it)."""
    from psycopg import sql

    name = f"setup_{next(_names)}"
    assert postgres_server.admin is not None
    postgres_server.admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield postgres_server.url(name)
    postgres_server.drop(name)


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def tables_and_rows(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        counts = {name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                  for name in names}
    engine.dispose()
    return counts


def test_setup_builds_a_server_store_and_its_first_supervisor_once(
        empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = ["--data-dir", str(tmp_path), "--database-url", empty_database]
    assert run([*store, *SETUP], monkeypatch, f"{PASSWORD}\n") == EXIT_OK
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"Set up the store {empty_database}: schema {schema_head()} built, first supervisor "
        "sam (Sam Supervisor).",
        f"Point each PC at it with: advice-desk connect {empty_database}"]
    assert err == ""
    opened = open_store(resolve_location(tmp_path, empty_database))
    try:
        assert accounts.sign_in(opened, "sam", PASSWORD, SystemClock()).is_supervisor
    finally:
        opened.close()
    before = tables_and_rows(empty_database)

    assert run([*store, *SETUP], monkeypatch) == EXIT_OK  # nothing read: no password asked
    out, err = capsys.readouterr()
    assert out == (f"The store {empty_database} is ready (schema {schema_head()}, supervisor "
                   "sam); nothing was changed.\n")
    assert tables_and_rows(empty_database) == before
    assert PASSWORD not in caplog.text + out + err
    assert not list(tmp_path.iterdir())  # a server store leaves nothing in the data folder


def test_setup_upgrades_a_store_that_already_has_its_supervisor(
        postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The template store of the tests (migrated, no supervisor yet) then one set back to 0008
    (what 0009 and 0010 add taken out)."""
    store = ["--data-dir", str(tmp_path), "--database-url", postgres_url]
    assert run([*store, *SETUP], monkeypatch, PASSWORD) == EXIT_OK
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP FUNCTION advice_desk_notify_change() CASCADE"))
        connection.execute(sa.text('ALTER TABLE "call" DROP COLUMN version, '
                                   "DROP COLUMN updated_by_id"))
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0008'"))
    engine.dispose()
    capsys.readouterr()
    assert run([*store, *SETUP], monkeypatch) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[0] == (
        f"The store {postgres_url} is ready: schema upgraded from 0008 to {schema_head()}; it "
        "already had its supervisor.")


def test_setup_leaves_a_database_of_another_program_alone(
        empty_database: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    engine = sa.create_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE invoice (id integer PRIMARY KEY)"))
    assert run(["--database-url", empty_database, *SETUP], monkeypatch, PASSWORD) == EXIT_FAILED
    assert capsys.readouterr().err == (
        f"advice-desk: error: the database {empty_database} belongs to something else: it "
        "holds tables that are not Advice Desk's (invoice) and no Advice Desk schema; it is "
        "left as it is: give setup an empty database\n")
    with engine.begin() as connection:  # another program's Alembic, too
        connection.execute(sa.text("CREATE TABLE alembic_version (version_num varchar(32))"))
        connection.execute(sa.text("INSERT INTO alembic_version VALUES ('4f2a9c1b7d3e')"))
    assert run(["--database-url", empty_database, *SETUP], monkeypatch, PASSWORD) == EXIT_FAILED
    assert "its schema revision 4f2a9c1b7d3e is not Advice Desk's (tables invoice)" in (
        capsys.readouterr().err)
    assert tables_and_rows(empty_database) == {"invoice": 0, "alembic_version": 1}
    engine.dispose()


def test_setup_refuses_a_store_of_a_newer_advice_desk(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0042'"))
    engine.dispose()
    assert run(["--database-url", postgres_url, *SETUP], monkeypatch, PASSWORD) == EXIT_FAILED
    assert capsys.readouterr().err == (
        f"advice-desk: error: the store {postgres_url} was written by a newer version of "
        "Advice Desk (schema 0042); install that version or newer on this PC\n")


def test_setup_says_in_one_line_when_the_server_cannot_be_reached(
        postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    nowhere = f"postgresql+psycopg://postgres@/advice?host={tmp_path}"  # no server there
    assert run(["--database-url", nowhere, *SETUP], monkeypatch, PASSWORD) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith(f"advice-desk: error: cannot connect to the database {nowhere}: the "
                          "server did not answer (No such file or directory); check the host")
    assert err.count("\n") == 1
    missing = postgres_server.url("no_such_database")
    assert run(["--database-url", missing, *SETUP], monkeypatch, PASSWORD) == EXIT_FAILED
    assert capsys.readouterr().err == (
        f"advice-desk: error: cannot connect to the database {missing}: there is no such "
        "database on that server: create it first (createdb --owner USER NAME, as the postgres "
        "user)\n")


def test_a_url_naming_a_driver_that_is_not_installed_is_said_so(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg2://sam@office-server/advice"  # not installed here
    assert run(["--database-url", url, *SETUP], monkeypatch, PASSWORD) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == (
        f"advice-desk: error: the database URL {url} names a driver that is not installed or "
        "not known (use postgresql+psycopg://USER@HOST/DATABASE)\n")


def test_setup_on_sqlite_is_the_same_operation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "data"
    assert run(["--data-dir", str(folder), *SETUP], monkeypatch, PASSWORD + "\r\n") == EXIT_OK
    assert capsys.readouterr().out == (
        f"Set up the store {folder / 'advice-desk.sqlite3'}: schema {schema_head()} built, "
        "first supervisor sam (Sam Supervisor).\n")
    assert run(["--data-dir", str(folder), *SETUP], monkeypatch) == EXIT_OK
    assert "is ready" in capsys.readouterr().out
    opened = open_store(resolve_location(folder))
    try:
        accounts.sign_in(opened, "sam", PASSWORD, SystemClock())  # the \r\n was not kept
    finally:
        opened.close()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("typed", "said"), [
    ([PASSWORD, PASSWORD + "x"], "the two passwords differ; nothing was changed"),
    (["short", "short"], "the first supervisor cannot be added: password: use at least 8 "
                         "characters; nothing was changed"),
])
def test_on_a_terminal_the_password_is_asked_twice_before_anything_is_written(
        typed: list[str], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(typed)
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or next(answers))
    monkeypatch.setattr(sys, "stdin", Terminal())
    assert main(["--data-dir", str(tmp_path / "data"), *SETUP]) == EXIT_BAD_INPUT
    assert prompts == ["Password for the first supervisor: ", "The same password again: "]
    assert capsys.readouterr().err == f"advice-desk: error: {said}\n"
    assert not (tmp_path / "data").exists()


def test_setup_without_the_supervisor_s_names_says_what_to_give(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--data-dir", str(tmp_path / "data"), "setup"], monkeypatch) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == (
        "advice-desk: error: this store has no supervisor yet: give --supervisor USER and "
        "--full-name NAME (the password is then read from standard input)\n")


def test_setup_refuses_a_url_with_a_password_before_reading_anything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql+psycopg://sam:{PASSWORD}@office-server/advice"
    assert run(["--database-url", url, *SETUP], monkeypatch, PASSWORD) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert PASSWORD not in err and "sam:***@office-server" in err
    assert sys.stdin.read() == PASSWORD  # not read


# --- connect: this PC's server ----------------------------------------------------------------

def test_connect_points_this_pc_at_a_server_store_that_was_set_up(
        postgres_url: str, tmp_path: Path, config_folder: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--data-dir", str(tmp_path), "connect", postgres_url], monkeypatch) == EXIT_FAILED
    assert "is not set up yet: run advice-desk --database-url" in capsys.readouterr().err
    assert not saved_url_file().exists()
    assert run(["--data-dir", str(tmp_path), "--database-url", postgres_url, *SETUP],
               monkeypatch, PASSWORD) == EXIT_OK
    capsys.readouterr()

    assert run(["connect", postgres_url], monkeypatch) == EXIT_OK
    assert capsys.readouterr().out == (f"This PC now uses the store {postgres_url}; saved in "
                                       f"{config_folder / 'database-url'}.\n")
    assert stat.S_IMODE(saved_url_file().stat().st_mode) == 0o600
    assert saved_url_file().read_text(encoding="utf-8") == postgres_url + "\n"
    assert resolve_location().database_url == postgres_url  # every start and command
    assert run(["report", "--date", "2026-11-23", "--format", "json"], monkeypatch) == EXIT_OK
    assert '"total_calls": 0' in capsys.readouterr().out
    assert run(["connect"], monkeypatch) == EXIT_OK
    assert capsys.readouterr().out == (f"This PC uses {postgres_url} (saved in "
                                       f"{config_folder / 'database-url'}).\n")

    # What comes first: --database-url, then the variable, then a folder named on purpose.
    other = "postgresql+psycopg://amy@elsewhere/advice"
    assert resolve_location(None, other).database_url == other
    monkeypatch.setenv(DATABASE_URL_ENV, other)
    assert resolve_location().database_url == other
    monkeypatch.delenv(DATABASE_URL_ENV)
    assert resolve_location(tmp_path).sqlite_file == tmp_path / "advice-desk.sqlite3"
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert resolve_location().sqlite_file == tmp_path / "advice-desk.sqlite3"
    monkeypatch.delenv(DATA_DIR_ENV)

    assert run(["connect", "--forget"], monkeypatch) == EXIT_OK
    assert capsys.readouterr().out.startswith(f"Forgot the server {postgres_url}; this PC uses ")
    assert not saved_url_file().exists()
    assert resolve_location().sqlite_file is not None


@pytest.mark.parametrize("url", [
    f"postgresql+psycopg://sam:{PASSWORD}@office-server/advice",
    f"postgresql+psycopg://sam@office-server/advice?sslmode=require&password={PASSWORD}",
])
def test_connect_never_saves_a_password(url: str, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["connect", url], monkeypatch) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert PASSWORD not in err and ".pgpass file (named by PGPASSFILE, mode 0600)" in err
    assert not saved_url_file().exists()


def test_a_saved_url_that_was_given_a_password_by_hand_is_refused(
        config_folder: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (config_folder / "database-url").write_text(
        f"postgresql+psycopg://sam:{PASSWORD}@office-server/advice\n", encoding="utf-8")
    assert run(["hours"], monkeypatch) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert PASSWORD not in err and "holds a password" in err


# --- TLS --------------------------------------------------------------------------------------

def test_tls_settings_in_the_url_reach_the_driver() -> None:
    from advice_desk.store.engines import create_engine

    url = ("postgresql+psycopg://amy@office-server/advice_desk?sslmode=verify-full"
           "&sslrootcert=/etc/advice-desk/office-ca.pem")
    engine = create_engine(url)
    _args, options = engine.dialect.create_connect_args(engine.url)
    engine.dispose()
    assert options["sslmode"] == "verify-full"
    assert options["sslrootcert"] == "/etc/advice-desk/office-ca.pem"
    assert options["host"] == "office-server" and "password" not in options
