"""What a signed-in session keeps on this PC while the database server cannot be reached.

A folder of the user's data folder per store and per person (``offline/<store>/<user id>``,
each level mode 0700) holds the intake form's draft (``draft.json``) and the calls saved but not
yet sent (``outbox/``, one file per call). Every file is written whole or not at all
(:func:`advice_desk.files.atomic_file`) with mode 0600: they hold what the worker typed, the
caller's details included, so nothing of them is ever logged. The store is named by a digest
of its URL, never by the URL itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from advice_desk.calls.record import SavedDraft
from advice_desk.files import atomic_file
from advice_desk.json_value import JSONObject, JSONValue
from advice_desk.paths import Location
from advice_desk.store.modes import private_folder

OFFLINE_DIR = "offline"
DRAFT_FILE = "draft.json"
FORMAT_VERSION = 1


def offline_folder(location: Location, user_id: int) -> Path:
    """The folder of what this person keeps on this PC for the store at ``location``."""
    store = hashlib.sha256(location.database_url.encode("utf-8")).hexdigest()[:16]
    return location.data_dir / OFFLINE_DIR / store / f"user-{user_id}"


def make_private_folders(folder: Path, below: Path) -> None:
    """``folder`` and every folder between it and ``below`` (which holds it), each mode 0700
    (``mkdir`` would give the parents it makes the default mode)."""
    levels = [folder, *[p for p in folder.parents if p != below and below in p.parents]]
    below.mkdir(parents=True, exist_ok=True)
    for level in reversed(levels):
        private_folder(level)


def write_private_json(path: Path, value: JSONObject) -> None:
    """``value`` as the whole of ``path``, mode 0600 (the temporary file is made so)."""
    with atomic_file(path) as file:
        json.dump(value, file, ensure_ascii=False)


def read_json(path: Path) -> JSONObject | None:
    """The JSON object in ``path``; None when it is missing or not whole (never quoted)."""
    try:
        value: JSONValue = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class LocalDraft:
    """The draft kept on this PC: the form's payload, or None for a draft discarded while the
    store could not be told (the store's older copy is then discarded when it can be)."""

    payload: JSONObject | None
    saved_at: datetime


class LocalDrafts:
    """The one draft of one person for one store, on this PC."""

    def __init__(self, folder: Path, below: Path) -> None:
        self.folder = folder
        self._below = below

    @property
    def path(self) -> Path:
        return self.folder / DRAFT_FILE

    def save(self, payload: JSONObject | None, at: datetime) -> None:
        make_private_folders(self.folder, self._below)
        write_private_json(self.path, {"version": FORMAT_VERSION, "saved_at": at.isoformat(),
                                       "payload": payload})

    def load(self) -> LocalDraft | None:
        data = read_json(self.path)
        if data is None:
            return None
        payload, saved_at = data.get("payload"), data.get("saved_at")
        if not isinstance(saved_at, str) or not (payload is None or isinstance(payload, dict)):
            return None
        return LocalDraft(payload, datetime.fromisoformat(saved_at))

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def newer_draft(local: LocalDraft | None, stored: SavedDraft | None) -> SavedDraft | None:
    """The draft to put back: the local one when it is newer than the store's (or the store
    has none); a local discard that is newer means no draft."""
    if local is None or (stored is not None and stored.updated_at > local.saved_at):
        return stored
    return None if local.payload is None else SavedDraft(local.payload, local.saved_at)
