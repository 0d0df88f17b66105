"""The names of the copies in a store's backup folder, and their listing, newest first.

A copy's time is in its name (``backup-20261201T161500Z.sqlite3``, UTC; a before-migration
copy ``before-migration-REV-20261201-161500.sqlite3``, UK time), never its file's time. The
Backups window (:mod:`advice_desk.backups.copies`) and a failed check's message naming the
newest good backup (:mod:`advice_desk.store.integrity`) list the copies with :func:`copies`;
it lives in the store layer so both can.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from advice_desk.clock import UK

SUFFIX = ".sqlite3"
TIERED, BEFORE_RESTORE, BEFORE_MIGRATION = "backup", "before-restore", "before-migration"
STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^(backup|before-restore)-(\d{8}T\d{6}Z)\.sqlite3$")
_MIGRATION_NAME = re.compile(r"^before-migration-.+-(\d{8}-\d{6})\.sqlite3$")  # UK time


class NamedCopy(NamedTuple):
    path: Path
    kind: str
    made_at: datetime  # UTC


def copy_name(kind: str, made_at: datetime) -> str:
    return f"{kind}-{made_at.astimezone(UTC).strftime(STAMP)}{SUFFIX}"


def parse(path: Path) -> tuple[str, datetime] | None:
    """The kind and time (UTC) of a copy by its name; None for any other file."""
    if found := _NAME.match(path.name):
        return found.group(1), datetime.strptime(found.group(2), STAMP).replace(tzinfo=UTC)
    if found := _MIGRATION_NAME.match(path.name):
        try:
            local = datetime.strptime(found.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UK)
        except ValueError:
            return None
        return BEFORE_MIGRATION, local.astimezone(UTC)
    return None


def copies(folder: Path) -> list[NamedCopy]:
    """The copies in the folder, newest first (temporary files, audit anchors, damaged
    before-restore files and foreign files left out)."""
    try:
        if not folder.is_dir():
            return []
        found = [NamedCopy(path, *parsed) for path in folder.iterdir()
                 if (parsed := parse(path)) is not None and path.is_file()]
    except OSError:
        return []
    return sorted(found, key=lambda item: item.made_at, reverse=True)
