"""The rollup counted afresh from the calls, set-wise: a few GROUP BY queries.

For building the rollup of a store that has none (the migration) and for
``advice-desk check --figures``, which compares it with the rollup kept and repairs the rollup
if asked. (An import counts its calls as it checks them: :mod:`advice_desk.calls.importer`.)
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from advice_desk.figures import rollup
from advice_desk.figures.rollup import (
    ARRANGEMENT,
    CALLER_TYPE,
    DURATION,
    FIGURE,
    FOLLOW_UP_DUE,
    IN_HOURS,
    KIND,
    LOCAL_AUTHORITY,
    NO,
    OUTCOME,
    REFERRAL,
    REFERRED,
    SAFEGUARDING,
    SLOT,
    SLOT_MINUTES,
    TOP_TOPIC,
    TOPIC,
    UNKNOWN,
    UNREVIEWED,
    WORKER,
    YES,
    Change,
    SpanDurationKey,
    SpanKey,
)
from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic

_CALL: sa.Table = Call.__table__  # type: ignore[attr-defined, explicit-any]
_TOPIC: sa.Table = CallTopic.__table__  # type: ignore[attr-defined, explicit-any]
_OUTCOME: sa.Table = CallOutcome.__table__  # type: ignore[attr-defined, explicit-any]
_TOPICS: sa.Table = Topic.__table__  # type: ignore[attr-defined, explicit-any]


def recount(connection: sa.Connection, which: sa.ColumnElement[bool] | None = None) -> Change:
    """What the calls (those meeting ``which``, or all) add to the rollup, by day."""
    c = _CALL.c
    counted = sa.and_(c.local_date.is_not(None), c.withdrawn_at.is_(None),
                      *(() if which is None else (which,)))
    data = sa.and_(counted, c.kind == "data")
    change = Change()
    counts = change.counts
    execute = connection.execute
    day = c.local_date
    for d, kind, in_hours, worker, n in execute(
            sa.select(day, c.kind, c.in_hours, c.worker_id, sa.func.count())
            .where(counted).group_by(day, c.kind, c.in_hours, c.worker_id)):
        counts[d, KIND, kind] += n
        counts[d, IN_HOURS, YES if in_hours else NO] += n
        counts[d, WORKER, str(worker)] += n
    slot = c.local_minute - c.local_minute % SLOT_MINUTES
    for d, minute, n in execute(
            sa.select(day, slot, sa.func.count())
            .where(counted, c.in_hours.is_(True), c.local_minute.is_not(None))
            .group_by(day, slot)):
        counts[d, SLOT, rollup.slot_of(int(minute))] += n
    for measure in (CALLER_TYPE, ARRANGEMENT, LOCAL_AUTHORITY):
        column = c[measure]
        for d, category, n in execute(sa.select(day, column, sa.func.count())
                                      .where(data).group_by(day, column)):
            counts[d, measure, category or UNKNOWN] += n
    for d, n in execute(sa.select(day, sa.func.count())
                        .where(data, c.safeguarding.is_(True)).group_by(day)):
        counts[d, SAFEGUARDING, YES] += n
    for d, n in execute(sa.select(day, sa.func.count())
                        .where(data, c.reviewed_at.is_(None)).group_by(day)):
        counts[d, UNREVIEWED, YES] += n
    # By the day the follow-up is due, whatever the call.
    due = [c.follow_up_on.is_not(None), c.follow_up_done_at.is_(None),
           *(() if which is None else (which,))]
    for d, n in execute(sa.select(c.follow_up_on, sa.func.count()).where(*due)
                        .group_by(c.follow_up_on)):
        counts[d, FOLLOW_UP_DUE, YES] += n
    joined_topics = _CALL.join(_TOPIC, _TOPIC.c.call_id == c.id)
    for d, code, n in execute(sa.select(day, _TOPIC.c.topic_code, sa.func.count())
                              .select_from(joined_topics).where(data)
                              .group_by(day, _TOPIC.c.topic_code)):
        counts[d, TOPIC, code] += n
    top = sa.func.coalesce(_TOPICS.c.parent_code, _TOPICS.c.code)
    for d, code, n in execute(
            sa.select(day, top, sa.func.count(sa.distinct(c.id)))
            .select_from(joined_topics.join(_TOPICS, _TOPICS.c.code == _TOPIC.c.topic_code))
            .where(data).group_by(day, top)):
        counts[d, TOP_TOPIC, code] += n
    joined_outcomes = _CALL.join(_OUTCOME, _OUTCOME.c.call_id == c.id)
    for d, outcome, n in execute(sa.select(day, _OUTCOME.c.outcome, sa.func.count(
            sa.distinct(c.id))).select_from(joined_outcomes).where(data)
            .group_by(day, _OUTCOME.c.outcome)):
        counts[d, OUTCOME, outcome] += n
    for d, target, n in execute(sa.select(day, _OUTCOME.c.referred_to, sa.func.count())
                                .select_from(joined_outcomes)
                                .where(data, _OUTCOME.c.outcome == REFERRED,
                                       _OUTCOME.c.referred_to != "")
                                .group_by(day, _OUTCOME.c.referred_to)):
        counts[d, REFERRAL, target] += n
    for d, seconds, n in execute(sa.select(day, c.duration_s, sa.func.count())
                                 .where(data, c.duration_s.is_not(None))
                                 .group_by(day, c.duration_s)):
        change.durations[d, int(seconds)] += n
    return change


def stored(connection: sa.Connection
           ) -> tuple[dict[SpanKey, int], dict[SpanDurationKey, int]]:
    """The rollup as it is kept, without its empty rows."""
    counts = {(s, p, m, cat): int(n) for s, p, m, cat, n in connection.execute(
        sa.select(FIGURE.c.span, FIGURE.c.period, FIGURE.c.measure, FIGURE.c.category,
                  FIGURE.c.calls).where(FIGURE.c.calls != 0))}
    durations = {(s, p, sec): int(n) for s, p, sec, n in connection.execute(
        sa.select(DURATION.c.span, DURATION.c.period, DURATION.c.seconds, DURATION.c.calls)
        .where(DURATION.c.calls != 0))}
    return counts, durations


@dataclass(frozen=True)
class Difference:
    """A row of the rollup that is not what the calls add up to. Only codes, dates and
    numbers: never anything about a caller."""

    span: str
    period: str
    measure: str
    category: str
    kept: int
    counted: int

    def __str__(self) -> str:
        span = "day" if self.span == rollup.DAY else "month"
        return (f"{span} {self.period}, {self.measure} {self.category}: "
                f"kept {self.kept}, the calls give {self.counted}")


def differences(connection: sa.Connection) -> list[Difference]:
    """Where the rollup kept differs from the calls, in key order."""
    expected_counts, expected_durations = rollup.spread(recount(connection))
    kept_counts, kept_durations = stored(connection)
    found: list[Difference] = []
    for key in sorted(set(expected_counts) | set(kept_counts)):
        kept, counted = kept_counts.get(key, 0), expected_counts.get(key, 0)
        if kept != counted:
            span, period, measure, category = key
            found.append(Difference(span, period.isoformat(), measure, category, kept,
                                    counted))
    for d_key in sorted(set(expected_durations) | set(kept_durations)):
        kept, counted = kept_durations.get(d_key, 0), expected_durations.get(d_key, 0)
        if kept != counted:
            span, period, seconds = d_key
            found.append(Difference(span, period.isoformat(), "duration", f"{seconds} s",
                                    kept, counted))
    return found


def rebuild(connection: sa.Connection) -> None:
    """Throw the rollup away and count it again from the calls, in the open transaction."""
    connection.execute(FIGURE.delete())
    connection.execute(DURATION.delete())
    rollup.apply(connection, recount(connection))

