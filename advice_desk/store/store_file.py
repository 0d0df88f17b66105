"""A SQLite store's file before SQLite opens it: on this PC's disk, writable, private, whole."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from advice_desk.paths import Location
from advice_desk.store import integrity, modes
from advice_desk.store.claim import StoreClaim
from advice_desk.store.errors import NetworkDrive, Notice, StoreError, StoreReadOnly
from advice_desk.store.mounts import network_drive_of

SERVER_ADVICE = ("for several PCs, use a database server (PostgreSQL) with --database-url; "
                 "see the README")


def prepare_file(location: Location, path: Path, notices: list[Notice]) -> StoreClaim:
    """Before SQLite touches the file: refuse a network drive, a file that is not a store, a
    store this account may not write and a damaged one; make the folder and files private
    (tightening those of an older store, with a notice), and create a new store's file 0600,
    so its -wal and -shm files are made 0600 too (SQLite gives them the database's mode)."""
    folder = path.parent
    drive = network_drive_of(_nearest_existing(folder))
    if drive is not None:
        raise NetworkDrive(
            f"the store {path} is on {_drive_name(drive)}: SQLite's locking cannot be trusted "
            f"there, and two PCs writing one file can damage it; keep the store on this PC's "
            f"own disk, or, {SERVER_ADVICE}")
    integrity.refuse_foreign_file(location)
    existed = path.exists()
    if existed and not os.access(path, os.W_OK):
        raise _read_only(path, path)
    loose = [folder, path, *_beside(path), location.backup_dir,
             *integrity.backups_newest_first(location),
             location.data_dir / integrity.LAST_FULL_CHECK]
    if existed and modes.tighten(loose):
        notices.append(Notice.MODES_TIGHTENED)
    try:
        modes.private_folder(folder)
    except OSError as exc:
        if folder.exists() and not os.access(folder, os.W_OK):
            raise _read_only(path, folder) from exc
        raise cannot_open(location, exc) from exc
    if not os.access(folder, os.W_OK):
        raise _read_only(path, folder)
    claim = StoreClaim.take(path)  # before anything reads it: a restore may be under way
    try:
        if existed:
            integrity.quick_check(location)
            tables = integrity.foreign_tables(path)
            if tables:
                integrity.refuse_foreign_tables(location, tables)
        else:
            try:
                _create_store_file(path)
            except (OSError, sqlite3.Error) as exc:
                raise cannot_open(location, OSError(str(exc))) from exc
    except BaseException:
        claim.release()
        raise
    return claim


def cannot_write(path: Path) -> bool:
    """An existing store file that this account may not write, or whose folder it may not
    write (SQLite writes its -wal beside the file)."""
    return path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def prepare_reading(location: Location, path: Path) -> StoreClaim:
    """A store this account may only read, to be read: not a network drive, a store, whole."""
    drive = network_drive_of(_nearest_existing(path.parent))
    if drive is not None:
        raise NetworkDrive(f"the store {path} is on {_drive_name(drive)}; {SERVER_ADVICE}")
    integrity.refuse_foreign_file(location)
    claim = StoreClaim.take(path)
    try:
        integrity.quick_check(location)
        tables = integrity.foreign_tables(path)
        if tables:
            integrity.refuse_foreign_tables(location, tables)
    except BaseException:
        claim.release()
        raise
    return claim


def _create_store_file(path: Path) -> None:
    """A new store's file, mode 0600, appearing whole: made under a name of this process's
    own, in WAL mode (so it is never empty), then linked into place. A process killed half-way
    leaves no empty store behind, and of two copies of the app starting a new store at once,
    the second uses the file of the first."""
    part = path.with_name(f"{path.name}.new-{os.getpid()}")
    part.unlink(missing_ok=True)
    modes.create_private_file(part)
    try:
        connection = sqlite3.connect(part)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
        finally:
            connection.close()
        try:
            os.link(part, path)
        except FileExistsError:
            pass  # another copy of the app made it first: that one is used
        except OSError:  # a file system without hard links (FAT on a USB stick)
            if not path.exists():
                part.replace(path)
    finally:
        part.unlink(missing_ok=True)


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def _drive_name(drive: str) -> str:
    return drive if drive.startswith("a ") else f"a network drive ({drive})"


def _beside(path: Path) -> list[Path]:
    """SQLite's write-ahead log and shared-memory index beside the store's file."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def _read_only(path: Path, unwritable: Path) -> StoreReadOnly:
    what = "the file" if unwritable == path else "its folder"
    return StoreReadOnly(
        f"the store {path} is read-only for this account ({what} may not be written), so no "
        f"call could be saved; ask whoever looks after this PC to give this account write "
        f"access to {unwritable}")


def cannot_open(location: Location, error: OSError) -> StoreError:
    """A folder that is a file, or may not be written: said as the store's problem."""
    return StoreError(f"cannot open the store {location.shown}: {error.strerror or error}")
