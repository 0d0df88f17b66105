"""Synthetic calls for trying the app and for measuring it (``advice-desk demo``).

The calls look like a year of a kinship-care advice line: mostly grandparents asking about money,
school and the law, a morning peak, a few out-of-hours callbacks and non-data calls, personal
details only where the caller agreed, and only fake ones (Ofcom's drama phone numbers, emails at
example.org). The same seed and the same clock give the same rows, so a benchmark, a screenshot
or a bug report can be repeated.

A million calls must be written in seconds (PRODUCT.md §11), so calls are not saved one by one
through :func:`calls.log_calls`: they are generated column by column, in chunks of whole days,
and inserted in bulk in one transaction. Each chunk has its own random stream, so a second
process can make the next chunks while this one writes, and the rows are the same either way.
The calls keep every rule of :func:`call_details.validate` all the same (the tests check a
sample), and ``in_hours`` comes from the store's opening-hours policy, as when a call is saved.
Weights are keyed by code; a code this module does not know (another helpline's lists) gets a
small default weight.
"""

from __future__ import annotations

import math
import multiprocessing
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cache
from itertools import accumulate, chain, combinations_with_replacement
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from statistics import NormalDist
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from advice_desk.calls.service import topic_labels
from advice_desk.clock import Clock, to_utc
from advice_desk.people.accounts import get_or_create_user
from advice_desk.reference import lists as reference
from advice_desk.reference.hours import HoursPolicy, policy_from_dict
from advice_desk.settings import hours_policy_in
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic, UTCDateTime

# Who answers the phone: (username, display name, share of the calls).
DEMO_WORKERS = (
    ("demo-1", "Priya Shah", 30), ("demo-2", "Tom Hughes", 25), ("demo-3", "Grace Okafor", 18),
    ("demo-4", "Dylan Evans", 12), ("demo-5", "Hannah Kowalski", 9), ("demo-6", "Sam Taylor", 6),
)

DEFAULT_WEIGHT = 1.0
NON_DATA_SHARE = 0.08
CONSENT_SHARE = 0.6
NOTES_SHARE = 0.7  # of the calls with consent
SAFEGUARDING_SHARE = 0.03
ESCALATED_SHARE = 0.4  # of the safeguarding calls
FOLLOW_UP_SHARE = 0.10
OUT_OF_HOURS_SHARE = 0.05
UNKNOWN_AUTHORITY_SHARE = 0.1
AUTHORITY_SIZE_SPREAD = 0.7  # log-normal sizes: some authorities have far more callers
SUBTOPIC_SHARE = 0.8  # a topic pick names a subtopic rather than its top-level topic

CALLER_TYPE_WEIGHTS = {
    "grandparent": 46, "aunt-uncle": 13, "sibling": 6, "other-relative": 4, "family-friend": 4,
    "prospective-carer": 7, "parent": 3, "young-person": 1, "professional-social-care": 7,
    "professional-education": 4, "professional-health": 1, "professional-other": 2, "other": 2,
}
ARRANGEMENT_WEIGHTS = {
    "sgo": 32, "informal": 20, "kinship-foster": 16, "cao": 12, "in-proceedings": 8,
    "unknown": 7, "adoption": 3, "private-fostering": 2,
}
TOP_TOPIC_WEIGHTS = {
    "financial": 30, "education": 22, "legal": 22, "family": 16, "local-authority": 6,
    "practical": 3, "other": 1,
}
TOPIC_COUNT_WEIGHTS = {1: 60, 2: 30, 3: 10}
ESCALATED = "safeguarding-escalated"
OUTCOME_WEIGHTS = {
    "advice": 40, "information": 30, "signposted": 14, "referred": 9, "callback-arranged": 7,
    ESCALATED: 0,  # only on safeguarding calls, added separately
}
OUTCOME_COUNT_WEIGHTS = {1: 70, 2: 30}
REFERRAL_WEIGHTS = {
    "virtual-school": 20, "local-authority": 20, "solicitor": 18, "citizens-advice": 14,
    "family-rights-group": 12, "peer-support": 12, "other": 4,
}
NON_DATA_WEIGHTS = {"hang-up": 40, "silent": 30, "wrong-number": 20, "abusive": 5, "test": 5}
PHONE, INBOUND = "phone", "inbound"
CHANNEL_WEIGHTS = {PHONE: 90, "webchat": 5, "email": 5, "voicemail-callback": 0}
PHONE_DIRECTION_WEIGHTS = {INBOUND: 95, "outbound-callback": 5}
OUT_OF_HOURS_CHANNEL, OUT_OF_HOURS_DIRECTION = "voicemail-callback", "outbound-callback"
FIRST_TIME_WEIGHTS = {"yes": 55, "no": 30, "unknown": 15}
HOW_HEARD_WEIGHTS = {
    None: 30, "website": 20, "local-authority": 12, "word-of-mouth": 12, "school": 7,
    "social-media": 6, "returning": 6, "charity": 3, "solicitor": 2, "health": 1, "other": 1,
}
CHILDREN_COUNT_WEIGHTS = {None: 8, 1: 52, 2: 25, 3: 10, 4: 3, 5: 2}
BANDS_UNKNOWN_SHARE = 0.15  # the worker noted how many children, but not their ages
AGE_BAND_WEIGHTS = {"0-4": 20, "5-10": 34, "11-15": 30, "16-17": 11, "18+": 5}
FOLLOW_UP_DAYS = {1: 30, 2: 20, 3: 15, 5: 15, 7: 15, 14: 5}
WEEKDAY_FACTORS = (1.2, 1.05, 1.0, 0.95, 0.8, 0.5, 0.5)
MONTH_FACTORS = {1: 1.1, 8: 0.75, 9: 1.15, 12: 0.8}

