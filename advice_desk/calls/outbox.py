"""Calls saved while the database server cannot be reached: kept on this PC, sent when it is back.

A signed-in session goes on working when the server goes away (signing in still needs it). A
save that finds the server unreachable (:func:`advice_desk.store.failures.unreachable`) is kept
in the outbox, one file per call in the order saved (:mod:`advice_desk.calls.local_copies`),
with the idempotency key of the form it was typed in. When the server answers again the outbox
is sent in order; each file is removed once its call is stored. A reply lost on the way (the
call stored, the connection gone before the answer) leaves the file, and sending it again
stores nothing new: the key finds the call already stored. A call the server refuses (a field
it does not accept) stays kept, marked with the reason, for the worker to hear of.

:class:`Offline` is what the window calls on its store thread instead of the desk's own save,
draft and non-data operations: each tries the store first and keeps the work here when the
store cannot be reached.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from advice_desk.calls.local_copies import (
    FORMAT_VERSION,
    LocalDrafts,
    make_private_folders,
    newer_draft,
    offline_folder,
    read_json,
    write_private_json,
)
from advice_desk.calls.record import (
    CALL_KEY,
    CallDetails,
    SavedDraft,
    details_as_json,
    details_from_json,
    normalise,
    validate,
)
from advice_desk.clock import Clock
from advice_desk.json_value import JSONObject
from advice_desk.paths import Location
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
    def update_call(self, call_id: int, details: CallDetails, key: str | None = None
                    ) -> list[str]: ...


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

    def as_json(self) -> JSONObject:
        return {
            "version": FORMAT_VERSION, "action": self.action, CALL_KEY: self.key,
            "queued_at": self.queued_at.isoformat(),
            "details": None if self.details is None else details_as_json(self.details),
            "call_id": self.call_id, "kind": self.kind,
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "refused": self.refused, "payload": self.payload,
        }

    def send(self, desk: DeskLike) -> Result:
        """Store this call through ``desk`` (saving a form's key again stores nothing new)."""
        if self.action == "log":
            assert self.details is not None
            return desk.log_call(self.details, self.key)
        if self.action == "update":
            assert self.details is not None and self.call_id is not None
            return desk.update_call(self.call_id, self.details, self.key)
        assert self.kind is not None
        return desk.calls.log_non_data(self.kind, self.started_at, self.key)


def _entry_from(path: Path, data: JSONObject) -> Entry | None:
    action = ACTIONS.get(str(data.get("action")))
    key, queued = data.get(CALL_KEY), data.get("queued_at")
    if action is None or not isinstance(key, str) or not isinstance(queued, str):
        return None
    details, call_id, kind = data.get("details"), data.get("call_id"), data.get("kind")
    started, refused, payload = data.get("started_at"), data.get("refused"), data.get("payload")
    return Entry(path, action, key, datetime.fromisoformat(queued),
                 details_from_json(details) if isinstance(details, dict) else None,
                 call_id if isinstance(call_id, int) else None,
                 kind if isinstance(kind, str) else None,
                 datetime.fromisoformat(started) if isinstance(started, str) else None,
                 refused if isinstance(refused, str) else None,
                 payload if isinstance(payload, dict) else None)


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


def server_answers(store: Store) -> bool:
    """The cheap reconnect probe: whether the store answers a ``SELECT 1``."""
    try:
        with store.read() as session:
            session.connection().exec_driver_sql("SELECT 1")
    except Exception as error:
        if unreachable(error):
            return False
        raise
    return True


@dataclass(frozen=True)
class State:
    """What the window shows: whether the store answered last time it was asked, how many
    calls wait to be sent, and why each refused one was refused."""

    reachable: bool
    waiting: int
    refused: tuple[str, ...]


class Offline:
    """The signed-in desk's saves, draft and non-data calls, kept on this PC while the store
    cannot be reached. Every method runs on the store thread (it may wait on the server)."""

    def __init__(self, location: Location, user_id: int, clock: Clock) -> None:
        folder = offline_folder(location, user_id)
        self.clock = clock
        self.drafts = LocalDrafts(folder, location.data_dir)
        self.outbox = Outbox(folder / OUTBOX_DIR, location.data_dir, clock)
        self.reachable = True
        # The active topics as the desk last read them: a call kept here is checked as the
        # store would check it, so the worker hears of a missing field now, not later.
        self.topics: frozenset[str] | None = None

    def state(self) -> State:
        entries = self.outbox.entries()
        return State(self.reachable, sum(e.refused is None for e in entries),
                     tuple(e.refused for e in entries if e.refused is not None))

    # --- calls -------------------------------------------------------------------------------

    def log_call(self, desk: DeskLike, details: CallDetails, key: str,
                 payload: JSONObject | None = None) -> int | None:
        """The call stored (its id), or kept on this PC (None)."""
        stored = self._save(desk, Entry(Path(), "log", key, self.clock.now(), details,
                                        payload=payload))
        return stored if isinstance(stored, int) else None

    def update_call(self, desk: DeskLike, call_id: int, details: CallDetails, key: str,
                    payload: JSONObject | None = None) -> list[str] | None:
        """The fields changed, or None when the edit was kept on this PC."""
        changed = self._save(desk, Entry(Path(), "update", key, self.clock.now(), details,
                                         call_id, payload=payload))
        return changed if isinstance(changed, list) else None

    def log_non_data(self, desk: DeskLike, kind: str) -> int | None:
        """A call without content, keyed and timed now so that a kept one is sent as it was."""
        now = self.clock.now()
        stored = self._save(desk, Entry(Path(), "non_data", str(uuid.uuid4()), now, kind=kind,
                                        started_at=now))
        return stored if isinstance(stored, int) else None

    def _save(self, desk: DeskLike, call: Entry) -> Result | None:
        """Store ``call`` (behind the calls kept before it, so that they are stored in the
        order saved), or keep it here when the store cannot be reached. Once it was found
        gone, the store is not asked again until the probe finds it back (:meth:`reconnect`):
        a server that does not answer at all would hold every save up until it times out."""
        if not self.reachable or self.outbox.waiting():
            self._check(call)
            self.outbox.add(call)
            self.drafts.remove()  # the call is kept whole: its draft is done with
            return self.send(desk).results.get(call.key) if self.reachable else None
        try:
            done = call.send(desk)
        except Exception as error:
            if not unreachable(error):
                raise
            self.reachable = False
            self._check(call)
            self.outbox.add(call)
            self.drafts.remove()
            return None
        self.reachable = True
        self.drafts.remove()
        return done

    def _check(self, call: Entry) -> None:
        """Raise the ValidationError the store would, as far as it can be told here: an edit
        may keep the retired topics and authority it had, which this PC cannot know, so those
        are left to the store (a call it refuses stays kept, marked)."""
        if call.details is None:
            return
        details = normalise(call.details)
        editing = call.action == "update"
        topics = set(details.topics) if self.topics is None or editing else set()
        problems = validate(details, set(self.topics or ()) | topics, self.clock,
                            details.local_authority if editing else None)
        if problems:
            raise ValidationError(problems)

    def send(self, desk: DeskLike) -> Sent:
        sent = self.outbox.send(desk)
        self.reachable = not sent.unreachable
        return sent

    def reconnect(self, desk: DeskLike) -> State:
        """The probe: whether the store answers, and if it does, the outbox sent."""
        self.reachable = server_answers(desk.store)
        if self.reachable:
            self.send(desk)
        return self.state()

    def take_back(self, desk: DeskLike) -> tuple[SavedDraft, str] | None:
        """The first call the store refused, back to the form to be put right: made the
        store's draft first, then taken out of the outbox; with the reason it was refused."""
        for entry in self.outbox.entries():
            if entry.refused is not None and entry.payload is not None:
                desk.drafts.save(entry.payload)
                self.outbox.remove(entry)
                return SavedDraft(entry.payload, entry.queued_at), entry.refused
        return None

    # --- the draft ---------------------------------------------------------------------------

    def save_draft(self, desk: DeskLike, payload: JSONObject) -> None:
        """The draft to the store, or to this PC when the store cannot be reached."""
        if not self.reachable:
            self.drafts.save(payload, self.clock.now())
            return
        try:
            desk.drafts.save(payload)
        except Exception as error:
            if not unreachable(error):
                raise
            self.reachable = False
            self.drafts.save(payload, self.clock.now())
            return
        self.reachable = True
        self.drafts.remove()

    def discard_draft(self, desk: DeskLike) -> None:
        """The draft discarded; when the store cannot be told, that is noted here, so its
        older copy does not come back at the next start."""
        if not self.reachable:
            self.drafts.save(None, self.clock.now())
            return
        try:
            desk.drafts.discard()
        except Exception as error:
            if not unreachable(error):
                raise
            self.reachable = False
            self.drafts.save(None, self.clock.now())
            return
        self.reachable = True
        self.drafts.remove()

    def recover_draft(self, desk: DeskLike) -> SavedDraft | None:
        """At sign-in (the store answers): the calls kept here are sent, then the newer of
        the store's draft and this PC's comes back, given to the store (this PC's copy then
        goes). A draft of a call still kept in the outbox is not one to put back."""
        self.send(desk)
        stored = desk.drafts.load()
        local = self.drafts.load()
        chosen = newer_draft(local, stored)
        if local is not None and chosen is not stored:
            if chosen is None:
                desk.drafts.discard()
            else:
                desk.drafts.save(chosen.payload)
        self.drafts.remove()
        key = chosen.payload.get(CALL_KEY) if chosen is not None else None
        if isinstance(key, str) and self.outbox.keeps(key):
            return None
        return chosen
