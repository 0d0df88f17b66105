"""The signed-in desk's saves, draft and non-data calls, kept on this PC while the database
server cannot be reached (:mod:`advice_desk.calls.outbox`, :mod:`advice_desk.calls.local_copies`).

The window calls :class:`Offline` on its store thread instead of the desk's own save, draft and
non-data operations: each tries the store first and keeps the work here when the store cannot
be reached; a probe (:meth:`Offline.reconnect`) finds it back and sends what was kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from advice_desk.calls.local_copies import LocalDrafts, newer_draft, offline_folder
from advice_desk.calls.outbox import OUTBOX_DIR, DeskLike, Entry, Outbox, Result, Sent
from advice_desk.calls.record import CALL_KEY, CallDetails, SavedDraft, normalise, validate
from advice_desk.clock import Clock
from advice_desk.json_value import JSONObject
from advice_desk.paths import Location
from advice_desk.store.failures import unreachable
from advice_desk.validation import ValidationError

if TYPE_CHECKING:
    from advice_desk.store.engine import Store


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
                    payload: JSONObject | None = None, version: int | None = None
                    ) -> list[str] | None:
        """The fields changed, or None when the edit was kept on this PC. ``version``: the
        call's when it was opened (an edit of a call changed since is refused)."""
        changed = self._save(desk, Entry(Path(), "update", key, self.clock.now(), details,
                                         call_id, payload=payload, opened_version=version))
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
        self._draft(lambda: desk.drafts.save(payload), payload)

    def discard_draft(self, desk: DeskLike) -> None:
        """The draft discarded; when the store cannot be told, that is noted here, so its
        older copy does not come back at the next start."""
        self._draft(desk.drafts.discard, None)

    def _draft(self, in_store: Callable[[], None], kept: JSONObject | None) -> None:
        """``in_store`` done (this PC's copy then goes), or ``kept`` noted here instead."""
        if self.reachable:
            try:
                in_store()
            except Exception as error:
                if not unreachable(error):
                    raise
                self.reachable = False
            else:
                self.drafts.remove()
                return
        self.drafts.save(kept, self.clock.now())

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
