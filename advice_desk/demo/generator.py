"""What the demo's calls are about, made column by column for one chunk at a time from the
chunk's own random stream, so any process makes the same rows for the same chunk."""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache, lru_cache
from itertools import combinations_with_replacement
from typing import cast

from advice_desk.demo import DemoError
from advice_desk.demo.shares import (
    AGE_BAND_WEIGHTS,
    ARRANGEMENT_WEIGHTS,
    AUTHORITY_POPULATION_FILE,
    AUTHORITY_TABLE_SIZE,
    BANDS_UNKNOWN_SHARE,
    CALLER_TYPE_WEIGHTS,
    CHANNEL_WEIGHTS,
    CHILDREN_COUNT_WEIGHTS,
    CONSENT_SHARE,
    DEFAULT_WEIGHT,
    DEMO_WORKERS,
    ESCALATED,
    ESCALATED_SHARE,
    FIRST_NAMES,
    FIRST_TIME_AGAIN,
    FIRST_TIME_WEIGHTS,
    FOLLOW_UP_DAYS,
    FOLLOW_UP_NOTES,
    FOLLOW_UP_SHARE,
    HEARD_AGAIN,
    HOW_HEARD_WEIGHTS,
    INBOUND,
    NON_DATA_SHARE,
    NON_DATA_WEIGHTS,
    NOTES,
    NOTES_SHARE,
    OUT_OF_HOURS_CHANNEL,
    OUT_OF_HOURS_DIRECTION,
    OUTCOME_COUNT_WEIGHTS,
    OUTCOME_WEIGHTS,
    PHONE,
    PHONE_DIRECTION_WEIGHTS,
    POSTCODE_AREAS,
    POSTCODE_LETTERS,
    REFERRAL_WEIGHTS,
    REPEAT_CALLER_SHARE,
    REPEAT_WINDOW,
    SAFEGUARDING_SHARE,
    SLOT_SECONDS,
    SLOT_WEIGHTS,
    SUBTOPIC_SHARE,
    SURNAMES,
    TOP_TOPIC_WEIGHTS,
    TOPIC_COUNT_WEIGHTS,
    UNKNOWN_AUTHORITY_SHARE,
)
from advice_desk.demo.timing import Day, Plan, durations, times_of_day
from advice_desk.demo.weighted import Weighted, table
from advice_desk.reference import lists as reference
from advice_desk.reference.hours import policy_from_dict
from advice_desk.resources import resource_path
from advice_desk.store.bulk import CellValue, Chunk
from advice_desk.store.models import Topic

Columns = dict[str, list[CellValue]]  # a chunk's calls, column by column


def _codes(choices: Iterable[reference.Choice | reference.NonDataKind | reference.LocalAuthority]
           ) -> list[str]:
    return [c.code for c in choices]


def topic_weights(topics: dict[str, Topic]) -> dict[str, float]:
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


@cache
def authority_populations() -> dict[str, int]:
    """Residents of each authority, in thousands (rounded ONS mid-year estimates)."""
    with resource_path(AUTHORITY_POPULATION_FILE).open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {row["code"]: int(row["population_thousands"]) for row in rows}


def authority_weights() -> list[float]:
    """Unknown first, then each authority's share of the calls: as its share of the residents
    (an authority the table does not know counts as a small one)."""
    populations = authority_populations()
    smallest = min(populations.values(), default=1)
    sizes = [float(populations.get(la.code, smallest)) for la in reference.local_authorities()]
    unknown = sum(sizes) * UNKNOWN_AUTHORITY_SHARE / (1 - UNKNOWN_AUTHORITY_SHARE)
    return [unknown, *sizes]


@lru_cache(maxsize=1)
def _authority_table(weights: tuple[float, ...]) -> list[str | None]:
    """The authorities' draw table (a million entries), made once per process and run."""
    return table([None, *_codes(reference.local_authorities())], weights, AUTHORITY_TABLE_SIZE)


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