# The working day in 15-minute slots from 08:30 to 16:30, and how busy each is. The peak is
# 10:00-11:00 with a lull at lunch; calls outside hours are callbacks of voicemails left.
SLOT = timedelta(minutes=15)
FIRST_SLOT = timedelta(hours=8, minutes=30)
SLOT_WEIGHTS = (2, 1, 2, 4,  # 08:30-09:30
                6, 9, 10, 10, 9, 8, 7, 6, 5, 5, 5, 4, 4, 4, 3, 3, 2, 2,  # 09:30-14:00
                6, 5, 4, 3, 2, 2, 1, 1)  # 14:00-16:30
SLOT_SECONDS = int(SLOT.total_seconds())

# Call length: a log-normal with a median of 12 minutes and a long tail, as 1000 quantiles.
MEDIAN_DURATION_S, DURATION_SPREAD = 12 * 60, 0.6
MIN_DURATION_S, MAX_DURATION_S = 60, 3 * 3600

WEIGHT_TABLE_SIZE = 10_000  # a weight is kept to 1/10,000 of the total
CHUNK_CALLS = 50_000  # at least, in whole days: bounds the memory a run takes

FIRST_NAMES = (
    "Margaret", "Susan", "Linda", "Patricia", "Janet", "Carol", "Christine", "Elaine", "Maureen",
    "Pauline", "Gillian", "Ann", "Karen", "Julie", "Sharon", "Denise", "Michelle", "Sarah",
    "Emma", "Aisha", "Fatima", "Bronwen", "Siobhan", "John", "David", "Peter", "Michael",
    "Robert", "Alan", "Keith", "Brian", "Gareth", "Paul", "Mark", "Imran", "Tariq", "Winston",
    "Kwame", "Rhys", "Daniel",
)
SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards",
    "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Khan",
    "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Begum", "Ahmed", "Kaur",
    "Murphy", "Kelly", "Campbell",
)
POSTCODE_AREAS = (
    "LS6", "LS11", "M14", "M40", "B15", "B23", "NE4", "NE23", "BS3", "BS16", "CF10", "CF5",
    "SA1", "LL11", "SW9", "SE15", "E8", "N17", "NG7", "LE4", "S6", "L4", "HU5", "PL2", "EX4",
    "NR3", "CB1", "OX4", "ME7", "BN2", "TS3", "DN5", "ST4", "WV10", "PO4", "SO16",
)
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters a postcode's last part may use
NOTES = (
    "Asked about the SGO allowance review; explained the means test.",
    "Struggling with school admissions, sent the Virtual School leaflet.",
    "Wants to know what a support plan should cover.",
    "Child's behaviour at home is getting harder; talked through support options.",
    "Contact with the birth mother is causing upset; discussed how to manage it.",
    "Applying for Guardian's Allowance; went through eligibility.",
    "LA assessment delayed for months; explained the complaints route.",
    "Carer is exhausted, looked at respite and peer support groups.",
    "Court hearing next week; explained the difference between SGO and CAO.",
    "Asked whether they can get legal aid for the SGO application.",
    "Pupil Premium Plus not being claimed by the school.",
    "Worried about money since giving up work to care for the grandchildren.",
)
FOLLOW_UP_NOTES = (
    "Ring back after the LA replies.", "Send the allowances factsheet.",
    "Check on the outcome of the school meeting.", "Call back after the court hearing.",
)


class DemoError(Exception):
    """The demo cannot be made as asked; the message says why."""


