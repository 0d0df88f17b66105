"""Settings a supervisor changes in the app, kept in the store so every seat shares them.

Values are JSON. Defaults come from ``resources/``; a setting in the store overrides them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from advice_desk.clock import Clock
from advice_desk.people import audit
from advice_desk.people.permissions import Action, Actor, require
from advice_desk.reference.hours import HoursPolicy, default_policy, policy_from_dict
from advice_desk.store.engine import Store
from advice_desk.store.models import Setting
from advice_desk.validation import ValidationError

HOURS = "hours"
IDLE_LOCK_MINUTES = "idle_lock_minutes"
DEFAULT_IDLE_LOCK_MINUTES = 10
EXPORT_THRESHOLD, EXPORT_K = "export_threshold", "export_k"  # disclosure control, both 5


def read_setting(session: Session, key: str) -> Any | None:
    setting = session.get(Setting, key)
    return None if setting is None else json.loads(setting.value)


def write_setting(session: Session, key: str, value: Any) -> None:
    session.merge(Setting(key=key, value=json.dumps(value, sort_keys=True)))


def hours_policy_in(session: Session) -> HoursPolicy:
    raw = read_setting(session, HOURS)
    return default_policy() if raw is None else policy_from_dict(raw)


def hours_policy(store: Store) -> HoursPolicy:
    with store.read() as session:
        return hours_policy_in(session)


def save_hours_policy(store: Store, actor: Actor, policy: HoursPolicy, clock: Clock) -> None:
    """Store a new policy (supervisors only, audited); refuses overlapping or back-to-front
    sessions. Calls already stored keep their in-hours flag until ``hours --recompute``."""
    require(actor, Action.SETTINGS)
    problems = policy.problems()
    if problems:
        raise ValidationError(problems)
    with store.write() as session:
        before = hours_policy_in(session).to_dict()
        after = policy.to_dict()
        write_setting(session, HOURS, after)
        changed = sorted(k for k in after if before.get(k) != after[k])
        audit.record(session, clock, actor, "settings-changed", f"setting {HOURS}",
                     {"changed": changed})


def whole_number(store: Store, key: str, default: int) -> int:
    """A numeric setting, or its default while nobody has changed it."""
    with store.read() as session:
        value = read_setting(session, key)
    return default if value is None else int(value)


def idle_lock_minutes(store: Store) -> int:
    """Minutes without a key press or mouse action before the app locks itself."""
    return whole_number(store, IDLE_LOCK_MINUTES, DEFAULT_IDLE_LOCK_MINUTES)
