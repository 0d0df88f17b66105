"""The call history's query in SQL: its conditions, its sort keys, the joins of its rows."""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVarTuple

import sqlalchemy as sa
from sqlmodel import col, select

from advice_desk.calls import search
from advice_desk.calls.history import CallQuery
from advice_desk.clock import uk_day_end, uk_day_start
from advice_desk.store.models import Call, CallTopic, User

Ts = TypeVarTuple("Ts")

SORTABLE = {
    "started_at": col(Call.started_at),
    "worker": col(User.display_name),
    "caller_type": col(Call.caller_type),
    "primary_topic": col(CallTopic.topic_code),
    "duration_s": col(Call.duration_s),
}


def history_conditions(query: CallQuery, dialect: str, walk: bool = False
                       ) -> list[sa.ColumnElement[bool]]:
    """What a history row must meet for the query (``walk``: see
    :func:`search.matching_calls`)."""
    conditions: list[sa.ColumnElement[bool]] = []
    found = search.matching_calls(query.text, dialect, walk)
    if found is not None:
        conditions.append(found)
    if query.date_from is not None:
        conditions.append(col(Call.started_at) >= uk_day_start(query.date_from))
    if query.date_to is not None:
        conditions.append(col(Call.started_at) < uk_day_end(query.date_to))
    if query.worker_id is not None:
        conditions.append(col(Call.worker_id) == query.worker_id)
    if query.started_after is not None:
        conditions.append(col(Call.started_at) >= query.started_after)
    if query.unreviewed_only:
        conditions += [col(Call.reviewed_at).is_(None), col(Call.kind) == "data"]
    if query.safeguarding_only:
        conditions.append(col(Call.safeguarding).is_(True))
    if query.topic:
        # EXISTS, not IN: the newest-first walk stops at the first page of matches.
        named = (select(CallTopic.call_id).correlate(Call)
                 .where(col(CallTopic.call_id) == col(Call.id),
                        sa.or_(col(CallTopic.topic_code) == query.topic,
                               col(CallTopic.topic_code).startswith(query.topic + "."))))
        conditions.append(named.exists())
    return conditions


def unfiltered(query: CallQuery) -> bool:
    """Whether ``query`` shows every call (in whatever order)."""
    return replace(query, sort="started_at", descending=True) == CallQuery()


def walks(connection: sa.Connection, matches: int | None, rows_wanted: int | None) -> bool:
    """On SQLite, with ``matches`` calls matching the search: whether to find ``rows_wanted``
    rows by walking the calls (:func:`search.walk_the_calls`)."""
    if matches is None:
        return False
    calls = connection.execute(sa.select(sa.func.max(col(Call.id)))).scalar() or 0
    return search.walk_the_calls(matches, calls, rows_wanted)


def joined(statement: sa.Select[*Ts], sort: str | None = None
            ) -> sa.Select[*Ts]:
    """``statement`` with each call's worker and primary topic (if any) beside it; with
    ``sort``, only what sorting by it needs."""
    if sort in (None, "worker"):
        statement = statement.join(User, col(User.id) == col(Call.worker_id))
    if sort in (None, "primary_topic"):
        statement = statement.outerjoin(
            CallTopic, sa.and_(col(CallTopic.call_id) == col(Call.id),
                               col(CallTopic.is_primary).is_(True)))
    return statement


def unique_outcomes(joined: str | None) -> str:
    return ", ".join(dict.fromkeys((joined or "").split(","))) if joined else ""
