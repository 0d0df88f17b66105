"""The store's schema: its Alembic revision, the upgrade to the head, the copy made before it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from advice_desk.clock import Clock, to_uk
from advice_desk.store import integrity, modes
from advice_desk.store.errors import StoreError

if TYPE_CHECKING:
    from advice_desk.store.engine import Store

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def schema_head() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no Alembic revisions shipped"
    return head


def current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def migrate(store: Store, clock: Clock) -> None:
    script = ScriptDirectory.from_config(_alembic_config())
    head = schema_head()
    with store.engine.connect() as connection:
        current = current_revision(connection)
        has_tables = bool(sa.inspect(connection).get_table_names())
    if current == head:
        return
    if current is None and has_tables:
        with store.engine.connect() as connection:
            integrity.refuse_foreign_tables(store.location,
                                            sa.inspect(connection).get_table_names())
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise StoreError(
            f"the store {store.location.shown} was written by a newer version of "
            f"Advice Desk (schema {current}); install that version or newer to open it"
        )
    if has_tables:
        backup_before_migration(store, current or "unversioned", clock)
    with store.raw_write() as connection:
        # Checked again under the write lock: another copy of the app may have just migrated.
        if current_revision(connection) != head:
            command.upgrade(_alembic_config(connection), "head")


def backup_before_migration(store: Store, revision: str, clock: Clock) -> Path | None:
    """Copy the SQLite file aside before its schema changes, with SQLite's online backup API."""
    source_file = store.location.sqlite_file
    if source_file is None:
        return None  # a server database is backed up by its own tools
    stamp = to_uk(clock.now()).strftime("%Y%m%d-%H%M%S")
    target = store.location.backup_dir / f"before-migration-{revision}-{stamp}.sqlite3"
    modes.private_folder(target.parent)
    modes.create_private_file(target)
    source, copy = sqlite3.connect(source_file), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target
