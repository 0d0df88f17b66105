"""The intake form as the worker left it, saved as they type so a crash or power cut loses nothing.

The payload is the form's own JSON: it may hold personal details, so it lives in the store (with
the calls it will become) and is deleted the moment the call is saved or discarded.
"""

from __future__ import annotations

import json

from sqlmodel import Session

from advice_desk.calls.record import CALL_KEY, SavedDraft
from advice_desk.json_value import JSONObject
from advice_desk.people.manager import Manager
from advice_desk.store.models import Draft


def end_draft(session: Session, user_id: int, key: str | None) -> None:
    """Delete the user's draft of the call whose form has this key, in the caller's transaction
    (the one that saves the call, so a saved call can never come back as a draft). A draft of
    another call (another form's key) stays; one without a key (older than keys) goes."""
    draft = session.get(Draft, user_id)
    if draft is None:
        return
    if key is not None:
        payload = json.loads(draft.payload)
        drafted = payload.get(CALL_KEY) if isinstance(payload, dict) else None
        if isinstance(drafted, str) and drafted != key:
            return
    session.delete(draft)


class Drafts(Manager):
    """The actor's one draft: saved, loaded back after a restart, discarded."""

    def save(self, payload: JSONObject) -> None:
        with self.store.write() as session:
            session.merge(Draft(user_id=self._user_id(), updated_at=self.clock.now(),
                                payload=json.dumps(payload)))

    def load(self) -> SavedDraft | None:
        with self.store.read() as session:
            draft = session.get(Draft, self._user_id())
            if draft is None:
                return None
            payload: JSONObject = json.loads(draft.payload)
            return SavedDraft(payload, draft.updated_at)

    def discard(self) -> None:
        with self.store.write() as session:
            draft = session.get(Draft, self._user_id())
            if draft is not None:
                session.delete(draft)

    def _user_id(self) -> int:
        assert self.actor.id is not None, "a draft is a signed-in worker's"
        return self.actor.id