class Generator:
    """Makes the calls of one chunk from the chunk's own random stream."""

    def __init__(self, plan: Plan, index: int) -> None:
        h = reference.helpline()
        rng = self.rng = random.Random(f"{plan.seed}/{index}")
        self.now = plan.now
        self.policy = policy_from_dict(plan.hours)
        non_data = _codes(h.non_data_kinds)
        non_data_total = sum(NON_DATA_WEIGHTS.get(k, DEFAULT_WEIGHT) for k in non_data)
        self.kinds = Weighted(rng, ["data", *non_data], [1 - NON_DATA_SHARE, *(
            NON_DATA_SHARE * NON_DATA_WEIGHTS.get(k, DEFAULT_WEIGHT) / non_data_total
            for k in non_data)])
        by_code = Weighted.by_code
        self.workers = Weighted(rng, plan.worker_ids, [share for *_, share in DEMO_WORKERS])
        self.caller_types = by_code(rng, _codes(h.caller_types), CALLER_TYPE_WEIGHTS)
        self.arrangements = by_code(rng, _codes(h.arrangements), ARRANGEMENT_WEIGHTS)
        self.authorities = Weighted.of_table(rng, _authority_table(
            tuple(plan.authority_weights)))
        self.channels = by_code(rng, _codes(h.channels), CHANNEL_WEIGHTS)
        self.phone_directions = by_code(rng, _codes(h.directions), PHONE_DIRECTION_WEIGHTS)
        self.first_time = by_code(rng, _codes(h.first_time_caller), FIRST_TIME_WEIGHTS)
        self.how_heard = by_code(rng, [None, *_codes(h.how_heard)], HOW_HEARD_WEIGHTS)
        self.children = Weighted(rng, *_children_profiles())
        self.follow_up_days = by_code(rng, list(FOLLOW_UP_DAYS), FOLLOW_UP_DAYS)
        self.topics = Weighted(rng, list(plan.topic_weights), list(plan.topic_weights.values()))
        self.topic_counts = by_code(rng, list(TOPIC_COUNT_WEIGHTS), TOPIC_COUNT_WEIGHTS)
        self.outcomes = by_code(rng, _codes(h.outcomes), OUTCOME_WEIGHTS)
        self.outcome_counts = by_code(rng, list(OUTCOME_COUNT_WEIGHTS), OUTCOME_COUNT_WEIGHTS)
        self.referrals = by_code(rng, _codes(h.referral_targets), REFERRAL_WEIGHTS)
        # What a caller ringing again says (another helpline's lists: left as drawn).
        self.said_again = [(name, code) for name, code, choices in (
            ("first_time_caller", FIRST_TIME_AGAIN, h.first_time_caller),
            ("how_heard", HEARD_AGAIN, h.how_heard)) if code in _codes(choices)]

    def chunk(self, days: list[tuple[Day, int]]) -> Chunk:
        local, started, in_hours = self._start_times(days)
        n = len(started)
        kinds = self.kinds.draw(n)
        columns = cast(Columns, {
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
        })
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

    def _start_times(self, days: list[tuple[Day, int]]
                     ) -> tuple[list[datetime], list[datetime], list[bool]]:
        """Wall-clock and UTC start times, in order, and whether each is in opening hours."""
        since_midnight = times_of_day()
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

    def _add_channels(self, columns: Columns) -> None:
        """Out of hours, a worker returns a voicemail; in hours, most calls come in by phone."""
        n = len(columns["kind"])
        channels = self.channels.draw(n)
        phone_directions = self.phone_directions.draw(n)
        columns["channel"] = [c if o else OUT_OF_HOURS_CHANNEL
                              for c, o in zip(channels, columns["in_hours"], strict=True)]
        columns["direction"] = [
            (d if c == PHONE else INBOUND) if o else OUT_OF_HOURS_DIRECTION
            for c, d, o in zip(channels, phone_directions, columns["in_hours"], strict=True)]

    def _add_children(self, columns: Columns) -> None:
        profiles = self.children.draw(len(columns["kind"]))
        columns["children_count"] = [count for count, _ in profiles]
        columns["children_age_bands"] = [bands for _, bands in profiles]

    def _add_durations(self, columns: Columns) -> None:
        """Call lengths; a call of today that would still be going on is cut at "now"."""
        seconds: list[CellValue] = []
        ended: list[CellValue] = []
        now = self.now
        for start, (length, delta) in zip(cast(list[datetime], columns["started_at"]),
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
        return self.rng.choices(durations(), k=n)

    def _add_follow_ups(self, columns: Columns, local: list[datetime]) -> None:
        wanted = [r < FOLLOW_UP_SHARE for r in self._randoms(len(local))]
        delays = iter(self.follow_up_days.draw(sum(wanted)))
        open_day = self.policy.open_day_from  # a worker calls back on a day the line is open
        columns["follow_up_on"] = [open_day(t.date() + timedelta(days=next(delays))) if w
                                   else None for t, w in zip(local, wanted, strict=True)]

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

    def _add_personal_details(self, columns: Columns) -> None:
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
        self._add_repeat_callers(columns, agreed)

    def _add_repeat_callers(self, columns: Columns, agreed: list[int]) -> None:
        """Some calls with consent are by the caller of an earlier one (see
        ``REPEAT_CALLER_SHARE``); a caller may ring several times."""
        rng, n = self.rng, len(agreed)
        draws = self._randoms(n)
        back = rng.choices(range(1, REPEAT_WINDOW + 1), k=n)
        same = [columns[name] for name in (
            "caller_name", "caller_phone", "caller_email", "caller_postcode", "local_authority",
            "caller_type", "arrangement")]
        said = [(columns[name], code) for name, code in self.said_again]
        for j, (r, b) in enumerate(zip(draws, back, strict=True)):
            if r < REPEAT_CALLER_SHARE and b <= j:
                i, earlier = agreed[j], agreed[j - b]
                for column in same:
                    column[i] = column[earlier]
                for column, code in said:
                    column[i] = code


# What a non-data call leaves empty or at its default (PRODUCT.md §2: one key press, no form).
_NON_DATA_EMPTY = ("ended_at", "duration_s", "caller_type", "arrangement", "local_authority",
                   "children_count", "children_age_bands", "follow_up_on", "how_heard")
_NON_DATA_DEFAULTS: dict[str, CellValue] = {
    "safeguarding": False, "consent_to_store_details": False, "first_time_caller": "unknown"}
_IN_HOURS_NON_DATA = {"channel": PHONE, "direction": INBOUND}  # out of hours: a callback


def _blank_non_data(columns: Columns) -> None:
    """Empty what a non-data call does not record, as :meth:`Calls.log_non_data` does."""
    for i, kind in enumerate(columns["kind"]):
        if kind == "data":
            continue
        for name in _NON_DATA_EMPTY:
            columns[name][i] = None
        defaults = _NON_DATA_DEFAULTS | (_IN_HOURS_NON_DATA if columns["in_hours"][i] else {})
        for name, value in defaults.items():
            columns[name][i] = value
        columns["updated_at"][i] = columns["created_at"][i] = columns["started_at"][i]


