"""Schema migrations: every saved store of an old revision upgrades with its calls intact,
and the Alembic revisions build exactly the schema the models describe.

tests/fixtures/store-<rev>.sqlite3 are stores saved at each schema revision, with what they must
read back as in store-<rev>.json; tests/fixtures/make_fixtures.py wrote them. When a revision is
added, save a store of the previous head first (see that script), so this test covers it forever.
On PostgreSQL each saved store is rebuilt on the server at its revision (Alembic builds the
schema, the file's rows are copied in) and then upgraded the same way.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel, func, select

import advice_desk.store.models  # noqa: F401  (the tables, on SQLModel.metadata)
from advice_desk.calls.drafts import Drafts
from advice_desk.calls.service import Calls
from advice_desk.clock import UK, FixedClock
from advice_desk.paths import Location
from advice_desk.people import audit
from advice_desk.people.permissions import Actor, Role
from advice_desk.store.engine import open_store
from advice_desk.store.models import Call, Topic, User
from advice_desk.store.schema import MIGRATIONS_DIR, current_revision, schema_head
from advice_desk.store.search_index import in_models_schema
from tests.support import ANY_TIME, SUPERVISOR

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAVED_STORES = sorted(FIXTURES.glob("store-*.sqlite3"))


def _revision_of(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True) as db:
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    db.close()
    return revision


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def test_there_is_a_saved_store_of_every_revision() -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    revisions = {rev.revision for rev in script.walk_revisions()}
    saved = {path.name.removeprefix("store-").removesuffix(".sqlite3") for path in SAVED_STORES}
    assert saved == revisions
    for path in SAVED_STORES:
        assert _revision_of(path) == path.name.removeprefix("store-").removesuffix(".sqlite3")
        assert path.with_suffix(".json").is_file()
        assert not Path(f"{path}-wal").exists(), "checkpoint the fixture into one file"
        assert path.stat().st_size < 512 * 1024, "keep the fixtures small"


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _rebuild_on_the_server(saved: Path, location: Location) -> None:
    """The saved store, rebuilt on the (migrated, empty) server database of ``location``: its
    schema taken back to the saved revision by Alembic, then every row of the file copied in."""
    revision = _revision_of(saved)
    server = sa.create_engine(location.database_url)
    source = sa.create_engine(f"sqlite:///file:{saved}?mode=ro&immutable=1&uri=true")
    try:
        with server.begin() as connection:
            command.downgrade(_alembic_config(connection), "base")
            command.upgrade(_alembic_config(connection), revision)
        tables = sa.MetaData()
        tables.reflect(server)
        with server.begin() as target, source.connect() as rows:
            for table in tables.sorted_tables:  # parents before children
                if table.name == "alembic_version":
                    continue
                # Read through the server's column types, so that SQLite's text and integers
                # come back as the datetimes, dates and booleans the server columns take.
                found = [dict(row._mapping) for row in rows.execute(sa.select(table))]
                if found:
                    target.execute(table.insert(), found)
                if "id" in table.c:  # the rows came with their ids: move the sequence on
                    target.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM \"{table.name}\"), false)")
    finally:
        source.dispose()
        server.dispose()


@pytest.mark.parametrize("saved", SAVED_STORES, ids=lambda path: path.stem)
def test_a_saved_store_upgrades_with_its_calls(saved: Path, location: Location,
                                               clock: FixedClock) -> None:
    """On SQLite the saved file itself is opened; on PostgreSQL the same store is rebuilt at
    its revision on the server first."""
    expected: dict[str, Any] = json.loads(saved.with_suffix(".json").read_text("utf-8"))
    revision = _revision_of(saved)
    assert revision == expected["revision"]
    if location.sqlite_file is not None:
        location.data_dir.mkdir()
        shutil.copyfile(saved, location.sqlite_file)
    else:
        _rebuild_on_the_server(saved, location)
        with sa.create_engine(location.database_url).connect() as connection:
            assert current_revision(connection) == revision

    store = open_store(location, clock)
    try:
        with store.read() as session:
            assert current_revision(session.connection()) == schema_head()
            assert session.exec(select(func.count()).select_from(Call)).one() == len(
                expected["calls"])
            assert session.exec(select(func.count()).select_from(Topic)).one() == expected[
                "topic_count"]
            assert sorted(session.exec(select(User.username))) == sorted(expected["users"])
        for want in expected["calls"]:
            got = Calls(store, SUPERVISOR, ANY_TIME).get(want["id"])
            details = got.details
            assert got.kind == want["kind"]
            assert got.worker_id == want["worker_id"]
            assert got.in_hours == want["in_hours"]
            assert got.review_note == want["review_note"]
            assert got.reviewed_at == _instant(want["reviewed_at"])
            assert got.version == 1  # 0009: every call stored before starts at version 1
            assert details.started_at == _instant(want["started_at"])
            assert details.ended_at == _instant(want["ended_at"])
            assert details.follow_up_on == _day(want["follow_up_on"])
            for name in ("channel", "direction", "caller_type", "arrangement",
                         "local_authority", "children_count", "follow_up_note", "safeguarding",
                         "first_time_caller", "how_heard", "consent_to_store_details",
                         "caller_name", "caller_phone", "caller_email", "caller_postcode",
                         "notes"):
                assert getattr(details, name) == want[name], name
            assert ";".join(details.children_age_bands) == (want["children_age_bands"] or "")
            assert list(details.topics) == want["topics"]  # the primary topic first
            assert set(details.outcomes) == set(want["outcomes"])
            assert sorted(details.referred_to) == sorted(want["referred_to"])
        owner = Actor(expected["draft"]["user_id"], "worker", "Worker", Role.WORKER)
        draft = Drafts(store, owner, clock).load()
        assert draft is not None
        assert draft.payload == expected["draft"]["payload"]
        assert draft.updated_at == _instant(expected["draft"]["updated_at"])
        # New rows get new ids after the stored ones.
        added = Calls(store, owner, clock).log_non_data("silent")
        assert added > max((want["id"] for want in expected["calls"]), default=0)
        # The events stored before the trail was chained were chained by the upgrade (0006)
        # and verify, and the trail goes on from them.
        verdict = audit.verify(store)
        assert verdict.ok, verdict
        assert verdict.count == expected.get("audit_events", 0)
        audit_trail_event(store, clock)
        assert audit.verify(store).count == expected.get("audit_events", 0) + 1
    finally:
        store.close()

    backups = sorted(location.backup_dir.glob("*.sqlite3")) if location.backup_dir.exists() else []
    if revision == schema_head() or location.sqlite_file is None:
        assert backups == []  # a server database is backed up by its own tools
    else:
        # The backup was taken before the upgrade: it still holds the old revision.
        assert len(backups) == 1
        assert revision in backups[0].name
        assert _revision_of(backups[0]) == revision


def audit_trail_event(store, clock: FixedClock) -> None:
    with store.write() as session:
        audit.record(session, clock, SUPERVISOR, "settings-changed", "settings",
                     {"changed": ["retention_months"]})


def test_migrations_build_exactly_the_models_schema(store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True,
                        "include_name": in_models_schema})
        differences = compare_metadata(context, SQLModel.metadata)
    # Nothing is ignored but the search index (no model: migration 0004): an empty list means
    # every table, column, type, nullability, index, unique and foreign key of the models is
    # made by the migrations, and nothing else is.
    assert differences == []


def test_the_migrations_have_one_head_and_go_down_and_up_again(store) -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert script.get_heads() == [schema_head()]
    store.close()
    with store.engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "base")
    with store.engine.connect() as connection:
        assert current_revision(connection) is None
        assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
    with store.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    with store.engine.connect() as connection:
        assert current_revision(connection) == schema_head()
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": in_models_schema})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrading_to_0002_works_out_the_uk_start_of_old_calls(location: Location) -> None:
    saved = FIXTURES / "store-0001.sqlite3"
    if location.sqlite_file is not None:
        location.data_dir.mkdir()
        shutil.copy(saved, location.sqlite_file)
    else:
        _rebuild_on_the_server(saved, location)
    store = open_store(location)
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text(
            "select started_at, local_date, local_minute from call")).all()
    store.close()
    assert rows
    for started_at, local_date, local_minute in rows:
        # sqlite3 gives the stored text, psycopg a datetime and a date.
        naive = started_at if isinstance(started_at, datetime) else datetime.fromisoformat(
            started_at)
        local = naive.replace(tzinfo=UTC).astimezone(UK)
        assert (str(local_date), local_minute) == (local.date().isoformat(),
                                                   local.hour * 60 + local.minute)


def test_the_audit_trail_refuses_updates_and_deletes(store) -> None:
    with store.engine.begin() as connection:
        connection.execute(sa.text(
            "insert into audit_event (at, actor, action) values ('2026-11-23 10:00:00', 'amy', "
            "'sign-in')"))
    for statement in ("update audit_event set actor = 'bob'", "delete from audit_event"):
        with pytest.raises(sa.exc.DatabaseError, match="the audit trail cannot be changed"), \
                store.engine.begin() as connection:
            connection.execute(sa.text(statement))
