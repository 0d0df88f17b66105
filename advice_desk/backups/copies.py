"""Making, verifying and listing copies of a SQLite store; pruning them; the automatic backup.

A copy is made with SQLite's online backup API in one step (a read snapshot: writers carry on
in WAL mode while it is taken), into a temporary file of the backup folder (0600, the folder
0700), switched to a single-file journal, checked with ``PRAGMA integrity_check`` and as an
Advice Desk store, flushed to disk, and only then renamed into place: a copy that is listed has
been verified once. Its time is in its name (``backup-20261201T161500Z.sqlite3``, UTC), so the
tiers never depend on file times; the names and their listing are
:mod:`advice_desk.store.copy_names`, shared with a failed check's message.

Copies in the backup folder:
- ``backup-…``: the tiered copies (automatic, or made from the Backups window);
- ``before-restore-…``: the store as it was before a restore put a copy in its place;
- ``before-migration-REV-…``: the store before a schema upgrade (made by the store's opening).

Pruning runs only once the newest tiered copy passed ``integrity_check``: a damaged newest copy
stops it, so a fault that damages copies never costs the older good ones. It also removes the
``<copy>.anchor`` files of earlier builds whose copy is gone or carries its anchor inside.
The tiers are :mod:`advice_desk.backups.tiers`. A before-restore or before-migration copy is
kept for :data:`SAFETY_COPY_DAYS` days, and the newest of each kind always: they undo one step,
and by then the daily, weekly and monthly copies cover the time.

Whether the store changed since the newest copy is told by a fingerprint read from both (count
and highest id of the calls and of the audit trail): every change that matters adds a call or an
audit event (an edit, a review, an erasure and a setting are audited; a draft is not, and is not
worth a copy). It is cheap (two counts on indexes) and, unlike ``PRAGMA data_version`` (one
connection's view) or file times (a checkpoint changes the file without a change of content),
it means the same thing in every process and after a restart.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from advice_desk.backups import anchors
from advice_desk.backups.locks import Busy, backup_lock
from advice_desk.backups.tiers import Tiers, copies_to_keep
from advice_desk.clock import Clock
from advice_desk.store.copy_names import BEFORE_MIGRATION as BEFORE_MIGRATION
from advice_desk.store.copy_names import BEFORE_RESTORE as BEFORE_RESTORE
from advice_desk.store.copy_names import SUFFIX as SUFFIX
from advice_desk.store.copy_names import TIERED as TIERED
from advice_desk.store.copy_names import copies as _copies
from advice_desk.store.copy_names import copy_name as copy_name
from advice_desk.store.copy_names import parse as parse_copy_name
from advice_desk.store.engine import Store
from advice_desk.store.failures import Kind, failure_of, on_disk
from advice_desk.store.schema import MIGRATIONS_DIR

SQLITE_MAGIC = b"SQLite format 3\x00"
SAFETY_COPY_DAYS = 90
OLD_ANCHOR_SUFFIX = ".anchor"  # a copy's audit anchor beside it, as earlier builds kept it
Fingerprint = tuple[int, int, int, int]


class BackupError(Exception):
    """A copy cannot be made, verified or restored; the message is one line saying why.
    ``damaged``: the file being copied or checked is itself damaged (when it is the store,
    the desk stops, as after a failed check)."""

    def __init__(self, message: str, *, damaged: bool = False) -> None:
        super().__init__(message)
        self.damaged = damaged


def _database_error(name: str, error: sqlite3.DatabaseError, folder: Path, doing: str
                    ) -> BackupError:
    """A SQLite error while copying or checking ``name``, by its kind: a full disk or a
    read-only folder is said so, and only damage is called damage."""
    failure = failure_of(error)
    kind = on_disk(failure, folder).kind if failure is not None else Kind.OTHER
    if kind is Kind.DISK_FULL:
        return BackupError(f"cannot {doing}: the disk is full; free some space on that disk, "
                           "then try again")
    if kind is Kind.READ_ONLY:
        return BackupError(f"cannot {doing}: this account may not read {name} or may not "
                           f"write its folder; ask whoever looks after this PC for access")
    if kind is Kind.LOCKED:
        return BackupError(f"cannot {doing}: the store is busy; try again in a moment")
    if kind is Kind.DISK:
        return BackupError(f"cannot {doing}: the disk could not be read or written (failing, "
                           "or full); check the disk, then try again")
    return BackupError(f"{name} is damaged or not an Advice Desk store ({error})", damaged=True)


@dataclass(frozen=True)
class Verified:
    """A file checked whole and found to be an Advice Desk store."""

    revision: str
    calls: int
    fingerprint: Fingerprint


@dataclass(frozen=True)
class CopyInfo:
    """One copy in the backup folder. ``calls`` is None when the copy cannot be read."""

    path: Path
    kind: str
    made_at: datetime  # UTC
    size: int
    calls: int | None


@dataclass(frozen=True)
class AutoOutcome:
    """What an automatic backup did: ``made`` the new copy (None when none was needed),
    ``pruned`` the copies removed, ``reason`` in words when nothing was made or pruned."""

    made: CopyInfo | None
    pruned: list[Path]
    reason: str


# --- the folder and its files -------------------------------------------------------------


def private_folder(folder: Path) -> Path:
    """The folder, created 0700 if missing (and tightened to it if it was looser)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        with contextlib.suppress(OSError):
            folder.chmod(0o700)
    return folder


