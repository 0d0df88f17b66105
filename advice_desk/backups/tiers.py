"""Which copies to keep: at least ``daily`` daily, ``weekly`` weekly and ``monthly`` monthly ones.

Pure: the copies' instants in, the ones to keep out. Days, weeks (ISO, Monday to Sunday) and
months are the UK's. Walking from the newest copy back, a copy is kept

1. as a daily copy while fewer than ``daily`` are kept, when its day differs from the last kept
   copy's day (so the newest copy of each of the last ``daily`` days that have one);
2. once those are kept, as a weekly copy while fewer than ``weekly`` are, when its week differs
   from the last kept copy's week;
3. once those are kept too, as a monthly copy, likewise by month;

and every other copy may go (Anki's rule, with the tiers strictly one after the other). The
newest copy is always kept. With one copy a day this keeps the last 14 days, then the Sundays
of the 8 weeks before them, then the last Sunday kept of each of the 12 months before those:
14 + 8 + 12 copies, about 15 months back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from advice_desk.clock import to_uk


@dataclass(frozen=True)
class Tiers:
    daily: int = 14
    weekly: int = 8
    monthly: int = 12


def _week(day: date) -> tuple[int, int]:
    year, week, _ = day.isocalendar()
    return year, week


def _month(day: date) -> tuple[int, int]:
    return day.year, day.month


def copies_to_keep(made_at: Iterable[datetime], tiers: Tiers) -> set[datetime]:
    """The instants (of ``made_at``) of the copies to keep."""
    periods: list[tuple[int, Callable[[date], object]]] = [
        (tiers.daily, lambda day: day), (tiers.weekly, _week), (tiers.monthly, _month)]
    left = [count for count, _ in periods]
    kept: set[datetime] = set()
    last_day: date | None = None
    for at in sorted(set(made_at), reverse=True):
        day = to_uk(at).date()
        tier = next((i for i, count in enumerate(left) if count > 0), None)
        if last_day is None:  # the newest copy, whatever the settings: a daily one
            tier = 0
        elif tier is None:
            break
        elif periods[tier][1](day) == periods[tier][1](last_day):
            continue
        left[tier] -= 1
        kept.add(at)
        last_day = day
    return kept