def add_demo_calls(store: Store, count: int, clock: Clock, *, seed: int = 0, days: int = 365,
                   writer: Callable[[sa.Connection], BulkWriter] | None = None,
                   parallel: bool = True) -> int:
    """Add ``count`` synthetic calls over the ``days`` days up to now, in one transaction.

    ``writer`` chooses how rows reach the database (default: the fastest exact way for the
    store's database). ``parallel=False`` keeps to this process; by default, a second process
    makes the calls of later chunks while this one writes. The rows are the same either way.
    Returns the number of calls added.
    """
    if count < 0:
        raise DemoError("the number of calls cannot be negative")
    if days < 1:
        raise DemoError("the demo needs at least one day")
    rng = random.Random(seed)
    now = to_utc(clock.now())  # UTC throughout, as the SQLite writer relies on
    with store.read() as session:
        policy = hours_policy_in(session)
    calendar = _calendar(now, days, policy)
    plan = _Plan(seed=seed, now=now, days=days, hours=policy.to_dict(),
                 day_counts=_calls_per_day(rng, calendar, count), chunk_calls=CHUNK_CALLS,
                 topic_weights=_topic_weights(topic_labels(store, include_retired=False)),
                 worker_ids=_demo_workers(store, clock),
                 authority_weights=_authority_weights(rng))
    with store.raw_write() as connection:
        write = (writer or bulk_writer)(connection)
        for rows in _made(plan, write.prepare, write.first_id, parallel):
            write(rows)
    return count


# --- when calls happen ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Day:
    """An open day: its midnight, and how busy each of its slots is."""

    local_midnight: datetime  # naive, on the wall clock of the line
    utc_midnight: datetime  # when the wall clock would read 00:00 at the day's working offset
    slot_cum_weights: list[float]  # cumulative, over SLOT_WEIGHTS; 1.0 for a whole day

    @property
    def weight(self) -> float:
        day = self.local_midnight
        return (WEEKDAY_FACTORS[day.weekday()] * MONTH_FACTORS.get(day.month, 1.0)
                * self.slot_cum_weights[-1])


def _calendar(now: datetime, days: int, policy: HoursPolicy) -> list[_Day]:
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
            calendar.append(_Day(midnight, utc_midnight, list(accumulate(slot_weights))))
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


def _calls_per_day(rng: random.Random, calendar: Sequence[_Day], count: int) -> list[int]:
    counts = [0] * len(calendar)
    days = _Weighted(rng, range(len(calendar)), [day.weight for day in calendar])
    for start in range(0, count, CHUNK_CALLS):
        for index, n in Counter(days.draw(min(CHUNK_CALLS, count - start))).items():
            counts[index] += n
    return counts


def _chunk_days(calendar: Sequence[_Day], day_counts: Sequence[int], chunk_calls: int
                ) -> Iterator[list[tuple[_Day, int]]]:
    """Whole days at a time, at least ``chunk_calls`` calls, so that ids follow start times
    across chunks."""
    chunk: list[tuple[_Day, int]] = []
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
def _times_of_day() -> list[timedelta]:
    """Every second of the slots as a time since midnight: indexing beats making timedeltas."""
    return [FIRST_SLOT + timedelta(seconds=s) for s in range(len(SLOT_WEIGHTS) * SLOT_SECONDS)]


@cache
def _durations() -> list[tuple[int, timedelta]]:
    """1000 quantiles of the call length, each in seconds and as a timedelta."""
    normal = NormalDist(math.log(MEDIAN_DURATION_S), DURATION_SPREAD)
    seconds = [min(MAX_DURATION_S, max(MIN_DURATION_S, round(math.exp(normal.inv_cdf(
        (i + 0.5) / 1000))))) for i in range(1000)]
    return [(s, timedelta(seconds=s)) for s in seconds]


# --- what calls are about ------------------------------------------------------------------

def _codes(choices: Iterable[reference.Choice | reference.NonDataKind | reference.LocalAuthority]
           ) -> list[str]:
    return [c.code for c in choices]


def _topic_weights(topics: dict[str, Topic]) -> dict[str, float]:
    """Active topic codes with how often they come up, following their top-level topic."""
    if not topics:
        raise DemoError("every topic is retired: there is nothing for the calls to be about")
    subtopics = Counter(t.parent_code for t in topics.values() if t.parent_code)
    weights = {}
    for code, topic in topics.items():
        weight = TOP_TOPIC_WEIGHTS.get(topic.parent_code or code, DEFAULT_WEIGHT)
        if topic.parent_code:
            weights[code] = weight * SUBTOPIC_SHARE / subtopics[topic.parent_code]
        else:
            weights[code] = weight * (1 - SUBTOPIC_SHARE if subtopics[code] else 1)
    return weights


