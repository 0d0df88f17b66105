"""When the demo's calls happen: the open days of the period, how busy each day and each
15-minute slot is, and the plan of a run cut into chunks of whole days."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from itertools import accumulate
from statistics import NormalDist

from advice_desk.demo import DemoError
from advice_desk.demo.shares import (
    DURATION_SPREAD,
    FIRST_SLOT,
    MAX_DURATION_S,
    MEDIAN_DURATION_S,
    MIN_DURATION_S,
    MONTH_FACTORS,
    OUT_OF_HOURS_SHARE,
    SLOT,
    SLOT_SECONDS,
    SLOT_WEIGHTS,
    WEEKDAY_FACTORS,
)
from advice_desk.demo.weighted import Weighted
from advice_desk.json_value import JSONObject
from advice_desk.reference.hours import HoursPolicy, policy_from_dict


@dataclass(frozen=True)
class Day:
    """An open day: its midnight, and how busy each of its slots is."""

    local_midnight: datetime  # naive, on the wall clock of the line
    utc_midnight: datetime  # when the wall clock would read 00:00 at the day's working offset
    slot_cum_weights: list[float]  # cumulative, over SLOT_WEIGHTS; 1.0 for a whole day

    @property
    def weight(self) -> float:
        day = self.local_midnight
        return (WEEKDAY_FACTORS[day.weekday()] * MONTH_FACTORS.get(day.month, 1.0)
                * self.slot_cum_weights[-1])


def open_days(now: datetime, days: int, policy: HoursPolicy) -> list[Day]:
    """The days the line was open among the ``days`` days up to today, on its wall clock.

    Clocks change at night, so one UTC offset (taken at noon) holds for a day's working hours.
    """
    local_now = now.astimezone(policy.zone).replace(tzinfo=None)
    calendar = []
    for back in range(days - 1, -1, -1):
        midnight = datetime.combine(local_now.date() - timedelta(days=back), time(0))
        offset = midnight.replace(hour=12, tzinfo=policy.zone).utcoffset()
        assert offset is not None
        utc_midnight = (midnight - offset).replace(tzinfo=UTC)
        slot_weights = _slot_weights(utc_midnight, now, policy)
        if sum(slot_weights):
            calendar.append(Day(midnight, utc_midnight, list(accumulate(slot_weights))))
    if not calendar:
        raise DemoError(f"the line was not open on any of the last {days} days")
    return calendar


def _slot_weights(utc_midnight: datetime, now: datetime, policy: HoursPolicy) -> list[float]:
    """How busy each slot of a day is, scaled so ``OUT_OF_HOURS_SHARE`` of a day's calls fall
    outside opening hours; nothing on a day the line is closed, nor in a slot not over yet."""
    starts = [utc_midnight + FIRST_SLOT + i * SLOT for i in range(len(SLOT_WEIGHTS))]
    open_ = [policy.is_open(start) for start in starts]
    if not any(open_):
        return [0.0] * len(starts)
    totals = {flag: sum(w for w, o in zip(SLOT_WEIGHTS, open_, strict=True) if o == flag)
              for flag in (True, False)}
    share = {True: 1 - OUT_OF_HOURS_SHARE, False: OUT_OF_HOURS_SHARE}
    return [weight * share[o] / totals[o] if start + SLOT <= now else 0.0
            for weight, o, start in zip(SLOT_WEIGHTS, open_, starts, strict=True)]


def calls_per_day(rng: random.Random, calendar: Sequence[Day], count: int, batch: int
                  ) -> list[int]:
    """How many of ``count`` calls fall on each day, drawn ``batch`` at a time."""
    counts = [0] * len(calendar)
    days = Weighted(rng, range(len(calendar)), [day.weight for day in calendar])
    for start in range(0, count, batch):
        for index, n in Counter(days.draw(min(batch, count - start))).items():
            counts[index] += n
    return counts


def _chunk_days(calendar: Sequence[Day], day_counts: Sequence[int], chunk_calls: int
                ) -> Iterator[list[tuple[Day, int]]]:
    """Whole days at a time, at least ``chunk_calls`` calls, so that ids follow start times
    across chunks."""
    chunk: list[tuple[Day, int]] = []
    size = 0
    for day, n in zip(calendar, day_counts, strict=True):
        if n:
            chunk.append((day, n))
            size += n
        if size >= chunk_calls:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


@cache
def times_of_day() -> list[timedelta]:
    """Every second of the slots as a time since midnight: indexing beats making timedeltas."""
    return [FIRST_SLOT + timedelta(seconds=s) for s in range(len(SLOT_WEIGHTS) * SLOT_SECONDS)]


@cache
def durations() -> list[tuple[int, timedelta]]:
    """1000 quantiles of the call length, each in seconds and as a timedelta."""
    normal = NormalDist(math.log(MEDIAN_DURATION_S), DURATION_SPREAD)
    seconds = [min(MAX_DURATION_S, max(MIN_DURATION_S, round(math.exp(normal.inv_cdf(
        (i + 0.5) / 1000))))) for i in range(1000)]
    return [(s, timedelta(seconds=s)) for s in seconds]



@dataclass(frozen=True)
class Plan:
    """Everything a run's chunks are made from. It travels to the producer process, which
    works out the same chunks from it: it stays small that way."""

    seed: int
    now: datetime
    days: int
    hours: JSONObject  # the opening-hours policy, as stored
    day_counts: list[int]  # calls on each open day, in order
    chunk_calls: int
    topic_weights: dict[str, float]
    worker_ids: list[int]
    authority_weights: list[float]


@dataclass(frozen=True)
class Job:
    index: int
    days: list[tuple[Day, int]]
    first_id: int | None  # of the chunk's first call, where the writer chooses ids


def plan_jobs(plan: Plan, first_id: int | None) -> list[Job]:
    calendar = open_days(plan.now, plan.days, policy_from_dict(plan.hours))
    jobs = []
    offset = 0
    for index, days in enumerate(_chunk_days(calendar, plan.day_counts, plan.chunk_calls)):
        jobs.append(Job(index, days, None if first_id is None else first_id + offset))
        offset += sum(n for _, n in days)
    return jobs


