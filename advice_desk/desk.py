"""The desk: an open store, the person signed in at it and the clock, behind plain methods.

This is the whole surface the GUI uses, so views stay thin and every action is usable (and
testable) without Qt. The GUI imports this module on its store thread after the window has
painted, because importing SQLModel alone takes about 0.3 s. :class:`Reception` is the store
before anyone has signed in; signing in turns it into a :class:`Desk`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from advice_desk import settings
from advice_desk.calls.drafts import Drafts
from advice_desk.calls.history import CallQuery, CallSummary
from advice_desk.calls.record import CallDetails, SavedDraft, StoredCall
from advice_desk.calls.review import FollowUp, Review
from advice_desk.calls.service import Calls
from advice_desk.calls.topic_views import TopicRow
from advice_desk.calls.topics import Topics, topic_labels
from advice_desk.clock import Clock
from advice_desk.json_value import JSONObject
from advice_desk.paths import Location, config_dir
from advice_desk.people import accounts, audit
from advice_desk.people.permissions import Actor, Role, app_actor
from advice_desk.people.users import list_users
from advice_desk.privacy import retention
from advice_desk.reference.hours import HoursPolicy
from advice_desk.reports import extract
from advice_desk.reports import funder_export as export
from advice_desk.reports import output as report_output
from advice_desk.reports.compute import Report, compute_report
from advice_desk.reports.pdf import write_pdf
from advice_desk.store.engine import Store, open_store
from advice_desk.store.models import AuditEvent, User


@dataclass
class Reception:
    """An open store, waiting for someone to sign in."""

    store: Store
    clock: Clock

    def needs_first_supervisor(self) -> bool:
        return accounts.needs_first_supervisor(self.store)

    def create_first_supervisor(self, username: str, display_name: str, password: str) -> Desk:
        actor = accounts.create_first_supervisor(self.store, username, display_name, password,
                                                 self.clock)
        return Desk(self.store, self.clock, actor)

    def apply_retention(self) -> int:
        """Erase the personal details that have been kept long enough (at every start)."""
        return retention.apply_retention(self.store, app_actor(), self.clock)

    def sign_in(self, username: str, password: str) -> Desk:
        return Desk(self.store, self.clock,
                    accounts.sign_in(self.store, username, password, self.clock))

    def close(self) -> None:
        self.store.close()


def open_reception(location: Location, clock: Clock) -> Reception:
    return Reception(open_store(location, clock), clock)


@dataclass
class Desk:
    store: Store
    clock: Clock
    actor: Actor
    calls: Calls = field(init=False)
    drafts: Drafts = field(init=False)
    review: Review = field(init=False)
    topics: Topics = field(init=False)

    def __post_init__(self) -> None:
        bound = (self.store, self.actor, self.clock)
        self.calls, self.drafts = Calls(*bound), Drafts(*bound)
        self.review, self.topics = Review(*bound), Topics(*bound)

    @property
    def user_id(self) -> int:
        assert self.actor.id is not None, "the desk is always a signed-in user's"
        return self.actor.id

    def unlock(self, username: str, password: str) -> Desk:
        """After idle time: only the same user's password opens the desk again."""
        if username.strip() != self.actor.username:
            raise accounts.SignInError("Only the person who was signed in can unlock.")
        accounts.sign_in(self.store, username, password, self.clock)
        return self

    def workers(self) -> list[User]:
        return list_users(self.store)

    # TEMP: the GUI moves to desk.calls
    def log_call(self, details: CallDetails) -> int:
        """Log the call, then drop the draft it was typed in."""
        call_id = self.calls.log(details)
        self.drafts.discard()
        return call_id

    # TEMP: the GUI moves to desk.calls
    def update_call(self, call_id: int, details: CallDetails) -> list[str]:
        changed = self.calls.update(call_id, details)
        self.drafts.discard()
        return changed

    # TEMP: the GUI moves to desk.calls
    def log_non_data_call(self, kind: str) -> int:
        return self.calls.log_non_data(kind)

    # TEMP: the GUI moves to desk.calls
    def get_call(self, call_id: int) -> StoredCall:
        return self.calls.get(call_id)

    # TEMP: the GUI moves to desk.calls
    def list_calls(self, query: CallQuery, offset: int, limit: int) -> list[CallSummary]:
        return self.calls.list(query, offset, limit)

    # TEMP: the GUI moves to desk.drafts
    def save_draft(self, payload: JSONObject) -> None:
        self.drafts.save(payload)

    # TEMP: the GUI moves to desk.drafts
    def load_draft(self) -> SavedDraft | None:
        return self.drafts.load()

    # TEMP: the GUI moves to desk.drafts
    def discard_draft(self) -> None:
        self.drafts.discard()

    def hours_policy(self) -> HoursPolicy:
        return settings.hours_policy(self.store)

    def save_hours_policy(self, policy: HoursPolicy) -> None:
        settings.save_hours_policy(self.store, self.actor, policy, self.clock)

    def report(self, date_from: date, date_to: date) -> tuple[Report, dict[str, str]]:
        """The figures for a period, with the labels of the topics they name."""
        labels = topic_labels(self.store)
        return compute_report(self.store, self.actor, date_from, date_to), labels

    def save_report_pdf(self, report: Report, labels: dict[str, str], path: Path) -> None:
        write_pdf(report, report_output.labeller(labels), path)

    # TEMP: the GUI moves to desk.review
    def review_call(self, call_id: int, note: str) -> None:
        self.review.call(call_id, note)

    # TEMP: the GUI moves to desk.review
    def follow_ups(self) -> list[FollowUp]:
        return self.review.follow_ups()

    # TEMP: the GUI moves to desk.review
    def complete_follow_up(self, call_id: int) -> None:
        self.review.complete_follow_up(call_id)

    # The taxonomy editor's operations (gui.taxonomy_dialog.TaxonomyEditor).

    # TEMP: the GUI moves to desk.topics
    def list_topics(self) -> list[TopicRow]:
        return self.topics.rows()

    # TEMP: the GUI moves to desk.topics
    def add_topic(self, label: str, parent_code: str | None) -> str:
        return self.topics.add(label, parent_code)

    # TEMP: the GUI moves to desk.topics
    def rename_topic(self, code: str, label: str) -> None:
        self.topics.rename(code, label)

    # TEMP: the GUI moves to desk.topics
    def move_topic(self, code: str, offset: int) -> None:
        self.topics.move(code, offset)

    # TEMP: the GUI moves to desk.topics
    def set_retired(self, code: str, retired: bool) -> None:
        (self.topics.retire if retired else self.topics.restore)(code)

    # The users window's operations (gui.users_dialog.UserAdmin).

    def list_accounts(self) -> list[accounts.Account]:
        return accounts.list_accounts(self.store, self.actor)

    def add_user(self, username: str, display_name: str, role: Role, password: str) -> int:
        return accounts.add_user(self.store, self.actor, username, display_name, role,
                                 password, self.clock)

    def set_active(self, user_id: int, active: bool) -> None:
        accounts.set_active(self.store, self.actor, user_id, active, self.clock)

    def reset_password(self, user_id: int, password: str) -> None:
        accounts.reset_password(self.store, self.actor, user_id, password, self.clock)

    # The audit window's operations (gui.audit_view.AuditReader).

    def list_events(self, query: audit.AuditQuery, offset: int, limit: int
                    ) -> list[AuditEvent]:
        return audit.list_events(self.store, self.actor, query, offset, limit)

    def event_actions(self) -> list[str]:
        return audit.event_actions(self.store)

    def export_for_funders(self, date_from: date, date_to: date, out_dir: Path, rows: bool,
                           progress: export.Progress | None = None,
                           cancelled: Callable[[], bool] | None = None,
                           fresh_key: bool = False) -> export.ExportResult:
        """With the disclosure settings of the store and the export key of this computer, or
        a key made for this export alone (repeat callers then cannot be matched across
        exports)."""
        threshold = settings.whole_number(self.store, settings.EXPORT_THRESHOLD,
                                          export.DEFAULT_THRESHOLD)
        k = settings.whole_number(self.store, settings.EXPORT_K, extract.DEFAULT_K)
        secret = None
        if rows:
            secret = (secrets.token_bytes(32) if fresh_key
                      else extract.load_secret(config_dir() / "export-key"))
        return export.export_for_funders(self.store, self.actor, date_from, date_to, out_dir,
                                         self.clock, threshold, secret, k, progress, cancelled)

    # One person's data (gui.people_dialog): ``by`` is "name", "phone" or "email".

    def find_person(self, by: str, value: str) -> list[int]:
        return retention.find_person(self.store, self.actor, **{by: value})

    def save_subject_access(self, ids: list[int], path: Path) -> None:
        retention.write_subject_access(self.store, self.actor, ids, path, self.clock)

    def erase_person(self, by: str, value: str) -> int:
        return retention.erase_person(self.store, self.actor, self.clock, **{by: value})

    def idle_limit(self) -> timedelta:
        return timedelta(minutes=settings.idle_lock_minutes(self.store))