def _authority_weights(rng: random.Random) -> list[float]:
    """Unknown first, then each authority's size in callers: skewed, fixed by the seed."""
    sizes = [rng.lognormvariate(0, AUTHORITY_SIZE_SPREAD) for _ in reference.local_authorities()]
    unknown = sum(sizes) * UNKNOWN_AUTHORITY_SHARE / (1 - UNKNOWN_AUTHORITY_SHARE)
    return [unknown, *sizes]


@cache
def _children_profiles() -> tuple[list[tuple[int | None, str | None]], list[float]]:
    """Every (children count, age bands) a call can record, with its probability.

    One draw per call from this list is much faster than drawing each child's age band.
    """
    bands = _codes(reference.helpline().age_bands)
    band_weight = {b: AGE_BAND_WEIGHTS.get(b, DEFAULT_WEIGHT) for b in bands}
    band_total = sum(band_weight.values())
    count_total = sum(CHILDREN_COUNT_WEIGHTS.values())
    profiles: list[tuple[int | None, str | None]] = []
    weights: list[float] = []
    for count, count_weight in CHILDREN_COUNT_WEIGHTS.items():
        share = count_weight / count_total
        if count is None:
            profiles.append((None, None))
            weights.append(share)
            continue
        profiles.append((count, None))
        weights.append(share * BANDS_UNKNOWN_SHARE)
        for combination in combinations_with_replacement(bands, count):
            orderings = math.factorial(count) / math.prod(
                math.factorial(n) for n in Counter(combination).values())
            p = orderings * math.prod(band_weight[b] / band_total for b in combination)
            profiles.append((count, ";".join(combination)))
            weights.append(share * (1 - BANDS_UNKNOWN_SHARE) * p)
    return profiles, weights


@dataclass(frozen=True)
class _Plan:
    """Everything a run's chunks are made from. It travels to the producer process, which
    works out the same chunks from it: it stays small that way."""

    seed: int
    now: datetime
    days: int
    hours: dict[str, Any]  # the opening-hours policy, as stored
    day_counts: list[int]  # calls on each open day, in order
    chunk_calls: int
    topic_weights: dict[str, float]
    worker_ids: list[int]
    authority_weights: list[float]


@dataclass(frozen=True)
class _Job:
    index: int
    days: list[tuple[_Day, int]]
    first_id: int | None  # of the chunk's first call, where the writer chooses ids


def _jobs(plan: _Plan, first_id: int | None) -> list[_Job]:
    calendar = _calendar(plan.now, plan.days, policy_from_dict(plan.hours))
    jobs = []
    offset = 0
    for index, days in enumerate(_chunk_days(calendar, plan.day_counts, plan.chunk_calls)):
        jobs.append(_Job(index, days, None if first_id is None else first_id + offset))
        offset += sum(n for _, n in days)
    return jobs