def _private_temporary(folder: Path, name: str) -> Path:
    """An empty file of this process beside ``name`` in ``folder``, mode 0600 from the start."""
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(handle)  # mkstemp creates it 0600
    return Path(temporary)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- verifying ------------------------------------------------------------------------------


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        yield connection
    finally:
        connection.close()


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every schema revision this version of the app can open (its head and those before)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(script.revision
                     for script in ScriptDirectory.from_config(config).walk_revisions())


def fingerprint_of(connection: sqlite3.Connection) -> Fingerprint:
    row = connection.execute(
        'SELECT (SELECT count(*) FROM "call"), (SELECT coalesce(max(id), 0) FROM "call"), '
        "(SELECT count(*) FROM audit_event), (SELECT coalesce(max(id), 0) FROM audit_event)"
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def check_header(path: Path, name: str) -> None:
    """A SQLite database file at all? :class:`BackupError` otherwise."""
    try:
        with path.open("rb") as file:
            magic = file.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BackupError(f"cannot read {name}: {error.strerror or error}") from None
    if magic != SQLITE_MAGIC:
        raise BackupError(f"{name} is not an Advice Desk store (not a SQLite database)")


def verify(path: Path, *, full: bool = True, shown: str | None = None) -> Verified:
    """Check that ``path`` is a whole Advice Desk store that this app can open;
    :class:`BackupError` with the one-line reason (naming the file as ``shown``) otherwise.
    ``full=False`` skips the ``integrity_check`` (for listing)."""
    name = shown or path.name
    check_header(path, name)
    try:
        with _read_only(path) as connection:
            if full:
                problems = [row[0] for row in connection.execute("PRAGMA integrity_check(5)")]
                if problems != ["ok"]:
                    raise BackupError(f"{name} is damaged (integrity check: {problems[0]})",
                                      damaged=True)
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"alembic_version", "call", "audit_event"} <= tables:
                raise BackupError(f"{name} is not an Advice Desk store (it has no calls table "
                                  "or schema version)")
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = "" if row is None else str(row[0])
            if revision not in known_revisions():
                raise BackupError(
                    f"{name} was written by a newer version of Advice Desk (schema "
                    f"{revision or 'unknown'}); install that version or newer to restore it")
            found = fingerprint_of(connection)
    except sqlite3.DatabaseError as error:
        raise _database_error(name, error, path.parent, f"check {name}") from None
    return Verified(revision, found[0], found)


# --- making copies --------------------------------------------------------------------------


def copy_file(source: Path, target: Path, *, with_anchor: bool = True) -> Verified:
    """Copy the SQLite store ``source`` to ``target`` with the online backup API, verified,
    written whole or not at all, mode 0600, with its audit anchor sealed inside
    (:mod:`advice_desk.backups.anchors`; not when the copy is not a backup but a store being
    restored). The target's folder must exist."""
    check_header(source, source.name)
    temporary = _private_temporary(target.parent, target.name)
    anchor = anchors.live_anchor(source) if with_anchor else None  # read before the snapshot
    try:
        with _read_only(source) as reading:
            copy = sqlite3.connect(temporary)
            try:
                reading.backup(copy)  # one step: a consistent snapshot of the store
                copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
                if with_anchor:
                    anchors.seal_into(copy, anchor)  # our own copy file, not the store
            finally:
                copy.close()
        verified = verify(temporary, shown=source.name)
        _fsync(temporary)
        os.replace(temporary, target)
        fsync_folder(target.parent)
        return verified
    except sqlite3.DatabaseError as error:
        raise _database_error(source.name, error, target.parent,
                              f"copy {source.name}") from None
    finally:
        temporary.unlink(missing_ok=True)


def info(path: Path, kind: str, made_at: datetime) -> CopyInfo:
    try:
        calls: int | None = verify(path, full=False).calls
    except BackupError:
        calls = None
    return CopyInfo(path, kind, made_at, path.stat().st_size, calls)


def list_copies(folder: Path) -> list[CopyInfo]:
    """Every copy in the backup folder, newest first, with its size and number of calls."""
    return [info(path, kind, made_at) for path, kind, made_at in _copies(folder)]


