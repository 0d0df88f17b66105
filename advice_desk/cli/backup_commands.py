"""``advice-desk backup --out FILE`` and ``advice-desk restore FILE`` (PRODUCT.md §9, §10).

On a SQLite store, ``backup`` copies it with the online backup API (verified, mode 0600) and
``restore`` puts a copy back in its place after checking it, keeping the store as it was in
``backups/before-restore-….sqlite3`` (see :mod:`advice_desk.backups.restore`). On a server store
(PostgreSQL) they wrap ``pg_dump`` / ``pg_restore`` (:mod:`advice_desk.backups.server`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from advice_desk.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    Commands,
    Parser,
    calls_text,
    location_of,
    opened_store,
)


def register_backup(commands: Commands, parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "backup", parents=parents, help="copy the store to a file",
        description="Copy the store to FILE while the app may be running (SQLite's online "
                    "backup; on a server store, pg_dump --format=custom). The copy is checked "
                    "before it is written; it holds personal data: keep it safe.")
    parser.add_argument("--out", metavar="FILE", type=Path, required=True,
                        help="the file to write (replaced if it exists)")
    parser.set_defaults(func=run_backup)


def register_restore(commands: Commands, parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "restore", parents=parents, help="put a backup back in place of the store",
        description="Replace the store with the backup FILE, after checking that it is a whole "
                    "Advice Desk store of this version or an older one. The store as it was is "
                    "kept first (in backups/ of the data folder; for a server store, beside "
                    "FILE). Close the app on this store first.")
    parser.add_argument("file", metavar="FILE", type=Path, help="a backup or a pg_dump file")
    parser.set_defaults(func=run_restore)


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]  # a float from here on
    raise AssertionError("unreachable")


def run_backup(args: argparse.Namespace) -> int:
    from advice_desk.backups.copies import BackupError, copy_file

    location = location_of(args)
    out: Path = args.out
    if out.is_dir():
        raise CommandError(f"{out} is a folder: name the file to write, e.g. --out "
                           f"{out / 'advice-desk-backup.sqlite3'}")
    if not out.parent.is_dir():
        raise CommandError(f"cannot write {out}: the folder {out.parent} does not exist",
                           EXIT_FAILED)
    try:
        if location.sqlite_file is None:
            from advice_desk.backups.server import dump

            with opened_store(args) as store:
                dumped = dump(store, out)
            size, calls = dumped.size, dumped.calls
        else:
            if not location.sqlite_file.is_file():
                raise CommandError(f"there is no store at {location.shown}", EXIT_FAILED)
            if location.sqlite_file.resolve() == out.resolve():
                raise CommandError(f"{out} is the store itself: choose another file")
            calls = copy_file(location.sqlite_file, out).calls
            size = out.stat().st_size
    except BackupError as error:
        raise CommandError(str(error), EXIT_FAILED) from None
    except OSError as error:
        raise CommandError(f"cannot write {out}: {error.strerror or error}; nothing was "
                           "written", EXIT_FAILED) from None
    print(f"backed up {calls_text(calls)} to {out} ({_size(size)})")
    return EXIT_OK


def run_restore(args: argparse.Namespace) -> int:
    from advice_desk.backups.copies import BackupError
    from advice_desk.clock import SystemClock

    location = location_of(args)
    source: Path = args.file
    if not source.is_file():
        what = "is a folder" if source.is_dir() else "does not exist"
        raise CommandError(f"not restored: {source} {what}; name a backup file", EXIT_FAILED)
    try:
        from advice_desk.backups.restore import record_restore, restore_file
        from advice_desk.people.permissions import command_line_actor

        if location.sqlite_file is None:
            from advice_desk.backups.server import restore_dump

            with opened_store(args) as store:
                done = restore_dump(store, source, SystemClock())
                record_restore(store, command_line_actor(), SystemClock(), done)
            print(f"restored {calls_text(done.calls)} from {source} ({_size(done.size)}); "
                  f"the store as it was is in {done.previous}")
            print("advice-desk: a dump carries no audit anchor, so the tail of the restored "
                  "audit trail cannot be checked; the audit anchors of this PC and of the "
                  "other PCs now start from this restore", file=sys.stderr)
            return EXIT_OK
        restored = restore_file(location, source, SystemClock())
        with opened_store(args) as store:
            record_restore(store, command_line_actor(), SystemClock(), restored)
    except BackupError as error:
        raise CommandError(str(error), EXIT_FAILED) from None
    except OSError as error:
        raise CommandError(f"cannot restore into {location.shown}: "
                           f"{error.strerror or error}; the store was not changed",
                           EXIT_FAILED) from None
    previous = restored.previous
    kept = ("" if previous is None else
            f"; the store as it was is in {getattr(previous, 'path', previous)}")
    print(f"restored {calls_text(restored.calls)} from {source} ({_size(restored.size)})"
          f"{kept}")
    if restored.tail:
        print(f"advice-desk: {restored.tail}", file=sys.stderr)
    return EXIT_OK