@dataclass
class Chunk:
    """Calls ready to insert. Topics and outcomes point at calls by their index in ``calls``.

    Datetimes are aware and in UTC, as the models take them.
    """

    calls: dict[str, list[Any]]
    topics: list[tuple[int, str, bool]] = field(default_factory=list)
    outcomes: list[tuple[int, str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.calls["started_at"])


class _Weighted:
    """Draws from weighted choices, fast: each value fills a share of a table of
    ``WEIGHT_TABLE_SIZE`` entries as big as its weight, and a draw picks an entry at random.
    That is several times faster than ``random.choices`` with weights, and as exact as a
    demo needs."""

    def __init__(self, rng: random.Random, values: Sequence[Any],
                 weights: Sequence[float]) -> None:
        self._rng = rng
        total = sum(weights)
        self._table = [value for value, weight in zip(values, weights, strict=True)
                       for _ in range(round(weight / total * WEIGHT_TABLE_SIZE))]

    @classmethod
    def by_code(cls, rng: random.Random, codes: Sequence[Any],
                weights: dict[Any, float]) -> _Weighted:
        return cls(rng, codes, [weights.get(code, DEFAULT_WEIGHT) for code in codes])

    def draw(self, k: int) -> list[Any]:
        return self._rng.choices(self._table, k=k)


class _Generator:
    """Makes the calls of one chunk from the chunk's own random stream."""

    def __init__(self, plan: _Plan, index: int) -> None:
        h = reference.helpline()
        rng = self.rng = random.Random(f"{plan.seed}/{index}")
        self.now = plan.now
        self.policy = policy_from_dict(plan.hours)
        non_data = _codes(h.non_data_kinds)
        non_data_total = sum(NON_DATA_WEIGHTS.get(k, DEFAULT_WEIGHT) for k in non_data)
        self.kinds = _Weighted(rng, ["data", *non_data], [1 - NON_DATA_SHARE, *(
            NON_DATA_SHARE * NON_DATA_WEIGHTS.get(k, DEFAULT_WEIGHT) / non_data_total
            for k in non_data)])
        by_code = _Weighted.by_code
        self.workers = _Weighted(rng, plan.worker_ids, [share for *_, share in DEMO_WORKERS])
        self.caller_types = by_code(rng, _codes(h.caller_types), CALLER_TYPE_WEIGHTS)
        self.arrangements = by_code(rng, _codes(h.arrangements), ARRANGEMENT_WEIGHTS)
        self.authorities = _Weighted(rng, [None, *_codes(reference.local_authorities())],
                                     plan.authority_weights)
        self.channels = by_code(rng, _codes(h.channels), CHANNEL_WEIGHTS)
        self.phone_directions = by_code(rng, _codes(h.directions), PHONE_DIRECTION_WEIGHTS)
        self.first_time = by_code(rng, _codes(h.first_time_caller), FIRST_TIME_WEIGHTS)
        self.how_heard = by_code(rng, [None, *_codes(h.how_heard)], HOW_HEARD_WEIGHTS)
        self.children = _Weighted(rng, *_children_profiles())
        self.follow_up_days = by_code(rng, list(FOLLOW_UP_DAYS), FOLLOW_UP_DAYS)
        self.topics = _Weighted(rng, list(plan.topic_weights), list(plan.topic_weights.values()))
        self.topic_counts = by_code(rng, list(TOPIC_COUNT_WEIGHTS), TOPIC_COUNT_WEIGHTS)
        self.outcomes = by_code(rng, _codes(h.outcomes), OUTCOME_WEIGHTS)
        self.outcome_counts = by_code(rng, list(OUTCOME_COUNT_WEIGHTS), OUTCOME_COUNT_WEIGHTS)
        self.referrals = by_code(rng, _codes(h.referral_targets), REFERRAL_WEIGHTS)

    def chunk(self, days: list[tuple[_Day, int]]) -> Chunk:
        local, started, in_hours = self._start_times(days)
        n = len(started)
        kinds = self.kinds.draw(n)
        columns: dict[str, list[Any]] = {
            "kind": kinds, "started_at": started, "in_hours": in_hours,
            "local_date": [t.date() for t in local],
            "local_minute": [t.hour * 60 + t.minute for t in local],
            "worker_id": self.workers.draw(n),
            "caller_type": self.caller_types.draw(n),
            "arrangement": self.arrangements.draw(n),
            "local_authority": self.authorities.draw(n),
            "first_time_caller": self.first_time.draw(n),
            "how_heard": self.how_heard.draw(n),
            "safeguarding": [r < SAFEGUARDING_SHARE for r in self._randoms(n)],
            "consent_to_store_details": [r < CONSENT_SHARE for r in self._randoms(n)],
        }
        self._add_channels(columns)
        self._add_children(columns)
        self._add_durations(columns)
        self._add_follow_ups(columns, local)
        chunk = Chunk(columns)
        data = [i for i, kind in enumerate(kinds) if kind == "data"]
        self._add_topics(chunk, data)
        self._add_outcomes(chunk, data)
        _blank_non_data(columns)
        self._add_personal_details(columns)
        return chunk

    def _randoms(self, n: int) -> list[float]:
        rng = self.rng
        return [rng.random() for _ in range(n)]

    def _start_times(self, days: list[tuple[_Day, int]]
                     ) -> tuple[list[datetime], list[datetime], list[bool]]:
        """Wall-clock and UTC start times, in order, and whether each is in opening hours."""
        since_midnight = _times_of_day()
        local: list[datetime] = []
        started: list[datetime] = []
        for day, n in days:
            slots = self.rng.choices(range(len(SLOT_WEIGHTS)), cum_weights=day.slot_cum_weights,
                                     k=n)
            seconds = sorted(slot * SLOT_SECONDS + int(r * SLOT_SECONDS)
                             for slot, r in zip(slots, self._randoms(n), strict=True))
            local += [day.local_midnight + since_midnight[s] for s in seconds]
            started += [day.utc_midnight + since_midnight[s] for s in seconds]
        return local, started, [self.policy.is_open(t) for t in started]

    def _add_channels(self, columns: dict[str, list[Any]]) -> None:
        """Out of hours, a worker returns a voicemail; in hours, most calls come in by phone."""
        n = len(columns["kind"])
        channels = self.channels.draw(n)
        phone_directions = self.phone_directions.draw(n)
        columns["channel"] = [c if o else OUT_OF_HOURS_CHANNEL
                              for c, o in zip(channels, columns["in_hours"], strict=True)]
        columns["direction"] = [
            (d if c == PHONE else INBOUND) if o else OUT_OF_HOURS_DIRECTION
            for c, d, o in zip(channels, phone_directions, columns["in_hours"], strict=True)]

    def _add_children(self, columns: dict[str, list[Any]]) -> None:
        profiles = self.children.draw(len(columns["kind"]))
        columns["children_count"] = [count for count, _ in profiles]
        columns["children_age_bands"] = [bands for _, bands in profiles]

    def _add_durations(self, columns: dict[str, list[Any]]) -> None:
        """Call lengths; a call of today that would still be going on is cut at "now"."""
        seconds, ended = [], []
        now = self.now
        for start, (length, delta) in zip(columns["started_at"],
                                          self._draw_durations(len(columns["kind"])),
                                          strict=True):
            end = start + delta
            if end > now:
                end, length = now, int((now - start).total_seconds())
            seconds.append(length)
            ended.append(end)
        columns["duration_s"] = seconds
        columns["ended_at"] = ended
        columns["created_at"] = list(ended)  # a call is saved when it ends
        columns["updated_at"] = list(ended)

    def _draw_durations(self, n: int) -> list[tuple[int, timedelta]]:
        return self.rng.choices(_durations(), k=n)

    def _add_follow_ups(self, columns: dict[str, list[Any]], local: list[datetime]) -> None:
        wanted = [r < FOLLOW_UP_SHARE for r in self._randoms(len(local))]
        delays = iter(self.follow_up_days.draw(sum(wanted)))
        columns["follow_up_on"] = [t.date() + timedelta(days=next(delays)) if w else None
                                   for t, w in zip(local, wanted, strict=True)]

    def _add_topics(self, chunk: Chunk, data: list[int]) -> None:
        """One to three different topics per call; the first is the primary."""
        n = len(data)
        picks = zip(self.topic_counts.draw(n), self.topics.draw(n), self.topics.draw(n),
                    self.topics.draw(n), strict=True)
        rows = chunk.topics
        for i, (count, *codes) in zip(data, picks, strict=True):
            for position, code in enumerate(dict.fromkeys(codes[:count])):
                rows.append((i, code, position == 0))

    def _add_outcomes(self, chunk: Chunk, data: list[int]) -> None:
        """One or two different outcomes per call; a referral says who to; some safeguarding
        calls are escalated."""
        n = len(data)
        picks = zip(self.outcome_counts.draw(n), self.outcomes.draw(n), self.outcomes.draw(n),
                    self.referrals.draw(n), self._randoms(n), strict=True)
        safeguarding = chunk.calls["safeguarding"]
        rows = chunk.outcomes
        for i, (count, first, second, referred_to, r) in zip(data, picks, strict=True):
            for outcome in dict.fromkeys((first, second)[:count]):
                rows.append((i, outcome, referred_to if outcome == "referred" else ""))
            if safeguarding[i] and r < ESCALATED_SHARE:
                rows.append((i, ESCALATED, ""))

    def _add_personal_details(self, columns: dict[str, list[Any]]) -> None:
        """Fake details, only on the calls whose caller agreed to them being kept."""
        n = len(columns["kind"])
        for name in ("caller_name", "caller_phone", "caller_email", "caller_postcode", "notes",
                     "follow_up_note"):
            columns[name] = [None] * n
        agreed = [i for i, yes in enumerate(columns["consent_to_store_details"]) if yes]
        rng, k = self.rng, len(agreed)
        people = zip(rng.choices(FIRST_NAMES, k=k), rng.choices(SURNAMES, k=k),
                     rng.choices(range(1000), k=k), rng.choices(POSTCODE_AREAS, k=k),
                     rng.choices(range(10), k=k), rng.choices(POSTCODE_LETTERS, k=k),
                     rng.choices(POSTCODE_LETTERS, k=k), rng.choices(NOTES, k=k),
                     self._randoms(k), rng.choices(FOLLOW_UP_NOTES, k=k), strict=True)
        for i, (first, last, number, area, digit, letter1, letter2, note, r, follow_up) in zip(
                agreed, people, strict=True):
            columns["caller_name"][i] = f"{first} {last}"
            columns["caller_phone"][i] = f"07700 900{number:03d}"  # Ofcom's drama range
            columns["caller_email"][i] = f"{first}.{last}{number}@example.org".lower()
            columns["caller_postcode"][i] = f"{area} {digit}{letter1}{letter2}"
            columns["notes"][i] = note if r < NOTES_SHARE else None
            if columns["follow_up_on"][i] is not None:
                columns["follow_up_note"][i] = follow_up


# What a non-data call leaves empty or at its default (PRODUCT.md §2: one key press, no form).
_NON_DATA_EMPTY = ("ended_at", "duration_s", "caller_type", "arrangement", "local_authority",
                   "children_count", "children_age_bands", "follow_up_on", "how_heard")
_NON_DATA_DEFAULTS = {"safeguarding": False, "consent_to_store_details": False,
                      "first_time_caller": "unknown"}
_IN_HOURS_NON_DATA = {"channel": PHONE, "direction": INBOUND}  # out of hours: a callback


def _blank_non_data(columns: dict[str, list[Any]]) -> None:
    """Empty what a non-data call does not record, as :func:`calls.log_non_data_call` does."""
    for i, kind in enumerate(columns["kind"]):
        if kind == "data":
            continue
        for name in _NON_DATA_EMPTY:
            columns[name][i] = None
        defaults = _NON_DATA_DEFAULTS | (_IN_HOURS_NON_DATA if columns["in_hours"][i] else {})
        for name, value in defaults.items():
            columns[name][i] = value
        columns["updated_at"][i] = columns["created_at"][i] = columns["started_at"][i]


def _demo_workers(store: Store, clock: Clock) -> list[int]:
    ids = []
    for username, display_name, _share in DEMO_WORKERS:
        user = get_or_create_user(store, username, clock, display_name=display_name)
        assert user.id is not None
        ids.append(user.id)
    return ids


# --- making chunks, here or in a second process --------------------------------------------

def _make_rows(plan: _Plan, job: _Job, prepare: Prepare) -> Any:
    """One chunk, as its writer inserts it."""
    return prepare(_Generator(plan, job.index).chunk(job.days), job.first_id)


def _made(plan: _Plan, prepare: Prepare, first_id: int | None, parallel: bool
          ) -> Iterator[Any]:
    """The rows of each chunk, in order. In ``parallel``, when there are several chunks, a
    second process makes the later ones while this one makes the first and then
    writes: the database has a single writer, so making the calls is the other core's work.

    Rows arrive over a pipe and are unpickled here, in the writing thread: unpickling them in
    a helper thread (as ``concurrent.futures`` does) would fight the writer for the GIL. The
    producer is spawned, not forked, on every system: a fork would copy this process's open
    database connection, and its threads, if any.
    """
    jobs = _jobs(plan, first_id)
    if len(jobs) < 2 or not parallel:
        yield from (_make_rows(plan, job, prepare) for job in jobs)
        return
    spawn = multiprocessing.get_context("spawn")
    receiver, sender = spawn.Pipe(duplex=False)
    producer = spawn.Process(target=_produce, args=(plan, prepare, first_id, sender),
                             name="advice-desk demo", daemon=True)
    producer.start()
    sender.close()
    try:
        yield _make_rows(plan, jobs[0], prepare)
        for _ in jobs[1:]:
            yield _received(receiver, producer)
    finally:
        receiver.close()
        producer.kill()  # only still running if the writing failed
        producer.join()


def _produce(plan: _Plan, prepare: Prepare, first_id: int | None, sender: Connection) -> None:
    """The producer process: makes every chunk but the first, in turn. Sending blocks while
    the writer is busy, so at most one chunk waits in memory."""
    with sender:
        for job in _jobs(plan, first_id)[1:]:
            sender.send(_make_rows(plan, job, prepare))


def _received(receiver: Connection, producer: BaseProcess) -> Any:
    try:
        return receiver.recv()
    except EOFError:
        producer.join()
        raise DemoError(f"the process making the calls stopped (exit code {producer.exitcode})"
                        ) from None


# --- writing -------------------------------------------------------------------------------

CALL_TABLE: sa.Table = Call.__table__
TOPIC_TABLE: sa.Table = CallTopic.__table__
OUTCOME_TABLE: sa.Table = CallOutcome.__table__
TOPIC_COLUMNS = ("call_id", "topic_code", "is_primary")
OUTCOME_COLUMNS = ("call_id", "outcome", "referred_to")
# Variables in one statement: the limit of SQLite before 3.32 (32766 since). Much longer
# statements gain nothing, and each compiled statement kept in the driver's cache costs memory.
SQLITE_MAX_VARIABLES = 999

Prepare = Callable[[Chunk, "int | None"], Any]


class BulkWriter(Protocol):
    """Inserts chunks in the open transaction. ``prepare`` is a function of a chunk and the id
    of its first call that pickles, so the producer process can run it; calling the writer
    inserts what ``prepare`` made."""

    first_id: int | None  # the id the next call gets, where the writer chooses ids
    prepare: Prepare

    def __call__(self, prepared: Any) -> None: ...


def bulk_writer(connection: sa.Connection) -> BulkWriter:
    """The fastest exact way to write chunks on this connection's database."""
    dialect = connection.dialect
    if dialect.name == "sqlite" and dialect.paramstyle == "qmark":
        return SqliteBulkWriter(connection)
    return CoreBulkWriter(connection)


@dataclass
class CoreRows:
    """A chunk as rows; topic and outcome rows start with the index of their call."""

    call_columns: list[str]
    calls: list[tuple[Any, ...]]
    topics: list[tuple[int, str, bool]]
    outcomes: list[tuple[int, str, str]]


class CoreBulkWriter:
    """Writes with SQLAlchemy Core executemany: works on every database SQLAlchemy supports."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        self._insert_calls = CALL_TABLE.insert().returning(
            CALL_TABLE.c.id, sort_by_parameter_order=True)
        self.first_id: int | None = None  # the database gives the ids
        self.prepare: Prepare = _core_rows

    def __call__(self, prepared: CoreRows) -> None:
        if not prepared.calls:
            return
        execute = self._connection.execute
        ids = execute(self._insert_calls, [dict(zip(prepared.call_columns, row, strict=True))
                                           for row in prepared.calls]).scalars().all()
        for table, names, child_rows in ((TOPIC_TABLE, TOPIC_COLUMNS, prepared.topics),
                                         (OUTCOME_TABLE, OUTCOME_COLUMNS, prepared.outcomes)):
            if child_rows:
                execute(table.insert(), [dict(zip(names, (ids[i], *rest), strict=True))
                                         for i, *rest in child_rows])


def _core_rows(chunk: Chunk, first_id: int | None) -> CoreRows:
    return CoreRows(list(chunk.calls), list(zip(*chunk.calls.values(), strict=True)),
                    chunk.topics, chunk.outcomes)


Statement = tuple[str, list[tuple[Any, ...]]]  # SQL, and the parameters of each execution


class SqliteBulkWriter:
    """Writes through the driver, skipping SQLAlchemy's per-value processing (which would
    double the time of a million-call demo), with many rows per INSERT (which saves SQLite a
    statement per row). Values are written as SQLAlchemy's SQLite types write them: datetimes
    as 'YYYY-MM-DD HH:MM:SS.ffffff', dates as 'YYYY-MM-DD'. Ids are chosen here, safely: the
    write transaction holds the database's only write lock."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        last_id = connection.execute(sa.select(sa.func.max(CALL_TABLE.c.id))).scalar()
        self.first_id: int | None = (last_id or 0) + 1
        self.prepare: Prepare = _sqlite_statements

    def __call__(self, prepared: list[Statement]) -> None:
        for sql, parameters in prepared:
            self._connection.exec_driver_sql(sql, parameters)


