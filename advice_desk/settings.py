"""Settings a supervisor changes in the app, kept in the store so every seat shares them.

Values are JSON. Defaults come from ``resources/``; a setting in the store overrides them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from advice_desk.hours import HoursPolicy, default_policy, policy_from_dict
from advice_desk.models import Setting
from advice_desk.store import Store
from advice_desk.validation import ValidationError

HOURS = "hours"
IDLE_LOCK_MINUTES = "idle_lock_minutes"
DEFAULT_IDLE_LOCK_MINUTES = 10


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


def save_hours_policy(store: Store, policy: HoursPolicy) -> None:
    """Store a new policy; refuses one with overlapping or back-to-front sessions."""
    problems = policy.problems()
    if problems:
        raise ValidationError(problems)
    with store.write() as session:
        write_setting(session, HOURS, policy.to_dict())


def idle_lock_minutes(store: Store) -> int:
    """Minutes without a key press or mouse action before the app locks itself."""
    with store.read() as session:
        value = read_setting(session, IDLE_LOCK_MINUTES)
    return DEFAULT_IDLE_LOCK_MINUTES if value is None else int(value)
