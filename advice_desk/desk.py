"""The desk: an open store, the person signed in at it and the clock, as one manager per area.

This is the whole surface the GUI uses (``desk.calls.get(id)``, ``desk.topics.retire(code)``),
so views stay thin and every action is usable (and testable) without Qt. The GUI imports this
module on its store thread after the window has painted, because importing SQLModel alone takes
about 0.3 s. :class:`Reception` is the store before anyone has signed in; signing in turns it
into a :class:`Desk`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advice_desk.calls.drafts import Drafts
from advice_desk.calls.record import CallDetails
from advice_desk.calls.review import Review
from advice_desk.calls.service import Calls
from advice_desk.calls.topics import Topics
from advice_desk.clock import Clock
from advice_desk.paths import Location
from advice_desk.people import accounts
from advice_desk.people.accounts import Users
from advice_desk.people.audit import AuditTrail
from advice_desk.people.permissions import Actor, app_actor
from advice_desk.privacy.personal_data import PersonalData
from advice_desk.privacy.repeat_callers import RepeatCallers
from advice_desk.privacy.retention import apply_retention
from advice_desk.reports.compute import Reports
from advice_desk.reports.funder_export import FunderExport
from advice_desk.settings import Settings
from advice_desk.store.engine import Store, open_store


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
    reports: Reports = field(init=False)
    export: FunderExport = field(init=False)
    callers: RepeatCallers = field(init=False)

    def __post_init__(self) -> None:
        bound = (self.store, self.actor, self.clock)
        self.calls, self.drafts = Calls(*bound), Drafts(*bound)
        self.review, self.topics = Review(*bound), Topics(*bound)
        self.users, self.audit = Users(*bound), AuditTrail(*bound)
        self.settings, self.people = Settings(*bound), PersonalData(*bound)
        self.reports, self.export = Reports(*bound), FunderExport(*bound)
        self.callers = RepeatCallers(*bound)

    def log_call(self, details: CallDetails, key: str | None = None) -> int:
        """Log the call typed in the form with idempotency ``key`` and drop its draft, in one
        transaction: saving a call ends its draft, and saving it again stores nothing new."""
        return self.calls.log(details, key=key, drafted=True)

    def update_call(self, call_id: int, details: CallDetails, key: str | None = None,
                    version: int | None = None) -> list[str]:
        """Save the edit of a stored call (opened at ``version``) and drop the draft it was
        typed in, in one transaction."""
        return self.calls.update(call_id, details, key=key, drafted=True, version=version)
