"""The rollup: what each call adds to the figures of its UK day, and writing changes to it.

A call adds one to a category of each measure it counts in (:func:`contributions`); a write to
the calls changes the rollup by the difference between what the calls added before and after
(:class:`Change`), in the same transaction (:func:`apply`). Each change is written twice: to the
call's day and to its month (``span`` "d" and "m"), so a year is read as twelve months and a
day as one day. Withdrawn calls and calls without a UK day add nothing.

The measures (the report's names them, :mod:`advice_desk.reports.compute`):

- every call: ``kind`` (``data`` or the non-data kind), ``in_hours`` (``yes``/``no``),
  ``worker`` (the worker's id), ``slot`` (calls in hours, by 30-minute slot: ``09:30``);
- calls with content only: ``caller_type``, ``arrangement``, ``local_authority`` (``unknown``
  when not given), ``safeguarding`` (``yes``), ``topic`` (each topic named), ``top_topic``
  (each top-level topic named, once a call), ``outcome`` (each outcome, once a call),
  ``referral`` (each place referred to), ``unreviewed`` (``yes``: not yet reviewed), and the
  histogram of durations in whole seconds;
- ``follow_up_due`` (``yes``): calls with a follow-up not yet done, by the day it is due (not
  the day of the call), whatever the call.

Reviewing a call and ticking off a follow-up change the rollup too (:func:`reviewed`,
:func:`follow_up_done`): counted from the calls, those two figures took half a second for a
year of a million calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from advice_desk.store.bulk import Chunk
from advice_desk.store.models import Figure, FigureDuration, Topic

KIND, IN_HOURS, WORKER, SLOT = "kind", "in_hours", "worker", "slot"
CALLER_TYPE, ARRANGEMENT, LOCAL_AUTHORITY = "caller_type", "arrangement", "local_authority"
SAFEGUARDING, TOPIC, TOP_TOPIC = "safeguarding", "topic", "top_topic"
OUTCOME, REFERRAL = "outcome", "referral"
UNREVIEWED, FOLLOW_UP_DUE = "unreviewed", "follow_up_due"
UNKNOWN, YES, NO = "unknown", "yes", "no"
DAY, MONTH = "d", "m"  # the spans
SLOT_MINUTES = 30
REFERRED = "referred"

# SQLModel makes __table__ at run time and declares it to no type checker.
FIGURE: sa.Table = Figure.__table__  # type: ignore[attr-defined, explicit-any]
DURATION: sa.Table = FigureDuration.__table__  # type: ignore[attr-defined, explicit-any]

Key = tuple[date, str, str]  # a UK day, a measure, a category
DurationKey = tuple[date, int]  # a UK day, a duration in whole seconds


@dataclass
class Change:
    """Calls to add (or, negative, take away) per day, measure and category, and per day and
    duration."""

    counts: Counter[Key] = field(default_factory=Counter)
    durations: Counter[DurationKey] = field(default_factory=Counter)

    def add(self, other: Change, sign: int = 1) -> Change:
        for key, n in other.counts.items():
            self.counts[key] += sign * n
        for d_key, n in other.durations.items():
            self.durations[d_key] += sign * n
        return self

    def __bool__(self) -> bool:
        return any(self.counts.values()) or any(self.durations.values())


@dataclass(frozen=True)
class CallFacts:
    """What of a call the figures read."""

    day: date | None
    minute: int | None  # after UK midnight
    kind: str
    in_hours: bool | None
    worker_id: int
    caller_type: str | None = None
    arrangement: str | None = None
    local_authority: str | None = None
    safeguarding: bool = False
    duration_s: int | None = None
    topics: tuple[str, ...] = ()
    outcomes: tuple[tuple[str, str], ...] = ()  # (outcome, referred_to) as stored
    withdrawn: bool = False
    reviewed: bool = False
    follow_up_on: date | None = None
    follow_up_done: bool = False


def slot_of(minute: int) -> str:
    """The 30-minute slot a minute after midnight falls in, as the report names it."""
    start = minute - minute % SLOT_MINUTES
    return f"{start // 60:02d}:{start % 60:02d}"


def contributions(call: CallFacts, tops: Mapping[str, str]) -> Change:
    """What ``call`` adds to the figures; ``tops`` maps its topics to their top-level topics."""
    change = Change()
    counts = change.counts
    if call.follow_up_on is not None and not call.follow_up_done:
        counts[call.follow_up_on, FOLLOW_UP_DUE, YES] += 1
    day = call.day
    if day is None or call.withdrawn:
        return change
    counts[day, KIND, call.kind] += 1
    counts[day, IN_HOURS, YES if call.in_hours else NO] += 1
    counts[day, WORKER, str(call.worker_id)] += 1
    if call.in_hours and call.minute is not None:
        counts[day, SLOT, slot_of(call.minute)] += 1
    if call.kind != "data":
        return change
    counts[day, CALLER_TYPE, call.caller_type or UNKNOWN] += 1
    counts[day, ARRANGEMENT, call.arrangement or UNKNOWN] += 1
    counts[day, LOCAL_AUTHORITY, call.local_authority or UNKNOWN] += 1
    if call.safeguarding:
        counts[day, SAFEGUARDING, YES] += 1
    if not call.reviewed:
        counts[day, UNREVIEWED, YES] += 1
    for code in set(call.topics):
        counts[day, TOPIC, code] += 1
    for top in {tops.get(code, code) for code in call.topics}:
        counts[day, TOP_TOPIC, top] += 1
    for outcome in {outcome for outcome, _ in call.outcomes}:
        counts[day, OUTCOME, outcome] += 1
    for target in {to for outcome, to in call.outcomes if outcome == REFERRED and to}:
        counts[day, REFERRAL, target] += 1
    if call.duration_s is not None:
        change.durations[day, call.duration_s] += 1
    return change


def top_topics(connection: sa.Connection, codes: Iterable[str]) -> dict[str, str]:
    """The top-level topic of each of ``codes`` (itself, for a top-level topic)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    table: sa.Table = Topic.__table__  # type: ignore[attr-defined, explicit-any]
    rows = connection.execute(sa.select(table.c.code, table.c.parent_code)
                              .where(table.c.code.in_(wanted))).all()
    return {code: parent or code for code, parent in rows}


