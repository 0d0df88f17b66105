"""Backing up and restoring a server store (PostgreSQL) with its own tools.

Seats of a server store make no automatic copies (they would spread everyone's data over every
PC); the server's administrator backs it up. ``advice-desk backup --out FILE`` runs
``pg_dump --format=custom`` and ``advice-desk restore FILE`` runs ``pg_restore --clean
--single-transaction``, after checking that the dump holds the schema of this version of the
app (its ``alembic_version`` row, read with ``pg_restore --data-only -t alembic_version``) and
that no other session is connected to the database, and after dumping the database as it is to
``before-restore-….dump`` beside the dump being restored. The tools are found on ``PATH``, else
in ``/usr/lib/postgresql/N/bin`` (the newest N). No password is ever passed: as for the app,
it comes from a ``.pgpass`` file. A tool's error output is never shown (it may quote stored
values): a failure is said by its exit code and what to do.

After a restore, this PC's audit anchor is the restored trail's newest event, and the caller
writes a ``store-restored`` event naming the trail it replaced; the other seats' anchors of
that trail are accepted as superseded by it (see
:func:`advice_desk.store.audit_chain.superseding_restore`). A dump carries no anchor of its
own: the tail of the restored trail is checked from the restore on.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from advice_desk.backups.copies import BackupError, copy_name, fsync_folder
from advice_desk.clock import Clock
from advice_desk.store import audit_anchor, audit_chain
from advice_desk.store.audit_anchor import Anchor
from advice_desk.store.engine import Store
from advice_desk.store.schema import current_revision, schema_head

_COPY_LINE = "COPY public.alembic_version"


@dataclass(frozen=True)
class Dumped:
    path: Path
    size: int
    calls: int


def tool(name: str) -> str:
    """The path of ``pg_dump`` or ``pg_restore``; BackupError saying how to get it."""
    on_path = shutil.which(name)
    if on_path:
        return on_path
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit()
                   else 0)
    if found:
        return found[-1]
    raise BackupError(f"{name} was not found: install the PostgreSQL client tools "
                      "(e.g. apt-get install postgresql-client)")


def libpq_url(store: Store) -> str:
    """The store's URL as libpq reads it (``postgresql://…``, without SQLAlchemy's driver)."""
    url = sa.make_url(store.location.database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=True)


TRY_BY_HAND = ("check that the server is running and that this PC may connect to it (its "
               ".pgpass); to see why, run {what} by hand")


def _run(command: list[str], what: str, advice: str = TRY_BY_HAND) -> str:
    """Run a PostgreSQL tool. Its error output is never shown nor logged: a COPY data error
    quotes the row, personal values and all. The failure is said by its kind (the exit
    code) and what to do."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL)
    except OSError as error:
        raise BackupError(f"{what} could not be run: {error.strerror or error}") from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}): "
                          f"{advice.format(what=what)}")
    return done.stdout


def _calls(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.exec_driver_sql('SELECT count(*) FROM "call"').scalar_one())


def dump(store: Store, out: Path) -> Dumped:
    """``pg_dump --format=custom`` of the store to ``out``, whole or not at all, mode 0600."""
    out = out.resolve()
    if not out.parent.is_dir():
        raise BackupError(f"cannot write {out}: its folder does not exist")
    temporary = out.with_name(f".{out.name}.part")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        _run([tool("pg_dump"), "--format=custom", "--no-owner", f"--file={temporary}",
              f"--dbname={libpq_url(store)}"], "pg_dump")
        calls = _calls(store)
        os.replace(temporary, out)
        fsync_folder(out.parent)
    except OSError as error:
        raise BackupError(f"cannot write {out}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return Dumped(out, out.stat().st_size, calls)


def dump_revision(path: Path) -> str:
    """The schema revision a custom-format dump holds; BackupError when it is no dump of an
    Advice Desk store."""
    check = _run([tool("pg_restore"), "--list", str(path)], "pg_restore")
    if "TABLE public alembic_version" not in check and " alembic_version " not in check:
        raise BackupError(f"{path.name} is not a dump of an Advice Desk store (no schema "
                          "version in it)")
    data = _run([tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-",
                 str(path)], "pg_restore")
    lines = data.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(_COPY_LINE) and index + 1 < len(lines) and lines[index + 1] != "\\.":
            return lines[index + 1].strip()
    raise BackupError(f"{path.name} is not a dump of an Advice Desk store (no schema version "
                      "in it)")


def _other_sessions(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()").scalar_one())


@dataclass(frozen=True)
class ServerRestored:
    source: Path
    size: int
    calls: int
    previous: Path
    replaced: Anchor | None = None  # the newest event of the trail the restore replaced


def restore_dump(store: Store, source: Path, clock: Clock) -> ServerRestored:
    """Replace the server store's tables with those of the dump ``source``."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    try:
        revision = dump_revision(source)
    except BackupError as error:
        if "pg_restore failed" in str(error):
            raise BackupError(f"{source.name} is not a PostgreSQL dump of an Advice Desk "
                              "store (pg_restore cannot read it)") from None
        raise
    with store.engine.connect() as connection:
        here = current_revision(connection)
    head = schema_head()
    if revision != head or here != head:
        raise BackupError(f"{source.name} holds schema {revision} but this version of Advice "
                          f"Desk uses {head}: restore it with the version that made it")
    # The store's own engine is closed first, so its pooled sessions do not count.
    store.engine.dispose()
    others = _other_sessions(store)
    store.engine.dispose()
    if others:
        raise BackupError(f"{others} other session(s) are connected to the database: close "
                          "Advice Desk on every PC and restore again")
    previous = source.resolve().parent / copy_name("before-restore", clock.now()).replace(
        ".sqlite3", ".dump")
    dump(store, previous)
    store.engine.dispose()
    replaced = _head(store)
    _run([tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", f"--dbname={libpq_url(store)}", str(source)], "pg_restore",
         "nothing was changed (it runs as one transaction); the store as it was is in "
         f"{previous}. To see why, run pg_restore by hand on a scratch database")
    _after_restore(store, replaced)
    return ServerRestored(source, source.stat().st_size, _calls(store), previous, replaced)


def _head(store: Store) -> Anchor | None:
    with store.engine.connect() as connection:
        return audit_chain.chain_head(connection)


def _after_restore(store: Store, replaced: Anchor | None) -> None:
    """Move the audit trail's id sequence past every event of the trail the restore replaced
    (so the ``store-restored`` event the caller writes next, and everything after it, comes
    after them: other seats' anchors of the replaced trail are then told from a cut tail), and
    make this PC's anchor the restored trail's newest event: the restore legitimately made the
    trail shorter than what this PC saw."""
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('audit_event', 'id'), "
            "GREATEST(%(last)s, (SELECT coalesce(max(id), 0) FROM audit_event), 1))",
            {"last": 0 if replaced is None else replaced.event})
        head = audit_chain.chain_head(connection)
        the_store = audit_chain.store_id(connection)
    path = audit_anchor.anchor_path(the_store)
    if head is None:
        path.unlink(missing_ok=True)
    else:
        audit_anchor.write_anchor(path, head, only_forward=False)
