"""Calls saved while the database server cannot be reached: kept on this PC, sent when it is back.

A signed-in session goes on working when the server goes away (signing in still needs it). A
save that finds the server unreachable (:func:`advice_desk.store.failures.unreachable`) is kept
in the outbox, one file per call in the order saved (:mod:`advice_desk.calls.local_copies`),
with the idempotency key of the form it was typed in. When the server answers again the outbox
is sent in order; each file is removed once its call is stored. A reply lost on the way (the
call stored, the connection gone before the answer) leaves the file, and sending it again
stores nothing new: the key finds the call already stored. A call the server refuses (a field
it does not accept) stays kept, marked with the reason, for the worker to hear of.

What the window calls on its store thread is :class:`advice_desk.calls.offline.Offline`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from advice_desk.calls.local_copies import (
    FORMAT_VERSION,
    make_private_folders,
    read_json,
    write_private_json,
)
from advice_desk.calls.record import (
    CALL_KEY,
    CallDetails,
    SavedDraft,
    details_as_json,
    details_from_json,
)
from advice_desk.clock import Clock
from advice_desk.json_value import JSONObject
from advice_desk.people.permissions import AccountDisabled
from advice_desk.store.failures import Kind, failure_of, is_refusal, unreachable
from advice_desk.validation import ValidationError

if TYPE_CHECKING:
    from advice_desk.store.engine import Store

OUTBOX_DIR = "outbox"
Action = Literal["log", "update", "non_data"]
ACTIONS: dict[str, Action] = {"log": "log", "update": "update", "non_data": "non_data"}
Result = int | list[str]  # a new call's id, or the fields an edit changed


class CallSaver(Protocol):
    """The calls operations the outbox sends through (the signed-in desk's)."""

    def log_non_data(self, kind: str, started_at: datetime | None = None,
                     key: str | None = None) -> int: ...


class DeskLike(Protocol):
    """What the outbox needs of the signed-in desk (:class:`advice_desk.desk.Desk`)."""

    @property
    def store(self) -> Store: ...
    @property
    def calls(self) -> CallSaver: ...
    @property
    def drafts(self) -> DraftKeeper: ...

    def log_call(self, details: CallDetails, key: str | None = None) -> int: ...
    def update_call(self, call_id: int, details: CallDetails, key: str | None = None,
                    version: int | None = None) -> list[str]: ...


class DraftKeeper(Protocol):
    def save(self, payload: JSONObject) -> None: ...
    def load(self) -> SavedDraft | None: ...
    def discard(self) -> None: ...


@dataclass(frozen=True)
class Entry:
    """One call kept in the outbox. ``payload`` is the form's (to put it back if refused)."""

    path: Path
    action: Action
    key: str
    queued_at: datetime
    details: CallDetails | None = None
    call_id: int | None = None
    kind: str | None = None
    started_at: datetime | None = None
    refused: str | None = None
    payload: JSONObject | None = None
    opened_version: int | None = None  # an edit's: the call's version when it was opened

    def as_json(self) -> JSONObject:
        return {
            "version": FORMAT_VERSION, "action": self.action, CALL_KEY: self.key,
            "queued_at": self.queued_at.isoformat(),
            "details": None if self.details is None else details_as_json(self.details),
            "call_id": self.call_id, "kind": self.kind,
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "refused": self.refused, "payload": self.payload,
            "opened_version": self.opened_version,
        }

    def send(self, desk: DeskLike) -> Result:
        """Store this call through ``desk`` (saving a form's key again stores nothing new)."""
        if self.action == "log":
            assert self.details is not None
            return desk.log_call(self.details, self.key)
        if self.action == "update":
            assert self.details is not None and self.call_id is not None
            return desk.update_call(self.call_id, self.details, self.key, self.opened_version)
        assert self.kind is not None
        return desk.calls.log_non_data(self.kind, self.started_at, self.key)


def _entry_from(path: Path, data: JSONObject) -> Entry | None:
    action = ACTIONS.get(str(data.get("action")))
    key, queued = data.get(CALL_KEY), data.get("queued_at")
    if action is None or not isinstance(key, str) or not isinstance(queued, str):
        return None
    details, call_id, kind = data.get("details"), data.get("call_id"), data.get("kind")
    started, refused, payload = data.get("started_at"), data.get("refused"), data.get("payload")
    opened = data.get("opened_version")
    return Entry(path, action, key, datetime.fromisoformat(queued),
                 details_from_json(details) if isinstance(details, dict) else None,
                 call_id if isinstance(call_id, int) else None,
                 kind if isinstance(kind, str) else None,
                 datetime.fromisoformat(started) if isinstance(started, str) else None,
                 refused if isinstance(refused, str) else None,
                 payload if isinstance(payload, dict) else None,
                 opened if isinstance(opened, int) else None)


@dataclass(frozen=True)
class Sent:
    """What one sending did: the calls stored, whether the server went away again before the
    end, and the entries it refused (kept, with the reason)."""

    stored: int = 0
    unreachable: bool = False
    refused: tuple[Entry, ...] = ()
    results: dict[str, Result] = field(default_factory=dict)  # by key, of each call stored


class Outbox:
    """The calls one person saved on this PC for one store while it could not be reached."""

    def __init__(self, folder: Path, below: Path, clock: Clock) -> None:
        self.folder = folder
        self._below = below
        self.clock = clock

    def entries(self) -> list[Entry]:
        """Every kept call, in the order saved (the file names are numbered)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            data = read_json(path)
            entry = None if data is None else _entry_from(path, data)
            if entry is not None:
                found.append(entry)
        return found

    def waiting(self) -> list[Entry]:
        """The kept calls still to send (the refused ones wait for the worker)."""
        return [e for e in self.entries() if e.refused is None]

    def keeps(self, key: str) -> bool:
        return any(e.key == key for e in self.entries())

    def add(self, call: Entry) -> Entry:
        """Keep ``call`` (its path aside) after the others; a second save of the same form
        (its key) takes the place of the first."""
        make_private_folders(self.folder, self._below)
        kept = self.entries()
        same = [e.path for e in kept if e.key == call.key and e.action == call.action]
        number = max((_number(e.path) for e in kept), default=0) + 1
        path = same[0] if same else self.folder / f"{number:06d}-{call.key}.json"
        entry = replace(call, path=path, refused=None)
        write_private_json(entry.path, entry.as_json())
        return entry

    def remove(self, entry: Entry) -> None:
        with contextlib.suppress(FileNotFoundError):
            entry.path.unlink()

    def send(self, desk: DeskLike) -> Sent:
        """Send the waiting calls in order, each removed once stored. Stops, keeping the rest,
        when the server cannot be reached; a refused call is marked and the next one sent. An
        unexpected failure stops the sending and is raised (the call stays kept)."""
        stored, refused, results = 0, list[Entry](), dict[str, Result]()
        for entry in self.waiting():
            try:
                results[entry.key] = entry.send(desk)
            except Exception as error:
                if unreachable(error):
                    return Sent(stored, True, tuple(refused), results)
                reason = refusal_reason(error)
                if reason is None:
                    raise
                marked = replace(entry, refused=reason)
                write_private_json(entry.path, marked.as_json())
                refused.append(marked)
                continue
            self.remove(entry)
            stored += 1
        return Sent(stored, False, tuple(refused), results)


def _number(path: Path) -> int:
    number = path.stem.partition("-")[0]
    return int(number) if number.isdigit() else 0


def refusal_reason(error: BaseException) -> str | None:
    """Why the server refused a call, in words meant for the worker; None for a failure that
    is not a refusal (a disabled account is not one: the desk locks instead)."""
    if isinstance(error, AccountDisabled):
        return None
    if isinstance(error, ValidationError) or is_refusal(error):
        return str(error)
    failure = failure_of(error)
    if failure is not None and failure.kind is Kind.REFUSED:
        return failure.advice
    return None