def all_top_topics(connection: sa.Connection) -> dict[str, str]:
    table: sa.Table = Topic.__table__  # type: ignore[attr-defined, explicit-any]
    rows = connection.execute(sa.select(table.c.code, table.c.parent_code)).all()
    return {code: parent or code for code, parent in rows}


def month_of(day: date) -> date:
    return day.replace(day=1)


SpanKey = tuple[str, date, str, str]  # span, period, measure, category
SpanDurationKey = tuple[str, date, int]  # span, period, seconds


def spread(change: Change) -> tuple[dict[SpanKey, int], dict[SpanDurationKey, int]]:
    """A change by day as rows of both spans, without the rows it leaves as they are."""
    counts: Counter[SpanKey] = Counter()
    for (day, measure, category), n in change.counts.items():
        if n:
            counts[DAY, day, measure, category] += n
            counts[MONTH, month_of(day), measure, category] += n
    durations: Counter[SpanDurationKey] = Counter()
    for (day, seconds), n in change.durations.items():
        if n:
            durations[DAY, day, seconds] += n
            durations[MONTH, month_of(day), seconds] += n
    return ({k: n for k, n in counts.items() if n}, {k: n for k, n in durations.items() if n})


def apply(connection: sa.Connection, change: Change) -> None:
    """Add ``change`` to the rollup, in the caller's transaction. Rows go in key order, the
    counts before the durations, so two seats writing at once on PostgreSQL take the rows'
    locks in the same order and cannot deadlock."""
    counts, durations = spread(change)
    _upsert(connection, False,
            [{"span": s, "period": p, "measure": m, "category": c, "calls": n}
             for (s, p, m, c), n in sorted(counts.items())])
    _upsert(connection, True,
            [{"span": s, "period": p, "seconds": sec, "calls": n}
             for (s, p, sec), n in sorted(durations.items())])


def _upsert(connection: sa.Connection, durations: bool, rows: list[dict[str, object]]
            ) -> None:
    """INSERT … ON CONFLICT DO UPDATE calls = calls + the new calls, as each engine spells it,
    into the counts or (``durations``) the histogram."""
    if not rows:
        return
    table = DURATION if durations else FIGURE
    keys = [column.name for column in table.primary_key.columns]
    name = connection.dialect.name
    if name == "sqlite":
        lite = sqlite.insert(table)
        statement: sa.Executable = lite.on_conflict_do_update(
            index_elements=list(keys), set_={"calls": table.c.calls + lite.excluded.calls})
    elif name == "postgresql":
        server = postgresql.insert(table)
        statement = server.on_conflict_do_update(
            index_elements=list(keys), set_={"calls": table.c.calls + server.excluded.calls})
    else:
        raise NotImplementedError(f"the rollup has no upsert for {name}")
    connection.execute(statement, rows)


def reviewed(connection: sa.Connection, day: date | None) -> None:
    """A call with content of ``day`` was reviewed for the first time."""
    if day is not None:
        apply(connection, Change(Counter({(day, UNREVIEWED, YES): -1})))


def follow_up_done(connection: sa.Connection, due_on: date) -> None:
    """A follow-up due on ``due_on`` was ticked off for the first time."""
    apply(connection, Change(Counter({(due_on, FOLLOW_UP_DUE, YES): -1})))


