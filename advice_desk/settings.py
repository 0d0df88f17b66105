"""Settings a supervisor changes in the app, kept in the store so every seat shares them.

Every setting is declared here once, in the registry below: its key in the store, its default
and what a valid value is. Values are JSON; a setting in the store overrides its default. The
opening hours default to ``resources/hours.toml``. :class:`Settings` reads and saves them;
:data:`EDITABLE` are the ones the settings dialog and ``advice-desk settings`` change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from advice_desk.json_value import JSONValue
from advice_desk.people import audit
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, require
from advice_desk.reference import lists as reference
from advice_desk.reference.hours import HoursPolicy, default_policy, policy_from_dict
from advice_desk.store.models import Setting
from advice_desk.validation import FieldError, ValidationError


@dataclass(frozen=True)
class WholeNumber:
    """A numeric setting: its key, its value while nobody has changed it, and the least value
    that makes sense (``what`` and ``unit`` name it in the message refusing a smaller one)."""

    key: str
    default: int
    minimum: int
    maximum: int
    what: str
    unit: str = ""

    def read(self, session: Session) -> int:
        value = read_setting(session, self.key)
        if value is None:
            return self.default
        if not isinstance(value, int | float | str):
            raise ValueError(f"the setting {self.key} holds {value!r}, not a number")
        # A value saved before the range was narrowed (an export k of 1) is read as the
        # nearest allowed one: never a setting that turns a protection off.
        return min(max(int(value), self.minimum), self.maximum)

    def check(self, value: int) -> int:
        """``value`` when it is valid; otherwise ValueError, saying what the range is."""
        if not self.minimum <= value <= self.maximum:
            unit = f" {self.unit}s" if self.unit else ""
            raise ValueError(f"{self.what} must be from {self.minimum} to {self.maximum}{unit}, "
                             f"not {value}")
        return value

    def accept(self, value: int | str) -> int:
        """A value given as a number or typed as text, checked."""
        if isinstance(value, str):
            return self.parse(value)
        return self.check(value)

    def parse(self, text: str) -> int:
        """A value typed as text (the command line), checked."""
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"{self.what} must be a whole number, not {text!r}") from None
        return self.check(value)


@dataclass(frozen=True)
class OneLine:
    """A setting of one line of text, at most ``longest`` characters, never empty."""

    key: str
    default: str
    longest: int
    what: str

    def read(self, session: Session) -> str:
        value = read_setting(session, self.key)
        return self.default if value is None else str(value)

    def check(self, value: str) -> str:
        text = " ".join(value.split())
        if not text:
            raise ValueError(f"{self.what} cannot be empty")
        if len(text) > self.longest:
            raise ValueError(f"{self.what} must be at most {self.longest} characters")
        return text

    def parse(self, text: str) -> str:
        return self.check(text)

    def accept(self, value: int | str) -> str:
        return self.check(str(value))


# --- the registry: every setting there is ----------------------------------------------------

HOURS = "hours"  # HoursPolicy.to_dict(); valid when HoursPolicy.problems() finds none
IDLE_LOCK_MINUTES = WholeNumber("idle_lock_minutes", default=10, minimum=1, maximum=480,
                                what="the idle lock", unit="minute")
RETENTION_MONTHS = WholeNumber("retention_months", default=12, minimum=1, maximum=240,
                               what="the retention period", unit="month")
# Disclosure control of the funder export: the least count shown, and the k of k-anonymity.
# 1 would turn either off (every count shown, a row alone in its group), and 2 lets a caller who
# knows they are one of the two work out the other: 3 is the least.
EXPORT_THRESHOLD = WholeNumber("export_threshold", default=5, minimum=3, maximum=1000,
                               what="the disclosure threshold")
EXPORT_K = WholeNumber("export_k", default=5, minimum=3, maximum=1000, what="k")
# How many automatic backups are kept in each tier (advice_desk.backups.tiers).
BACKUP_DAILY = WholeNumber("backup_daily_copies", default=14, minimum=1, maximum=365,
                           what="the number of daily backups kept")
BACKUP_WEEKLY = WholeNumber("backup_weekly_copies", default=8, minimum=0, maximum=260,
                            what="the number of weekly backups kept")
BACKUP_MONTHLY = WholeNumber("backup_monthly_copies", default=12, minimum=0, maximum=240,
                             what="the number of monthly backups kept")
# The name windows, reports and files show; resources/helpline.toml gives the first one.
HELPLINE_NAME = OneLine("helpline_name", default=reference.helpline().name, longest=120,
                        what="the helpline's name")

Editable = WholeNumber | OneLine
EDITABLE: tuple[Editable, ...] = (HELPLINE_NAME, RETENTION_MONTHS, EXPORT_THRESHOLD, EXPORT_K,
                                  IDLE_LOCK_MINUTES, BACKUP_DAILY, BACKUP_WEEKLY, BACKUP_MONTHLY)
SettingValue = int | str


def editable(key: str) -> Editable:
    """The setting of that key; ValueError naming the key and listing the keys otherwise."""
    for setting in EDITABLE:
        if setting.key == key:
            return setting
    raise ValueError(f"there is no setting {key!r}; the settings are "
                     f"{', '.join(s.key for s in EDITABLE)}")


@dataclass(frozen=True)
class Shown:
    """One setting as a supervisor sees it: its value now and its default."""

    key: str
    what: str
    value: SettingValue
    default: SettingValue


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

    def shown(self) -> list[Shown]:
        """Every editable setting with its value and default (anyone may read them)."""
        with self.store.read() as session:
            return [Shown(s.key, s.what, s.read(session), s.default) for s in EDITABLE]

    def save(self, values: Mapping[str, SettingValue]) -> list[str]:
        """Store new values (supervisors only, audited), all or none: ValidationError names
        every key with a bad value. Returns the keys that changed."""
        require(self.actor, Action.SETTINGS)
        checked: dict[str, SettingValue] = {}
        problems = []
        for key, value in values.items():
            try:
                setting = editable(key)
                checked[key] = setting.accept(value)
            except ValueError as error:
                problems.append(FieldError(key, str(error)))
        if problems:
            raise ValidationError(problems)
        with self.store.write() as session:
            changed = sorted(key for key, value in checked.items()
                             if editable(key).read(session) != value)
            for key in changed:
                write_setting(session, key, checked[key])
            if changed:
                audit.record(session, self.clock, self.actor, "settings-changed", "settings",
                             {"changed": changed})
        return changed

    def set_text(self, key: str, text: str) -> list[str]:
        """One setting from text typed on the command line; ValueError for a bad key or value,
        its message naming the key."""
        setting = editable(key)
        try:
            value = setting.parse(text)
        except ValueError as error:
            raise ValueError(f"{key}: {error}") from None
        return self.save({key: value})

    def helpline_name(self) -> str:
        with self.store.read() as session:
            return HELPLINE_NAME.read(session)

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
