"""The intake form as the worker left it, saved as they type so a crash or power cut loses nothing.

The payload is the form's own JSON: it may hold personal details, so it lives in the store (with
the calls it will become) and is deleted the moment the call is saved or discarded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from advice_desk.clock import Clock
from advice_desk.store.engine import Store
from advice_desk.store.models import Draft


@dataclass(frozen=True)
class SavedDraft:
    payload: dict[str, Any]
    updated_at: datetime


def save_draft(store: Store, user_id: int, payload: dict[str, Any], clock: Clock) -> None:
    with store.write() as session:
        session.merge(Draft(user_id=user_id, updated_at=clock.now(), payload=json.dumps(payload)))


def load_draft(store: Store, user_id: int) -> SavedDraft | None:
    with store.read() as session:
        draft = session.get(Draft, user_id)
        if draft is None:
            return None
        return SavedDraft(json.loads(draft.payload), draft.updated_at)


def discard_draft(store: Store, user_id: int) -> None:
    with store.write() as session:
        draft = session.get(Draft, user_id)
        if draft is not None:
            session.delete(draft)
