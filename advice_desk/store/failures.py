"""A database or file failure in words: what went wrong (disk full, read-only, damaged, locked)
and what to do, for the command line and the GUI alike.

The text of a database error is never shown nor logged: SQLAlchemy's holds the SQL statement,
and the driver's can quote stored values (a CHECK or UNIQUE failure, a literal). A failure is
known by its kind alone: SQLite's result code, PostgreSQL's SQLSTATE, an ``OSError``'s errno.
This module imports no database package, so the GUI can load it before the store.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from advice_desk.paths import Location, restore_command


class Kind(Enum):
    DISK_FULL = "disk full"
    READ_ONLY = "read-only"
    DAMAGED = "damaged"
    LOCKED = "locked"
    DISK = "disk error"
    REFUSED = "refused"
    SERVER = "server unreachable"
    OTHER = "database error"


ADVICE = {
    Kind.DISK_FULL: "the disk is full, so the store could not be written and the change in "
                    "progress was not saved; free some space on that disk, then try again",
    Kind.READ_ONLY: "the store cannot be written: its file or folder is read-only for this "
                    "account, so nothing was saved; ask whoever looks after the PC to let this "
                    "account write it",
    Kind.DAMAGED: "the store file is damaged and cannot be trusted; stop using it and restore "
                  "the newest good backup (advice-desk restore FILE), or tell your supervisor",
    Kind.LOCKED: "the store is busy: another copy of Advice Desk or a command held it too long, "
                 "so nothing was saved; try again in a moment",
    Kind.DISK: "the store could not be written to its disk, which is probably full (or "
               "failing), so the change in progress was not saved; free some space on that "
               "disk, then try again",
    Kind.REFUSED: "the store refused the change as inconsistent, so nothing was saved; try "
                  "again, and if it happens again, tell your supervisor",
    Kind.SERVER: "the database server cannot be reached, so nothing was saved; check the "
                 "network and the server, then try again",
    Kind.OTHER: "the store failed, so the change in progress was not saved; try again, and if "
                "it happens again, tell your supervisor",
}

# SQLite primary result codes (the low byte of an extended code).
_SQLITE = {
    3: Kind.READ_ONLY,    # SQLITE_PERM
    5: Kind.LOCKED,       # SQLITE_BUSY
    6: Kind.LOCKED,       # SQLITE_LOCKED
    8: Kind.READ_ONLY,    # SQLITE_READONLY
    10: Kind.DISK,        # SQLITE_IOERR
    11: Kind.DAMAGED,     # SQLITE_CORRUPT
    13: Kind.DISK_FULL,   # SQLITE_FULL
    14: Kind.READ_ONLY,   # SQLITE_CANTOPEN: the file or its folder may not be opened
    18: Kind.REFUSED,     # SQLITE_TOOBIG
    19: Kind.REFUSED,     # SQLITE_CONSTRAINT
    20: Kind.REFUSED,     # SQLITE_MISMATCH
    26: Kind.DAMAGED,     # SQLITE_NOTADB
}
# PostgreSQL SQLSTATE, exact codes first, then classes (the first two characters).
_SQLSTATE = {
    "53100": Kind.DISK_FULL, "25006": Kind.READ_ONLY, "42501": Kind.READ_ONLY,
    "XX001": Kind.DAMAGED, "XX002": Kind.DAMAGED, "55P03": Kind.LOCKED, "40P01": Kind.LOCKED,
    "40001": Kind.LOCKED, "57014": Kind.LOCKED, "58030": Kind.DISK,
}
_SQLSTATE_CLASS = {"23": Kind.REFUSED, "22": Kind.REFUSED, "08": Kind.SERVER,
                   "57": Kind.SERVER, "53": Kind.DISK_FULL}
_ERRNO = {
    errno.ENOSPC: Kind.DISK_FULL, errno.EDQUOT: Kind.DISK_FULL, errno.EFBIG: Kind.DISK_FULL,
    errno.EROFS: Kind.READ_ONLY, errno.EACCES: Kind.READ_ONLY, errno.EPERM: Kind.READ_ONLY,
    errno.EIO: Kind.DISK,
}


@dataclass(frozen=True)
class Failure:
    """A failure known by its kind; ``code`` is the driver's fixed code name, for the log."""

    kind: Kind
    code: str

    @property
    def advice(self) -> str:
        return ADVICE[self.kind]

    def advice_at(self, location: Location | None) -> str:
        """The advice, its restore command naming the store's folder (or URL) when it is not
        the default one, so that, typed as given, it restores this store."""
        return with_store_options(self.advice, location)

    def __str__(self) -> str:
        return self.advice


RESTORE_FILE = "advice-desk restore FILE"


