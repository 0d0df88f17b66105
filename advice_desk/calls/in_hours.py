"""Setting every call's in-hours flag again after the opening hours changed, figures with it."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import col

from advice_desk.figures import rollup
from advice_desk.figures.rollup import Change
from advice_desk.settings import hours_policy_in
from advice_desk.store.engine import Store
from advice_desk.store.models import Call


def recompute_in_hours(store: Store, batch: int = 20_000) -> int:
    """Set ``in_hours`` on every call from the current hours policy; returns how many changed.

    For after a policy change (a closure added for a past day, new sessions), so reports agree
    with the hours as they now stand.
    """
    changed = 0
    last_id = 0
    while True:
        with store.write() as session:
            policy = hours_policy_in(session)
            rows = session.connection().execute(
                sa.select(col(Call.id), col(Call.started_at), col(Call.in_hours),
                          col(Call.local_date), col(Call.local_minute), col(Call.withdrawn_at))
                .where(col(Call.id) > last_id).order_by(col(Call.id)).limit(batch)).all()
            if not rows:
                return changed
            flips: dict[int, bool] = {}
            change = Change()
            for call_id, started, was_in, day, minute, withdrawn in rows:
                assert call_id is not None
                last_id = call_id
                is_in = policy.is_open(started)
                if is_in != was_in:
                    flips[call_id] = is_in
                    if day is not None and withdrawn is None:
                        _count_flip(change, day, minute, was_in, is_in)
            rollup.apply(session.connection(), change)
            for value in (True, False):
                ids = [call_id for call_id, flipped in flips.items() if flipped is value]
                if ids:
                    session.exec(sa.update(Call).where(col(Call.id).in_(ids))
                                 .values(in_hours=value))
            changed += len(flips)


def _count_flip(change: Change, day: date, minute: int | None, was_in: bool | None,
                is_in: bool) -> None:
    """A call's in-hours flag changed: it moves between in and out of hours, and into or out
    of its slot."""
    sign = 1 if is_in else -1
    change.counts[day, rollup.IN_HOURS, rollup.YES if was_in else rollup.NO] -= 1
    change.counts[day, rollup.IN_HOURS, rollup.YES if is_in else rollup.NO] += 1
    if minute is not None and bool(was_in) != is_in:
        change.counts[day, rollup.SLOT, rollup.slot_of(minute)] += sign
