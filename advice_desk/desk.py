"""One worker's desk: an open store, the person using it and the clock, behind plain methods.

This is the whole surface the GUI uses, so views stay thin and every action is usable (and
testable) without Qt. The GUI imports this module on its store thread after the window has
painted, because importing SQLModel alone takes about 0.3 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from advice_desk import calls, drafts, settings
from advice_desk.call_details import CallDetails, CallQuery, CallSummary, StoredCall
from advice_desk.clock import Clock
from advice_desk.hours import HoursPolicy
from advice_desk.models import Topic, User
from advice_desk.paths import Location
from advice_desk.store import Store, open_store
from advice_desk.users import get_or_create_user, list_users


@dataclass(frozen=True)
class TopicChoice:
    code: str
    label: str
    parent_label: str | None
    retired: bool

    @property
    def display(self) -> str:
        return f"{self.label} ({self.parent_label})" if self.parent_label else self.label


@dataclass
class Desk:
    store: Store
    clock: Clock
    user: User

    @property
    def user_id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    def topics(self) -> list[TopicChoice]:
        """Every topic, parents before their subtopics, retired ones included (old calls)."""
        ordered = calls.topic_labels(self.store)
        return [_choice(topic, ordered) for topic in ordered.values()]

    def workers(self) -> list[User]:
        return list_users(self.store)

    def log_call(self, details: CallDetails) -> int:
        call_id = calls.log_call(self.store, details, self.user_id, self.clock)
        drafts.discard_draft(self.store, self.user_id)
        return call_id

    def update_call(self, call_id: int, details: CallDetails) -> list[str]:
        changed = calls.update_call(self.store, call_id, details, self.clock)
        drafts.discard_draft(self.store, self.user_id)
        return changed

    def log_non_data_call(self, kind: str) -> int:
        return calls.log_non_data_call(self.store, kind, self.user_id, self.clock)

    def get_call(self, call_id: int) -> StoredCall:
        return calls.get_call(self.store, call_id)

    def list_calls(self, query: CallQuery, offset: int, limit: int) -> list[CallSummary]:
        return calls.list_calls(self.store, query, offset, limit)

    def save_draft(self, payload: dict[str, Any]) -> None:
        drafts.save_draft(self.store, self.user_id, payload, self.clock)

    def load_draft(self) -> drafts.SavedDraft | None:
        return drafts.load_draft(self.store, self.user_id)

    def discard_draft(self) -> None:
        drafts.discard_draft(self.store, self.user_id)

    def hours_policy(self) -> HoursPolicy:
        return settings.hours_policy(self.store)

    def save_hours_policy(self, policy: HoursPolicy) -> None:
        settings.save_hours_policy(self.store, policy)

    def close(self) -> None:
        self.store.close()


def _choice(topic: Topic, by_code: dict[str, Topic]) -> TopicChoice:
    parent = by_code.get(topic.parent_code) if topic.parent_code else None
    return TopicChoice(topic.code, topic.label, parent.label if parent else None, topic.retired)


def open_desk(location: Location, clock: Clock, username: str,
              display_name: str | None = None) -> Desk:
    store = open_store(location, clock)
    user = get_or_create_user(store, username, clock, display_name=display_name)
    return Desk(store, clock, user)
