"""Putting a copy back in place of a SQLite store.

In order, each step refusing with a one-line reason before anything is changed:

1. no other process may have the store open: every opening holds a shared claim on it
   (:mod:`advice_desk.store.claim`), which the restore takes exclusively for its whole length
   (the GUI restoring into itself closes its store first);
2. the copy is read with the online backup API into a temporary file in the store's folder
   (0600) and verified there: whole (``integrity_check``), an Advice Desk store, of a schema
   this app knows (an older one is upgraded at the next open, with its before-migration copy);
   the audit anchor sealed inside it is taken out (:mod:`advice_desk.backups.anchors`);
3. the store as it is now is copied to ``backups/before-restore-….sqlite3`` (with the backup
   API; if the store is too damaged for that, its files are copied as they are);
4. the old store's write-ahead log is checkpointed, its ``-wal`` and ``-shm`` removed (a log of
   the old store must never be applied to the new file), and the temporary file, flushed to
   disk, replaces the store with one ``os.replace``: a crash leaves the old or the new store,
   never half of one. The copy's anchor becomes this PC's anchor of the restored store.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from advice_desk.backups import anchors
from advice_desk.backups.copies import (
    BEFORE_RESTORE,
    BackupError,
    CopyInfo,
    Verified,
    _fsync,
    _private_temporary,
    copy_file,
    copy_name,
    fsync_folder,
    make_copy,
    private_folder,
)
from advice_desk.backups.locks import Busy, backup_lock
from advice_desk.backups.server import ServerRestored
from advice_desk.clock import Clock
from advice_desk.paths import Location
from advice_desk.people import audit
from advice_desk.people.permissions import Actor
from advice_desk.store import audit_chain, claim
from advice_desk.store.engine import Store

LOCK_WAIT_S = 600.0  # a restore waits this long for an automatic backup in progress


@dataclass(frozen=True)
class Restored:
    """The restore done: the copy put in place, its calls, and where the old store went."""

    source: Path
    size: int
    calls: int
    revision: str
    previous: CopyInfo | Path | None  # the before-restore copy (None: there was no store)
    tail: str = ""  # why the tail of the restored audit trail cannot be checked ("": it can)


def restore_file(location: Location, source: Path, clock: Clock) -> Restored:
    """Replace the SQLite store of ``location`` with the copy ``source``."""
    store_file = location.sqlite_file
    if store_file is None:
        raise BackupError("a server store is restored with pg_restore (advice-desk restore "
                          "FILE.dump)")
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    if store_file.exists() and source.resolve() == store_file.resolve():
        raise BackupError(f"{source} is the store itself")
    # A new data folder is made private, as an opening makes it (so it is never "tightened").
    store_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with claim.exclusive(store_file):
            folder = private_folder(location.backup_dir)
            with backup_lock(folder, wait_s=LOCK_WAIT_S):
                return _restore(store_file, folder, source, clock)
    except claim.StoreInUse as in_use:
        raise BackupError(f"not restored: {in_use}") from None
    except Busy as busy:
        raise BackupError(str(busy)) from None


def _restore(store_file: Path, folder: Path, source: Path, clock: Clock) -> Restored:
    incoming = _private_temporary(store_file.parent, store_file.name)
    try:
        try:
            verified: Verified = copy_file(source, incoming, with_anchor=False)
        except BackupError as error:
            raise BackupError(f"not restored: {error}") from None
        try:
            anchor, tail = anchors.take_out(incoming)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"not restored: {source.name} cannot be read ({error})") from None
        _fsync(incoming)
        previous = _keep_current(store_file, folder, clock)
        _retire_log(store_file)
        size = incoming.stat().st_size
        os.replace(incoming, store_file)
        fsync_folder(store_file.parent)
        anchors.restore_to(store_file, anchor)
        return Restored(source, size, verified.calls, verified.revision, previous, tail)
    finally:
        incoming.unlink(missing_ok=True)


def _keep_current(store_file: Path, folder: Path, clock: Clock) -> CopyInfo | Path | None:
    """The store as it is, copied aside before it is replaced."""
    if not store_file.exists() or store_file.stat().st_size == 0:
        return None
    try:
        return make_copy(store_file, folder, BEFORE_RESTORE, clock)
    except BackupError:
        pass  # too damaged for the backup API: keep its files as they are
    target = folder / copy_name(BEFORE_RESTORE, clock.now()).replace(".sqlite3",
                                                                        "-damaged.sqlite3")
    for suffix in ("", "-wal"):
        original = Path(f"{store_file}{suffix}")
        if original.exists():
            temporary = _private_temporary(folder, target.name)
            shutil.copyfile(original, temporary)
            os.replace(temporary, Path(f"{target}{suffix}"))
    fsync_folder(folder)
    return target


def _retire_log(store_file: Path) -> None:
    """Fold the old store's write-ahead log into it and remove the log and its index."""
    if store_file.exists():
        with contextlib.suppress(sqlite3.DatabaseError):
            connection = sqlite3.connect(store_file)
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{store_file}{suffix}").unlink(missing_ok=True)


RESTORED = audit_chain.STORE_RESTORED


def record_restore(store: Store, actor: Actor, clock: Clock,
                   restored: Restored | ServerRestored) -> None:
    """Write into the restored store who restored it and when: its trail then says why the
    events after the copy's are missing. The copy is named by its number of calls only (a file
    name a person chose may say whose calls it holds). After a server restore the event also
    names the trail it replaced (its length and newest id), so the other seats' anchors of that
    trail are told from a cut tail (:func:`advice_desk.store.audit_chain.superseding_restore`)."""
    detail: audit.AuditDetail = {"calls": restored.calls}
    if isinstance(restored, ServerRestored) and restored.replaced is not None:
        detail = {**detail, audit_chain.REPLACED_EVENTS: restored.replaced.count,
                  audit_chain.REPLACED_LAST_ID: restored.replaced.event}
    with store.write() as session:
        audit.record(session, clock, actor, RESTORED, "store", detail)
