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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import compress, islice, repeat
from operator import itemgetter
from typing import TypeVar, cast

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


K = TypeVar("K", Key, DurationKey)
SpanKey = tuple[str, date, str, str]  # span, period, measure, category
SpanDurationKey = tuple[str, date, int]  # span, period, seconds


def span_rows(by_day: Mapping[K, int]) -> Iterator[tuple[object, ...]]:
    """Counts by day as rows of both spans, ``(span, period, …, calls)``, in key order (every
    day, then every month), without the rows they leave as they are. Only the months are
    summed into a new table: an import's hundreds of thousands of day rows are never copied."""
    months: Counter[K] = Counter()
    month_of_day: dict[date, date] = {}  # a few hundred days, met a thousand times each
    for key, n in by_day.items():
        if n:
            day = key[0]
            month = month_of_day.get(day) or month_of_day.setdefault(day, month_of(day))
            months[(month,) + key[1:]] += n  # noqa: RUF005 (as below)
    for span, counts in ((DAY, by_day), (MONTH, months)):
        for period_key in sorted(counts):
            if counts[period_key]:
                # mypy cannot type a constrained TypeVar starred in a tuple
                yield (span,) + period_key + (counts[period_key],)  # noqa: RUF005


def spread(change: Change) -> tuple[dict[SpanKey, int], dict[SpanDurationKey, int]]:
    """A change by day as rows of both spans, without the rows it leaves as they are."""
    counts = {cast(SpanKey, row[:-1]): cast(int, row[-1]) for row in span_rows(change.counts)}
    durations = {cast(SpanDurationKey, row[:-1]): cast(int, row[-1])
                 for row in span_rows(change.durations)}
    return counts, durations


def apply(connection: sa.Connection, change: Change) -> None:
    """Add ``change`` to the rollup, in the caller's transaction. Rows go in key order, the
    counts before the durations, so two seats writing at once on PostgreSQL take the rows'
    locks in the same order and cannot deadlock."""
    upsert(connection, False, span_rows(change.counts))
    upsert(connection, True, span_rows(change.durations))


UPSERTED = 10_000


def upsert(connection: sa.Connection, durations: bool, rows: Iterable[tuple[object, ...]]
           ) -> None:
    """INSERT … ON CONFLICT DO UPDATE calls = calls + the new calls, as each engine spells it,
    into the counts or (``durations``) the histogram: ``rows`` in the table's column order,
    ``calls`` last. They go :data:`UPSERTED` at a time: an import's or the demo's hundreds of
    thousands of rows are never all held at once."""
    table = DURATION if durations else FIGURE
    keys = [column.name for column in table.primary_key.columns]
    names = [column.name for column in table.columns]
    name = connection.dialect.name
    if name == "sqlite":
        lite = sqlite.insert(table)
        statement: sa.Insert = lite.on_conflict_do_update(
            index_elements=list(keys), set_={"calls": table.c.calls + lite.excluded.calls})
    elif name == "postgresql":
        server = postgresql.insert(table)
        statement = server.on_conflict_do_update(
            index_elements=list(keys), set_={"calls": table.c.calls + server.excluded.calls})
    else:
        raise NotImplementedError(f"the rollup has no upsert for {name}")
    # On SQLite, the same statement through the driver: SQLAlchemy's per-value processing
    # would take seconds for the demo's rows. Dates as SQLAlchemy stores them.
    through_driver = name == "sqlite" and connection.dialect.paramstyle == "qmark"
    sql = str(statement.compile(dialect=connection.dialect)) if through_driver else ""
    pending = iter(rows)
    while part := list(islice(pending, UPSERTED)):
        if through_driver:
            connection.exec_driver_sql(sql, [(row[0], _plain(row[1]), *row[2:])  # the period
                                             for row in part])
        else:
            connection.execute(statement, [dict(zip(names, row, strict=True)) for row in part])


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def reviewed(connection: sa.Connection, day: date | None) -> None:
    """A call with content of ``day`` was reviewed for the first time."""
    if day is not None:
        apply(connection, Change(Counter({(day, UNREVIEWED, YES): -1})))


def follow_up_done(connection: sa.Connection, due_on: date) -> None:
    """A follow-up due on ``due_on`` was ticked off for the first time."""
    apply(connection, Change(Counter({(due_on, FOLLOW_UP_DUE, YES): -1})))


def change_of_chunk(chunk: Chunk, tops: Mapping[str, str]) -> Change:
    """What a chunk of bulk-inserted calls adds to the figures (none of them withdrawn, all
    with their UK day), counted column by column: pairs are counted in C (``zip``,
    ``compress``, ``Counter``) and only the counts are named in Python."""
    calls = chunk.calls
    days = cast(list[date], calls["local_date"])
    kinds = cast(list[str], calls["kind"])
    in_hours = cast(list[bool | None], calls["in_hours"])
    is_data = [kind == "data" for kind in kinds]
    data_days = list(compress(days, is_data))
    change = Change()
    counts = change.counts

    def put(measure: str, pairs: Iterable[tuple[date, object]],
            name: Callable[[object], str | None] = str) -> None:
        for (day, value), n in Counter(pairs).items():
            category = name(value)
            if category is not None:
                counts[day, measure, category] += n

    def of_data(column: str) -> Iterator[object]:
        return compress(calls[column], is_data)

    put(KIND, zip(days, kinds, strict=True))
    put(IN_HOURS, zip(days, in_hours, strict=True), lambda flag: YES if flag else NO)
    put(WORKER, zip(days, calls["worker_id"], strict=True))
    put(SLOT, zip(compress(days, in_hours), compress(calls["local_minute"], in_hours),
              strict=True),
        lambda minute: None if minute is None else slot_of(cast(int, minute)))
    for measure in (CALLER_TYPE, ARRANGEMENT, LOCAL_AUTHORITY):
        put(measure, zip(data_days, of_data(measure), strict=True),
            lambda code: str(code or UNKNOWN))
    put(SAFEGUARDING, zip(data_days, of_data("safeguarding"), strict=True),
        lambda flag: YES if flag else None)
    reviewed_at = calls.get("reviewed_at")
    put(UNREVIEWED, zip(data_days, of_data("reviewed_at") if reviewed_at is not None
                        else [None] * len(data_days), strict=True),
        lambda at: YES if at is None else None)
    done = calls.get("follow_up_done_at")
    for due, n in Counter(compress(calls.get("follow_up_on", ()), (
            repeat(True) if done is None else (at is None for at in done)))).items():
        if due is not None:
            counts[cast(date, due), FOLLOW_UP_DUE, YES] += n
    seconds = cast(list[int | None], calls["duration_s"])
    lengths = Counter(zip(data_days, compress(seconds, is_data), strict=True))
    for (day, length), n in lengths.items():
        if length is not None:
            change.durations[day, length] += n

    def per_call(measure: str, pairs: set[tuple[int, str]]) -> None:
        """``pairs`` of (call index, category), each once: counted on the calls with content."""
        named = [pair for pair in pairs if is_data[pair[0]]]
        put(measure, zip(map(days.__getitem__, map(itemgetter(0), named)),
                         map(itemgetter(1), named), strict=True))

    topics = set(map(itemgetter(0, 1), chunk.topics))
    per_call(TOPIC, topics)
    per_call(TOP_TOPIC, {(i, tops.get(code, code)) for i, code in topics})
    per_call(OUTCOME, set(map(itemgetter(0, 1), chunk.outcomes)))
    per_call(REFERRAL, {(i, to) for i, outcome, to in chunk.outcomes
                        if outcome == REFERRED and to})
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