def change_of_chunk(chunk: Chunk, tops: Mapping[str, str]) -> Change:
    """What a chunk of bulk-inserted calls adds to the figures (none of them withdrawn),
    counted column by column."""
    calls = chunk.calls
    days = cast(list[date], calls["local_date"])  # bulk-inserted calls all have their day
    kinds = cast(list[str], calls["kind"])
    in_hours = cast(list[bool | None], calls["in_hours"])
    minutes = cast(list[int | None], calls["local_minute"])
    change = Change()
    counts = change.counts

    def count(measure: str, categories: Iterable[str], rows: Iterable[int] | None = None
              ) -> None:
        picked = range(len(days)) if rows is None else rows
        pairs = zip(days, categories, strict=True) if rows is None else zip(
            (days[i] for i in picked), categories, strict=True)
        counts.update((day, measure, category) for day, category in pairs)

    count(KIND, kinds)
    count(IN_HOURS, (YES if flag else NO for flag in in_hours))
    count(WORKER, (str(w) for w in calls["worker_id"]))
    open_rows = [i for i, flag in enumerate(in_hours) if flag and minutes[i] is not None]
    count(SLOT, (slot_of(cast(int, minutes[i])) for i in open_rows), open_rows)
    data = [i for i, kind in enumerate(kinds) if kind == "data"]
    for measure in (CALLER_TYPE, ARRANGEMENT, LOCAL_AUTHORITY):
        column = calls[measure]
        count(measure, (cast(str | None, column[i]) or UNKNOWN for i in data), data)
    flagged = [i for i in data if calls["safeguarding"][i]]
    count(SAFEGUARDING, (YES for _ in flagged), flagged)
    reviewed_at = calls.get("reviewed_at")
    unreviewed = data if reviewed_at is None else [i for i in data if reviewed_at[i] is None]
    count(UNREVIEWED, (YES for _ in unreviewed), unreviewed)
    done = calls.get("follow_up_done_at")
    counts.update((due, FOLLOW_UP_DUE, YES) for i, due in enumerate(
        cast(list[date | None], calls.get("follow_up_on", [])))
        if due is not None and (done is None or done[i] is None))
    data_set = set(data)
    topics = {(i, code) for i, code, _ in chunk.topics if i in data_set}
    counts.update((days[i], TOPIC, code) for i, code in topics)
    counts.update((days[i], TOP_TOPIC, top)
                  for i, top in {(i, tops.get(c, c)) for i, c in topics})
    outcomes = {(i, o) for i, o, _ in chunk.outcomes if i in data_set}
    counts.update((days[i], OUTCOME, o) for i, o in outcomes)
    targets = {(i, to) for i, o, to in chunk.outcomes if i in data_set and o == REFERRED and to}
    counts.update((days[i], REFERRAL, to) for i, to in targets)
    seconds = cast(list[int | None], calls["duration_s"])
    change.durations.update((days[i], s) for i in data
                            if (s := seconds[i]) is not None)
    return change


# --- reading --------------------------------------------------------------------------------

Counts = dict[str, Counter[str]]  # measure -> category -> calls


def cover(first: date, last: date) -> list[tuple[str, date, date]]:
    """The rows of the rollup that add up to the UK days ``first`` to ``last``: the whole
    months among them as months, the days before and after as days."""
    months_from = first if first.day == 1 else month_of(month_of(first) + timedelta(days=32))
    months_until = month_of(last + timedelta(days=1))  # the first month not wholly in
    if months_from >= months_until:
        return [(DAY, first, last)]
    pieces = []
    if first < months_from:
        pieces.append((DAY, first, months_from - timedelta(days=1)))
    pieces.append((MONTH, months_from, month_of(months_until - timedelta(days=1))))
    if months_until <= last:
        pieces.append((DAY, months_until, last))
    return pieces


def _in(spans: sa.ColumnElement[str], periods: sa.ColumnElement[date], first: date,
        last: date) -> sa.ColumnElement[bool]:
    return sa.or_(*(sa.and_(spans == span, periods.between(a, b))
                    for span, a, b in cover(first, last)))


def read(connection: sa.Connection, first: date, last: date
         ) -> tuple[Counts, list[tuple[int, int]]]:
    """The figures of the UK days ``first`` to ``last``: counts by measure and category, and
    the histogram of durations in order (seconds, calls)."""
    counts: Counts = {}
    rows = connection.execute(
        sa.select(FIGURE.c.measure, FIGURE.c.category, sa.func.sum(FIGURE.c.calls))
        .where(_in(FIGURE.c.span, FIGURE.c.period, first, last))
        .group_by(FIGURE.c.measure, FIGURE.c.category)).all()
    for measure, category, n in rows:
        if n:
            counts.setdefault(measure, Counter())[category] += int(n)
    histogram = [(int(seconds), int(n)) for seconds, n in connection.execute(
        sa.select(DURATION.c.seconds, sa.func.sum(DURATION.c.calls))
        .where(_in(DURATION.c.span, DURATION.c.period, first, last))
        .group_by(DURATION.c.seconds).order_by(DURATION.c.seconds)).all() if n]
    return counts, histogram