def with_store_options(text: str, location: Location | None) -> str:
    """``text`` (an advice, perhaps translated) with its ``advice-desk restore FILE`` naming
    the store of ``location`` (``--data-dir DIR`` when it is not in the default folder)."""
    if location is None or RESTORE_FILE not in text:
        return text
    return text.replace(RESTORE_FILE, restore_command(location, "FILE"))


def failure_of(error: BaseException) -> Failure | None:
    """The database or file failure behind ``error`` (itself, the driver's error SQLAlchemy
    wraps, or a cause), or ``None`` when it is neither."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    database_error = False
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        found = _known(current)
        if found is not None:
            return found
        database_error = database_error or _is_database_error(current)
        orig = getattr(current, "orig", None)
        pending += [orig if isinstance(orig, BaseException) else None,
                    current.__cause__, current.__context__]
    return Failure(Kind.OTHER, type(error).__name__) if database_error else None


def on_disk(failure: Failure, folder: Path) -> Failure:
    """A disk error (SQLite's SQLITE_IOERR does not say why) told more closely: a full disk
    (no free space on ``folder``'s disk, or no file of a few kB can be written there:
    ENOSPC, EFBIG or EDQUOT) is :attr:`Kind.DISK_FULL`."""
    if failure.kind is not Kind.DISK:
        return failure
    with contextlib.suppress(OSError):
        if os.statvfs(folder).f_bavail == 0:
            return Failure(Kind.DISK_FULL, failure.code)
    probe = folder / f".advice-desk-space-{os.getpid()}.part"
    try:
        with probe.open("wb") as file:
            file.write(b"\0" * 65536)
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            return Failure(Kind.DISK_FULL, failure.code)
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return failure


def _known(error: BaseException) -> Failure | None:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        name = getattr(error, "sqlite_errorname", None)
        return Failure(_SQLITE.get(code & 0xFF, Kind.OTHER),
                       name if isinstance(name, str) else f"SQLITE {code}")
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(state, str) and len(state) == 5:
        return Failure(_SQLSTATE.get(state, _SQLSTATE_CLASS.get(state[:2], Kind.OTHER)),
                       f"SQLSTATE {state}")
    if _connection_failed(error):
        return Failure(Kind.SERVER, "OperationalError")
    if isinstance(error, OSError) and error.errno is not None:
        known = _ERRNO.get(error.errno)
        if known is not None:
            return Failure(known, errno.errorcode.get(error.errno, str(error.errno)))
    return None


def _connection_failed(error: BaseException) -> bool:
    """The driver's OperationalError without a SQLSTATE: the server was not reached (no
    server on that socket or port, the connection refused, timed out or lost), so it never
    answered with a code of its own."""
    return (type(error).__module__.split(".")[0] in {"psycopg", "psycopg2"}
            and any(cls.__name__ == "OperationalError" for cls in type(error).__mro__))


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the database server cannot be reached just now (a connection
    class SQLSTATE 08, the server shutting down 57P, or no connection at all), so that trying
    again later may work: the session keeps its work on this PC meanwhile."""
    failure = failure_of(error)
    return failure is not None and failure.kind is Kind.SERVER


def _is_database_error(error: BaseException) -> bool:
    """A DB-API or SQLAlchemy error, known by its module (neither package is imported here)."""
    module = type(error).__module__
    return module.split(".")[0] in {"sqlite3", "sqlalchemy", "psycopg", "psycopg2"}


# The core's refusals (a field that is wrong, a role that may not, a wrong password, a store
# that cannot be opened, a cancelled export, a person not described well enough, a call another
# seat changed since it was opened), by module and
# class: their messages are written for the person and hold no stored value. The window must
# not load the database layer before it paints, and an error can only be of one of these
# classes once its module is loaded, so they are looked for among the modules loaded so far.
REFUSALS = (
    ("advice_desk.validation", "ValidationError"),
    ("advice_desk.people.permissions", "PermissionDenied"),
    ("advice_desk.people.accounts", "SignInError"),
    ("advice_desk.store.errors", "StoreError"),
    ("advice_desk.reports.funder_export", "ExportCancelled"),
    ("advice_desk.reports.extract", "ExportKeyError"),
    ("advice_desk.privacy.identity", "SearchError"),
    ("advice_desk.backups.copies", "BackupError"),
    ("advice_desk.store.versions", "CallChanged"),
)


def is_refusal(error: BaseException) -> bool:
    """Whether ``error`` is one of the core's refusals, whose message is meant to be read."""
    for module_name, class_name in REFUSALS:
        refusal = getattr(sys.modules.get(module_name), class_name, None)
        if isinstance(refusal, type) and isinstance(error, refusal):
            return True
    return False