def newest_copy(folder: Path) -> Path | None:
    return next((path for path, kind, _ in _copies(folder) if kind == TIERED), None)


def make_copy(store_file: Path, folder: Path, kind: str, clock: Clock) -> CopyInfo:
    """A new verified copy of the store in the backup folder, named after the clock's now."""
    private_folder(folder)
    made_at = clock.now().replace(microsecond=0)
    target = folder / copy_name(kind, made_at)
    verified = copy_file(store_file, target)
    return CopyInfo(target, kind, made_at, target.stat().st_size, verified.calls)


# --- pruning --------------------------------------------------------------------------------


def prune(folder: Path, tiers: Tiers, clock: Clock, *, newest_verified: bool = False
          ) -> tuple[list[Path], str]:
    """Remove the copies the tiers no longer keep, once the newest tiered copy is verified
    (``newest_verified`` when the caller has just made and checked it). Returns the removed
    copies and, when nothing could be pruned, why."""
    copies = _copies(folder)
    tiered = [(path, at) for path, kind, at in copies if kind == TIERED]
    if not tiered:
        return [], "there is no copy yet"
    if not newest_verified:
        try:
            verify(tiered[0][0])
        except BackupError as error:
            return [], f"nothing was pruned: the newest copy failed its check: {error}"
    keep = copies_to_keep([at for _, at in tiered], tiers)
    doomed = [path for path, at in tiered if at not in keep]
    cutoff = clock.now() - timedelta(days=SAFETY_COPY_DAYS)
    for kind in (BEFORE_RESTORE, BEFORE_MIGRATION):
        of_kind = [(path, at) for path, k, at in copies if k == kind]
        doomed += [path for path, at in of_kind[1:] if at < cutoff]
    for path in doomed:
        path.unlink(missing_ok=True)
    _prune_anchor_files(folder)
    return doomed, ""


def _prune_anchor_files(folder: Path) -> None:
    """Earlier builds kept each copy's audit anchor beside it (``<copy>.anchor``); it is now
    sealed inside the copy. Such a file goes once its copy is gone or carries its anchor
    inside; beside an older copy without one, it stays (the evidence of that copy's tail)."""
    for anchor_file in folder.glob(f"*{SUFFIX}{OLD_ANCHOR_SUFFIX}"):
        copy = anchor_file.with_name(anchor_file.name.removesuffix(OLD_ANCHOR_SUFFIX))
        if parse_copy_name(copy) is None:
            continue  # not beside a copy of ours: not ours to remove
        if not copy.exists() or _carries_anchor(copy):
            anchor_file.unlink(missing_ok=True)


def _carries_anchor(copy: Path) -> bool:
    try:
        with _read_only(copy) as connection:
            return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                      "name = ?", (anchors.TABLE,)).fetchone() is not None
    except sqlite3.DatabaseError:
        return False


def tiers_of(store: Store) -> Tiers:
    from advice_desk import settings

    with store.read() as session:
        return Tiers(settings.BACKUP_DAILY.read(session), settings.BACKUP_WEEKLY.read(session),
                     settings.BACKUP_MONTHLY.read(session))


def store_fingerprint(store_file: Path) -> Fingerprint:
    with _read_only(store_file) as connection:
        return fingerprint_of(connection)


def auto_backup(store: Store, clock: Clock, *, force: bool = False) -> AutoOutcome:
    """The automatic backup: a new copy when the store changed since the newest one (or
    whether or not it did, with ``force``: "Back up now"), then the pruning. Never on a server
    store; skipped while another copy of the app backs up."""
    store_file = store.location.sqlite_file
    if store_file is None:
        return AutoOutcome(None, [], "a server store is backed up by its own tools")
    folder = private_folder(store.location.backup_dir)
    tiers = tiers_of(store)
    try:
        with backup_lock(folder):
            _remove_leftovers(folder)
            newest = newest_copy(folder)
            if not force and newest is not None and _fingerprint_or_none(
                    newest) == store_fingerprint(store_file):
                return AutoOutcome(None, [], "the store has not changed since the newest copy")
            made = make_copy(store_file, folder, TIERED, clock)
            pruned, reason = prune(folder, tiers, clock, newest_verified=True)
            return AutoOutcome(made, pruned, reason)
    except Busy as busy:
        return AutoOutcome(None, [], str(busy))
    except sqlite3.DatabaseError as error:
        raise _database_error(store_file.name, error, folder, "back up the store") from None


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of a copy that was interrupted (a crash, a full disk): under the lock,
    no other process is writing one."""
    for path in folder.glob(".*.part"):
        path.unlink(missing_ok=True)


def _fingerprint_or_none(path: Path) -> Fingerprint | None:
    try:
        with _read_only(path) as connection:
            return fingerprint_of(connection)
    except sqlite3.DatabaseError:
        return None
