"""Settings a supervisor changes in the app, kept in the store so every seat shares them.

Every setting is declared here once, in the registry below: its key in the store, its default
and what a valid value is. Values are JSON; a setting in the store overrides its default. The
opening hours default to ``resources/hours.toml``. :class:`Settings` reads and saves them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from advice_desk.json_value import JSONValue
from advice_desk.people import audit
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, require
from advice_desk.reference.hours import HoursPolicy, default_policy, policy_from_dict
from advice_desk.store.models import Setting
from advice_desk.validation import ValidationError


@dataclass(frozen=True)
class WholeNumber:
    """A numeric setting: its key, its value while nobody has changed it, and the least value
    that makes sense (``what`` and ``unit`` name it in the message refusing a smaller one)."""

    key: str
    default: int
    minimum: int
    what: str
    unit: str = ""

    def read(self, session: Session) -> int:
        value = read_setting(session, self.key)
        if value is None:
            return self.default
        if not isinstance(value, int | float | str):
            raise ValueError(f"the setting {self.key} holds {value!r}, not a number")
        return int(value)

    def check(self, value: int) -> int:
        """``value`` when it is valid; otherwise ValueError, saying what the least value is."""
        if value < self.minimum:
            unit = f" {self.unit}" if self.unit else ""
            raise ValueError(f"{self.what} must be {self.minimum}{unit} or more, not {value}")
        return value


# --- the registry: every setting there is ----------------------------------------------------

HOURS = "hours"  # HoursPolicy.to_dict(); valid when HoursPolicy.problems() finds none
IDLE_LOCK_MINUTES = WholeNumber("idle_lock_minutes", default=10, minimum=1,
                                what="the idle lock", unit="minute")
RETENTION_MONTHS = WholeNumber("retention_months", default=12, minimum=1,
                               what="the retention period", unit="month")
# Disclosure control of the funder export: the least count shown, and the k of k-anonymity.
EXPORT_THRESHOLD = WholeNumber("export_threshold", default=5, minimum=1,
                               what="the disclosure threshold")
EXPORT_K = WholeNumber("export_k", default=5, minimum=1, what="k")


def read_setting(session: Session, key: str) -> JSONValue:
    """The stored value, or None while nobody has changed the setting."""
    setting = session.get(Setting, key)
    value: JSONValue = None if setting is None else json.loads(setting.value)
    return value


def write_setting(session: Session, key: str, value: JSONValue) -> None:
    session.merge(Setting(key=key, value=json.dumps(value, sort_keys=True)))


def hours_policy_in(session: Session) -> HoursPolicy:
    """The opening hours, in the caller's transaction (saving a call decides in-hours)."""
    raw = read_setting(session, HOURS)
    if raw is None:
        return default_policy()
    if not isinstance(raw, dict):
        raise ValueError(f"the setting {HOURS} holds {raw!r}, not opening hours")
    return policy_from_dict(raw)


class Settings(Manager):
    """The store's settings, typed; changing one is for supervisors and audited."""

    def hours_policy(self) -> HoursPolicy:
        with self.store.read() as session:
            return hours_policy_in(session)

    def save_hours_policy(self, policy: HoursPolicy) -> None:
        """Store a new policy (supervisors only, audited); refuses overlapping or back-to-front
        sessions. Calls already stored keep their in-hours flag until ``hours --recompute``."""
        require(self.actor, Action.SETTINGS)
        problems = policy.problems()
        if problems:
            raise ValidationError(problems)
        with self.store.write() as session:
            before = hours_policy_in(session).to_dict()
            after = policy.to_dict()
            write_setting(session, HOURS, after)
            changed = sorted(k for k in after if before.get(k) != after[k])
            audit.record(session, self.clock, self.actor, "settings-changed",
                         f"setting {HOURS}", {"changed": changed})

    def retention_months(self) -> int:
        return self._whole_number(RETENTION_MONTHS)

    def idle_lock_limit(self) -> timedelta:
        """How long without a key press or mouse action before the app locks itself."""
        return timedelta(minutes=self._whole_number(IDLE_LOCK_MINUTES))

    def export_threshold(self) -> int:
        return self._whole_number(EXPORT_THRESHOLD)

    def export_k(self) -> int:
        return self._whole_number(EXPORT_K)

    def _whole_number(self, setting: WholeNumber) -> int:
        with self.store.read() as session:
            return setting.read(session)
