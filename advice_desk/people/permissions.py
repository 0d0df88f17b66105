"""Who may do what: the one place the role rules live, enforced by the core services.

Hiding a button is a courtesy; these checks are the rule. Workers log calls and see and edit
only their own calls of the last seven days; supervisors see everything and alone may report,
export, review, erase, and change settings, the taxonomy and the users. The command line acts
as a supervisor: whoever can run it on the office PC can already read the store's file.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

WORKER_WINDOW = timedelta(days=7)


class Role(StrEnum):
    """Every role there is: the one list the core, the store and the GUI derive theirs from."""

    WORKER = "worker"
    SUPERVISOR = "supervisor"

    @property
    def label(self) -> str:
        """The role as a person reads it: ``Worker``."""
        return self.value.capitalize()


class Action(StrEnum):
    REPORT = "see reports"
    EXPORT = "export for funders"
    REVIEW = "review calls"
    ERASE = "erase people's details"
    SETTINGS = "change settings"
    TAXONOMY = "change the topics"
    USERS = "manage users"
    AUDIT = "read the audit trail"
    ALL_CALLS = "see every call"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the command line (``id`` None)."""

    id: int | None
    username: str
    name: str
    role: Role

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR


def command_line_actor() -> Actor:
    user = getpass.getuser()
    return Actor(None, f"cli:{user}", f"command line ({user})", Role.SUPERVISOR)


def app_actor() -> Actor:
    """The app itself, for what it does on its own: retention at start-up."""
    return Actor(None, "app", "Advice Desk (at start-up)", Role.SUPERVISOR)


class PermissionDenied(Exception):
    """The actor's role does not allow this; the message says what and who may."""


class AccountDisabled(PermissionDenied):
    """The signed-in person's account was disabled while their session was open: nothing more
    is done for them (the GUI locks the desk)."""


def require(actor: Actor, action: Action) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(f"only a supervisor can {action}; {actor.name} is a worker")


def may_see_call(actor: Actor, worker_id: int, started_at: datetime, now: datetime) -> bool:
    if actor.is_supervisor:
        return True
    return worker_id == actor.id and started_at >= now - WORKER_WINDOW


def require_call(actor: Actor, worker_id: int, started_at: datetime, now: datetime) -> None:
    if not may_see_call(actor, worker_id, started_at, now):
        raise PermissionDenied(
            f"{actor.name} can only open their own calls of the last "
            f"{WORKER_WINDOW.days} days")
