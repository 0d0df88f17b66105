"""Is the store whole? The checks made when it opens, daily, and by ``advice-desk check``.

A damaged SQLite file can still answer queries, wrongly (a report of 171 calls where 300 were
logged), so every opening first runs ``PRAGMA quick_check`` (about a second on a store of a
million calls) and once a day the app runs the full ``PRAGMA integrity_check`` in the
background (a few seconds); ``last-full-check`` in the data folder says when it last passed.
A file that is empty, or not an SQLite database, is refused before anything writes to it: a new
store is only ever made where no file is. A failed check names the newest backup that passes the
quick check and the command that restores it.

The checks read the file through a read-only connection of their own, so they never write to a
damaged file, and the daily one can run beside the store thread without holding up its saves.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from advice_desk.clock import Clock, to_uk
from advice_desk.paths import Location, restore_command
from advice_desk.store.copy_names import copies
from advice_desk.store.errors import StoreDamaged, StoreError
from advice_desk.store.failures import Kind, failure_of, on_disk
from advice_desk.store.modes import PRIVATE_FILE

SQLITE_HEADER = b"SQLite format 3\x00"
LAST_FULL_CHECK = "last-full-check"
FULL_CHECK_EVERY = timedelta(days=1)
MAX_PROBLEMS = 20  # integrity_check stops after this many
BACKUPS_TRIED = 3  # the newest backups quick-checked when naming a good one
_NOT_BACKUPS = ("-wal", "-shm", "-journal", ".part", ".lock")
REVISION_TABLE = "alembic_version"


@dataclass(frozen=True)
class CheckResult:
    """What a check found: nothing (``ok``), or SQLite's first problems; how long it took."""

    problems: tuple[str, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.problems


def refuse_foreign_file(location: Location) -> None:
    """Refuse a store file that is empty or not an SQLite database, rather than let SQLite turn
    it into a new empty store (or fail later on it): nothing is written to it."""
    path = location.sqlite_file
    if path is None or not path.exists():
        return
    try:
        with path.open("rb") as opened:
            header = opened.read(len(SQLITE_HEADER))
    except OSError as error:
        raise StoreError(f"cannot open the store {path}: {error.strerror or error}") from error
    if not header:
        raise StoreError(
            f"cannot open the store {path}: it is empty (0 bytes), so it is not an Advice Desk "
            f"store, and it is left as it is; {restore_advice(location)}, or move the empty "
            "file away to start a new store")
    if header != SQLITE_HEADER:
        raise StoreError(
            f"cannot open the store {path}: it is not a database (not an SQLite file), and it "
            "is left as it is; name another data folder with --data-dir, or move the file away")


def refuse_foreign_tables(location: Location, tables: list[str]) -> None:
    """A database with tables but no schema revision of ours belongs to another program."""
    shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
    raise StoreError(
        f"the database {location.shown} is not an Advice Desk store: it holds another "
        f"program's tables ({shown}) and no Advice Desk schema; it is left as it is")


def _connect(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    options = "mode=ro&immutable=1" if immutable else "mode=ro"
    return sqlite3.connect(f"{path.resolve().as_uri()}?{options}", uri=True, timeout=30)


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the SQLite file at ``path``, its header read. A store in WAL
    mode needs its ``-shm`` file beside it even to be read; in a folder this account may only
    read, with no ``-wal`` file (so the file holds every change), it is read as immutable.
    :class:`sqlite3.DatabaseError` when it cannot be read."""
    connection = _connect(path)
    try:
        connection.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as error:
        connection.close()
        failure = failure_of(error)
        if failure is None or failure.kind is not Kind.READ_ONLY or _has_log(path):
            raise
        connection = _connect(path, immutable=True)
    return connection


def _has_log(path: Path) -> bool:
    try:
        return os.stat(f"{path}-wal").st_size > 0
    except OSError:
        return False


class CannotCheck(StoreError):
    """The check could not read the file for a reason that is not damage (a full disk, a
    folder or file this account may not use, a busy store): the message says which."""


_CANNOT_CHECK = {
    Kind.DISK_FULL: "the disk is full (SQLite could not write the small file it keeps beside "
                    "the store); free some space on that disk, then try again",
    Kind.READ_ONLY: "this account may not read it, or may not write the folder it is in (SQLite "
                    "keeps a small file beside the store); ask whoever looks after this PC to "
                    "give this account access to {folder}",
    Kind.LOCKED: "another copy of Advice Desk or a command holds it; try again in a moment",
    Kind.DISK: "its disk could not be read or written (failing, or full); check the disk, then "
               "try again",
    Kind.SERVER: "its disk could not be reached; try again",
}


def problem_or_refusal(path: Path, error: sqlite3.DatabaseError) -> str:
    """The damage SQLite reports reading ``path``, as a problem of the check; or, when the
    error is not damage but a full disk, a read-only folder or a busy store,
    :class:`CannotCheck` saying so (the store must not be called damaged for it)."""
    failure = failure_of(error)
    kind = on_disk(failure, path.parent).kind if failure is not None else Kind.OTHER
    if kind in _CANNOT_CHECK:
        raise CannotCheck(f"cannot check the store {path}: "
                          f"{_CANNOT_CHECK[kind].format(folder=path.parent)}") from None
    return str(error)


def sqlite_problems(path: Path, *, full: bool) -> list[str]:
    """What SQLite's quick (or full) integrity check of ``path`` finds wrong; [] when whole.
    SQLite's messages name pages, tables and indexes, never a stored value. :class:`CannotCheck`
    when the file cannot be read for a reason that is not damage."""
    try:
        connection = _read_only(path)
    except sqlite3.DatabaseError as error:
        return [problem_or_refusal(path, error)]
    try:
        return _problems_on(connection, path, full=full)
    finally:
        connection.close()


def _problems_on(connection: sqlite3.Connection, path: Path, *, full: bool) -> list[str]:
    try:
        pragma = "integrity_check" if full else "quick_check"
        rows = connection.execute(f"PRAGMA {pragma}({MAX_PROBLEMS})").fetchall()
    except sqlite3.DatabaseError as error:  # the header or schema pages themselves are broken
        return [problem_or_refusal(path, error)]
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


def foreign_tables(path: Path) -> list[str]:
    """The tables of the SQLite file at ``path`` when it has no Advice Desk schema (no revision
    table): another program's database. [] for one of ours, or an empty new file."""
    try:
        connection = _read_only(path)
        try:
            tables = [str(row[0]) for row in connection.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return []
    return [] if REVISION_TABLE in tables else tables


def is_advice_desk_file(path: Path) -> bool:
    """Whether the SQLite file at ``path`` holds an Advice Desk schema (its revision table)."""
    return not foreign_tables(path)


def check_file(location: Location, *, full: bool) -> CheckResult:
    """Check the SQLite file of ``location`` (it must exist)."""
    assert location.sqlite_file is not None
    started = time.perf_counter()
    problems = sqlite_problems(location.sqlite_file, full=full)
    return CheckResult(tuple(problems), time.perf_counter() - started)


def quick_check(location: Location) -> None:
    """Raise :class:`StoreDamaged` if the quick check of the store's file finds a problem."""
    result = check_file(location, full=False)
    if not result.ok:
        raise damaged(location, result.problems)


def damaged(location: Location, problems: tuple[str, ...] | list[str]) -> StoreDamaged:
    first = problems[0].replace("\n", " ").strip() if problems else "unknown"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return StoreDamaged(
        f"the store {location.shown} is damaged ({first}{more}), so its figures cannot be "
        f"trusted and nothing more is written to it; {restore_advice(location)}")


def restore_advice(location: Location) -> str:
    """Which backup to restore, and how: the newest one that passes the quick check."""
    backup = newest_good_backup(location)
    if backup is None:
        return (f"there is no good backup in {location.backup_dir}: keep the file as it is "
                "and ask whoever looks after this PC")
    path, made_at = backup
    when = to_uk(made_at).strftime("%a %d %b %Y %H:%M")
    return (f"restore the newest good backup (made {when}) with: "
            f"{restore_command(location, path)}")


def backups_newest_first(location: Location) -> list[Path]:
    """Every file in the backups folder, newest (by modification time) first: those whose
    modes an opening tightens (copies, their anchors, anything else left there)."""
    folder = location.backup_dir
    try:
        files = [p for p in folder.iterdir()
                 if p.is_file() and not p.name.endswith(_NOT_BACKUPS)]
    except OSError:
        return []
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def newest_good_backup(location: Location) -> tuple[Path, datetime] | None:
    """The newest copy that passes the quick check, and when it was made (UTC), from the
    listing the Backups window shows (the newest :data:`BACKUPS_TRIED` copies are tried)."""
    for copy in copies(location.backup_dir)[:BACKUPS_TRIED]:
        with contextlib.suppress(CannotCheck):
            if not sqlite_problems(copy.path, full=False):
                return copy.path, copy.made_at
    return None


# --- the daily full check ------------------------------------------------------------------

def _stamp_file(location: Location) -> Path:
    return location.data_dir / LAST_FULL_CHECK


def last_full_check(location: Location) -> datetime | None:
    try:
        return datetime.fromisoformat(_stamp_file(location).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def full_check_due(location: Location, clock: Clock) -> bool:
    """Whether the SQLite store's full check last passed a day or more ago (or never)."""
    if location.sqlite_file is None:
        return False  # a server checks its own pages
    last = last_full_check(location)
    return last is None or clock.now() - last >= FULL_CHECK_EVERY


def record_full_check(location: Location, clock: Clock) -> None:
    stamp = _stamp_file(location)
    part = stamp.with_name(stamp.name + ".part")
    part.unlink(missing_ok=True)
    part.touch(mode=PRIVATE_FILE)
    part.write_text(clock.now().astimezone(UTC).isoformat(), encoding="ascii")
    part.replace(stamp)


def full_check(location: Location, clock: Clock) -> CheckResult:
    """The full integrity check of the SQLite store, remembered when it passes."""
    result = check_file(location, full=True)
    if result.ok:
        with contextlib.suppress(OSError):  # a read-only folder: checked again next time
            record_full_check(location, clock)
    return result


class FullCheck:
    """The daily full check, run beside the store thread; :meth:`cancel` (from any thread)
    stops it at once, so closing the app never waits for it."""

    def __init__(self, location: Location, clock: Clock) -> None:
        self.location, self.clock = location, clock
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._cancelled = False

    def run_if_due(self) -> CheckResult | None:
        """The check's result, or None when it was not due (or was cancelled)."""
        if self.is_cancelled() or not full_check_due(self.location, self.clock):
            return None
        assert self.location.sqlite_file is not None
        started = time.perf_counter()
        path = self.location.sqlite_file
        try:
            connection = _read_only(path)
        except sqlite3.DatabaseError as error:
            return CheckResult((problem_or_refusal(path, error),), time.perf_counter() - started)
        with self._lock:
            self._connection = connection
        try:
            problems = _problems_on(connection, path, full=True)
        finally:
            with self._lock:
                self._connection = None
            connection.close()
        if self.is_cancelled():
            return None
        result = CheckResult(tuple(problems), time.perf_counter() - started)
        if result.ok:
            with contextlib.suppress(OSError):
                record_full_check(self.location, self.clock)
        return result

    def is_cancelled(self) -> bool:
        with self._lock:
            return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._connection is not None:
                self._connection.interrupt()