def _sqlite_statements(chunk: Chunk, first_id: int | None) -> list[Statement]:
    assert first_id is not None
    ids = range(first_id, first_id + len(chunk))
    texts: dict[datetime, str] = {}  # a call's end is also when it was saved: format once
    values = [_sqlite_values(name, column, texts) for name, column in chunk.calls.items()]
    tables = [(CALL_TABLE, ["id", *chunk.calls], list(zip(ids, *values, strict=True))),
              (TOPIC_TABLE, TOPIC_COLUMNS, [(first_id + i, *rest) for i, *rest in chunk.topics]),
              (OUTCOME_TABLE, OUTCOME_COLUMNS,
               [(first_id + i, *rest) for i, *rest in chunk.outcomes])]
    return [statement for table, names, rows in tables
            for statement in _statements(table, names, rows)]


def _statements(table: sa.Table, names: Sequence[str], rows: list[tuple[Any, ...]]
                ) -> list[Statement]:
    """INSERTs of as many rows each as ``SQLITE_MAX_VARIABLES`` allows, then one row at a time
    for the rest: two statements a table, however many chunks."""
    per_statement = max(1, SQLITE_MAX_VARIABLES // len(names))
    full = len(rows) - len(rows) % per_statement
    statements = []
    if full:
        statements.append((_insert_sql(table, names, per_statement), [
            tuple(chain.from_iterable(rows[i:i + per_statement]))
            for i in range(0, full, per_statement)]))
    if full < len(rows):
        statements.append((_insert_sql(table, names, 1), rows[full:]))
    return statements


def _insert_sql(table: sa.Table, names: Sequence[str], rows: int) -> str:
    quote = sqlite.dialect().identifier_preparer.quote
    one_row = f"({', '.join('?' * len(names))})"
    return (f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
            f"VALUES {', '.join([one_row] * rows)}")


def _sqlite_values(name: str, values: list[Any], texts: dict[datetime, str]) -> list[Any]:
    column_type = CALL_TABLE.c[name].type
    if isinstance(column_type, UTCDateTime):
        # A UTC datetime's ISO form ends in "+00:00"; what precedes it is the stored text.
        return [None if v is None else texts[v] if v in texts else
                texts.setdefault(v, v.isoformat(" ", "microseconds")[:-6]) for v in values]
    if isinstance(column_type, sa.Date):
        return [None if v is None else v.isoformat() for v in values]
    return values
