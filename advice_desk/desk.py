"""The desk: an open store, the person signed in at it and the clock, behind plain methods.

This is the whole surface the GUI uses, so views stay thin and every action is usable (and
testable) without Qt. The GUI imports this module on its store thread after the window has
painted, because importing SQLModel alone takes about 0.3 s. :class:`Reception` is the store
before anyone has signed in; signing in turns it into a :class:`Desk`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

from advice_desk.calls.drafts import Drafts
from advice_desk.calls.history import CallQuery, CallSummary
from advice_desk.calls.record import CallDetails, SavedDraft, StoredCall
from advice_desk.calls.review import FollowUp, Review
from advice_desk.calls.service import Calls
from advice_desk.calls.topic_views import TopicRow
from advice_desk.calls.topics import Topics
from advice_desk.clock import Clock
from advice_desk.json_value import JSONObject
from advice_desk.paths import Location
from advice_desk.people import accounts
from advice_desk.people.accounts import Account, Users
from advice_desk.people.audit import AuditQuery, AuditTrail
from advice_desk.people.permissions import Actor, Role, app_actor
from advice_desk.privacy.identity import PersonQuery, SearchBy
from advice_desk.privacy.personal_data import PersonalData
from advice_desk.privacy.retention import apply_retention
from advice_desk.reference.hours import HoursPolicy
from advice_desk.reports.compute import Reports
from advice_desk.reports.figures import Report
from advice_desk.reports.funder_export import ExportResult, FunderExport, Progress
from advice_desk.settings import Settings
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
        return apply_retention(self.store, app_actor(), self.clock)

    def sign_in(self, username: str, password: str) -> Desk:
        return Desk(self.store, self.clock,
                    accounts.sign_in(self.store, username, password, self.clock))

    def close(self) -> None:
        self.store.close()


def open_reception(location: Location, clock: Clock) -> Reception:
    return Reception(open_store(location, clock), clock)


@dataclass
class Desk:
    """The signed-in person's desk: one manager per area, each bound to the store, the actor
    and the clock (``desk.users.reset_password(...)``)."""

    store: Store
    clock: Clock
    actor: Actor
    calls: Calls = field(init=False)
    drafts: Drafts = field(init=False)
    review: Review = field(init=False)
    topics: Topics = field(init=False)
    users: Users = field(init=False)
    audit: AuditTrail = field(init=False)
    settings: Settings = field(init=False)
    people: PersonalData = field(init=False)

    def __post_init__(self) -> None:
        bound = (self.store, self.actor, self.clock)
        self.calls, self.drafts = Calls(*bound), Drafts(*bound)
        self.review, self.topics = Review(*bound), Topics(*bound)
        self.users = Users(*bound)
        self.audit = AuditTrail(*bound)
        self.settings = Settings(*bound)
        self.people = PersonalData(*bound)

    @property
    def user_id(self) -> int:
        assert self.actor.id is not None, "the desk is always a signed-in user's"
        return self.actor.id

    def unlock(self, username: str, password: str) -> Desk:
        self.users.unlock(username, password)  # TEMP: the GUI moves to desk.users
        return self

    def workers(self) -> list[User]:
        return self.users.workers()  # TEMP: the GUI moves to desk.users

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
        return self.settings.hours_policy()  # TEMP: the GUI moves to desk.settings

    def save_hours_policy(self, policy: HoursPolicy) -> None:
        self.settings.save_hours_policy(policy)  # TEMP: the GUI moves to desk.settings

    @cached_property
    def reports(self) -> Reports:
        return Reports(self.store, self.actor, self.clock)

    @cached_property
    def export(self) -> FunderExport:
        return FunderExport(self.store, self.actor, self.clock)

    def report(self, date_from: date, date_to: date) -> tuple[Report, dict[str, str]]:
        return self.reports.for_period(date_from, date_to)  # TEMP: the GUI moves to desk.reports

    def save_report_pdf(self, report: Report, labels: dict[str, str], path: Path) -> None:
        self.reports.save_pdf(report, labels, path)  # TEMP: the GUI moves to desk.reports

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

    def list_accounts(self) -> list[Account]:
        return self.users.accounts()  # TEMP: the GUI moves to desk.users

    def add_user(self, username: str, display_name: str, role: Role, password: str) -> int:
        return self.users.add(username, display_name, role, password)  # TEMP: desk.users

    def set_active(self, user_id: int, active: bool) -> None:
        self.users.set_active(user_id, active)  # TEMP: the GUI moves to desk.users

    def reset_password(self, user_id: int, password: str) -> None:
        self.users.reset_password(user_id, password)  # TEMP: the GUI moves to desk.users

    # The audit window's operations (gui.audit_view.AuditReader).

    def list_events(self, query: AuditQuery, offset: int, limit: int) -> list[AuditEvent]:
        return self.audit.events(query, offset, limit)  # TEMP: the GUI moves to desk.audit

    def event_actions(self) -> list[str]:
        return self.audit.actions()  # TEMP: the GUI moves to desk.audit

    def export_for_funders(self, date_from: date, date_to: date, out_dir: Path, rows: bool,
                           progress: Progress | None = None,
                           cancelled: Callable[[], bool] | None = None,
                           fresh_key: bool = False) -> ExportResult:
        return self.export.write(date_from, date_to, out_dir, self.export.choices(rows, fresh_key),
                                 progress, cancelled)  # TEMP: the GUI moves to desk.export

    # One person's data (gui.people_dialog).

    def find_person(self, by: SearchBy, value: str) -> list[int]:
        return self.people.find(PersonQuery(by, value))  # TEMP: the GUI moves to desk.people

    def save_subject_access(self, ids: list[int], path: Path) -> None:
        self.people.save_subject_access(ids, path)  # TEMP: the GUI moves to desk.people

    def erase_person(self, by: SearchBy, value: str) -> int:
        return self.people.erase(PersonQuery(by, value))  # TEMP: the GUI moves to desk.people

    def idle_limit(self) -> timedelta:
        return self.settings.idle_lock_limit()  # TEMP: the GUI moves to desk.settings

