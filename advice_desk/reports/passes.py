"""The SQL of the extract's two passes: each call's quasi values as one number.

Every quasi column's finest value is a small number computed by the database (the month by
comparing the date with the months' first days, the region by the authority's membership of
each region's list of codes, bands by comparisons), and the numbers are combined into one key
per call, the same in both passes. Pass one counts the calls of each key and topic set; pass two
streams, per call, the key, its topic and outcome codes and the contact details that tell a
repeat caller. On PostgreSQL pass one's counting is a ``GROUP BY`` on the server; SQLite's
``GROUP BY`` sorts every call first, so there the numbers (one pair per call) are counted as
they are read, which costs a fraction of the sort; memory holds the counts, never the calls.
Both passes read in one transaction that sees one snapshot of the store (PostgreSQL:
repeatable read), so pass two meets exactly the calls pass one counted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlmodel import col

from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic

Period = tuple[sa.ColumnElement[bool], ...]
Row = tuple[object, ...]
# pass two's: a call's key, topic codes, outcome codes, phone and email
CallRow = tuple[int, str | None, str | None, str | None, str | None]
_CHUNK = 10_000  # rows fetched at a time


class weekday(FunctionElement[int]):
    """The day of the week of a date, Monday 0 … Sunday 6, on every engine."""

    type = sa.Integer()
    inherit_cache = True


@compiles(weekday)
def _weekday(element: weekday, compiler: SQLCompiler, **kw: object) -> str:
    (day,) = element.clauses
    return f"(CAST(EXTRACT(isodow FROM {compiler.process(day, **kw)}) AS INTEGER) - 1)"


@compiles(weekday, "sqlite")
def _weekday_sqlite(element: weekday, compiler: SQLCompiler, **kw: object) -> str:
    (day,) = element.clauses
    # the Julian day number of midnight is a whole number plus a half; its whole part is 0 on
    # a Tuesday (2026-12-01 is Julian day 2461375.5)
    return f"((CAST(julianday({compiler.process(day, **kw)}) AS INTEGER) + 1) % 7)"


@dataclass(frozen=True)
class Column:
    """A quasi column's finest values (their texts, in the order of their numbers) and the SQL
    that gives a call's number."""

    leaves: tuple[str, ...]
    number: sa.ColumnElement[int]


def month_column(months: Sequence[tuple[str, date]]) -> Column:
    """``months``: each month's text and first day, in order."""
    day = col(Call.local_date)
    number = sa.case(*((day < first, n) for n, (_, first) in enumerate(months[1:])),
                     else_=len(months) - 1) if len(months) > 1 else sa.literal(0)
    return Column(tuple(text for text, _ in months), number)


def weekday_column(days: Sequence[str]) -> Column:
    return Column(tuple(days), weekday(col(Call.local_date)))


def flag_column(stored: sa.ColumnElement[bool | None] | Mapped[bool | None], yes: str, no: str,
                unknown: str) -> Column:
    return Column((yes, no, unknown), sa.case((stored.is_(None), 2), (stored.is_(True), 0),
                                              else_=1))


def banded_column(stored: sa.ColumnElement[int | None] | Mapped[int | None],
                  limits: Sequence[tuple[int, str]], longest: str,
                  unknown: str) -> Column:
    """Bands below each limit, then ``longest``; NULL is ``unknown``."""
    number = sa.case((stored.is_(None), len(limits) + 1),
                     *((stored < limit, n) for n, (limit, _) in enumerate(limits)),
                     else_=len(limits))
    return Column((*(band for _, band in limits), longest, unknown), number)


def coded_column(stored: Mapped[str | None], codes: Sequence[str], unknown: str) -> Column:
    """A code column: each known code its number, NULL ``unknown``; any other code the number
    after the last (pass one then asks which they are: :func:`other_codes`)."""
    leaves = (*dict.fromkeys(c for c in codes if c != unknown), unknown)
    number = sa.case({code: n for n, code in enumerate(leaves)},
                     value=sa.func.coalesce(stored, unknown), else_=len(leaves))
    return Column(leaves, number)


def grouped_column(stored: Mapped[str | None], groups: dict[str, Sequence[str]],
                   unknown: str) -> Column:
    """A value named by the group its stored code belongs to (an authority's region): one
    list of codes per group, each looked up in the database's index of the list."""
    names = [name for name in groups if name != unknown]
    number = sa.case(*((stored.in_(list(groups[name])), n) for n, name in enumerate(names)),
                     else_=len(names)) if names else sa.literal(0)
    return Column((*names, unknown), number)


def key(columns: Sequence[Column]) -> sa.ColumnElement[int]:
    """All columns' numbers as one: column 0 varies fastest."""
    total: sa.ColumnElement[int] | None = None
    stride = 1
    for column in columns:
        term = column.number if stride == 1 else column.number * stride
        total = term if total is None else total + term
        stride *= len(column.leaves) + 1  # the number after the last: a code pass one met
    return total if total is not None else sa.literal(0)


def strides(columns: Sequence[Column]) -> list[int]:
    made, stride = [], 1
    for column in columns:
        made.append(stride)
        stride *= len(column.leaves) + 1
    return made


def other_codes(connection: sa.Connection, period: Period, stored: Mapped[str | None],
                known: Sequence[str], unknown: str) -> list[str]:
    """The codes of a column in the period that ``known`` does not hold (a code since
    retired)."""
    value = sa.func.coalesce(stored, unknown)
    return sorted(connection.execute(sa.select(value).where(*period, value.not_in(list(known)))
                                     .distinct()).scalars())


def topic_bits(connection: sa.Connection) -> dict[str, int]:
    """A number for each topic's top-level code, summed over a call's distinct top-level
    topics: one number per topic set (bits; beyond 62 top levels, 53-bit fingerprints)."""
    codes = connection.execute(sa.select(col(Topic.code))).scalars().all()
    tops = sorted({top(code) for code in codes})
    if len(tops) <= 62:
        value = {t: 1 << i for i, t in enumerate(tops)}
    else:
        value = {t: int.from_bytes(hashlib.sha256(t.encode()).digest()[:7]) >> 3 for t in tops}
    return {code: value[top(code)] for code in codes}


def top(code: str) -> str:
    return code.split(".")[0]


def count(connection: sa.Connection, period: Period, columns: Sequence[Column],
          bits: dict[str, int]) -> tuple[Counter[int], int]:
    """Pass one: the calls of each key and topic set, as ``key << shift | topic set`` → calls,
    and the shift (one number per pair: half the memory of pairs)."""
    number = key(columns)
    shift = max(1, sum(set(bits.values())).bit_length())
    bit = sa.case(bits, value=col(CallTopic.topic_code), else_=0) if bits else sa.literal(0)
    topics = (sa.select(sa.func.coalesce(sa.func.sum(sa.distinct(bit)), 0))
              .where(col(CallTopic.call_id) == col(Call.id)).scalar_subquery())
    counted: Counter[int] = Counter()
    if connection.dialect.name == "sqlite":
        if space(columns).bit_length() + shift <= 62:  # SQLite's integers have 64 bits
            for chunk in _chunks(connection, sa.select(number * (1 << shift) + topics)
                                 .where(*period)):
                counted.update(value for (value,) in cast(list[tuple[int]], chunk))
        else:
            for chunk in _chunks(connection, sa.select(number, topics).where(*period)):
                counted.update(k << shift | t for k, t in cast(list[tuple[int, int]], chunk))
        return counted, shift
    per_call = sa.select(number.label("key"), topics.label("topics")).where(*period).subquery()
    for k, t, n in connection.execute(sa.select(per_call.c.key, per_call.c.topics,
                                                sa.func.count())
                                      .group_by(per_call.c.key, per_call.c.topics)):
        counted[int(k) << shift | int(t)] = int(n)
    return counted, shift


def space(columns: Sequence[Column]) -> int:
    """How many keys there may be."""
    made = 1
    for column in columns:
        made *= len(column.leaves) + 1
    return made


_PRIME = 4_294_967_291  # the largest prime below 2**32


def shuffled(secret: bytes) -> sa.ColumnElement[int]:
    """A keyed order of the calls, so that a row's place in ``calls.csv`` says nothing of when
    its call was (in the order of the ids or days, a row's neighbours would give away the day,
    and with it the weekday and month the file generalises): (a·id + b) mod p, one-to-one
    over the ids, with a and b drawn from the export's secret."""
    digest = hmac.new(secret, b"calls.csv row order", hashlib.sha256).digest()
    a = 1 + int.from_bytes(digest[:4]) % (_PRIME - 1)
    b = int.from_bytes(digest[4:8]) % _PRIME
    ordered = (col(Call.id) * sa.literal(a, sa.BigInteger) + b) % _PRIME
    return cast(sa.ColumnElement[int], ordered)


def rows(connection: sa.Connection, period: Period, number: sa.ColumnElement[int],
         order: sa.ColumnElement[int]) -> Iterator[list[CallRow]]:
    """Pass two: per call, in ``order`` (:func:`shuffled`), its key, its topic codes and
    outcome codes (``;``-joined, in any order) and its phone and email as stored; a chunk at a
    time."""
    topics = (sa.select(sa.func.aggregate_strings(col(CallTopic.topic_code), ";"))
              .where(col(CallTopic.call_id) == col(Call.id)).scalar_subquery())
    outcomes = (sa.select(sa.func.aggregate_strings(col(CallOutcome.outcome), ";"))
                .where(col(CallOutcome.call_id) == col(Call.id)).scalar_subquery())
    query = (sa.select(number, topics, outcomes, col(Call.caller_phone), col(Call.caller_email))
             .where(*period).order_by(order))
    for chunk in _chunks(connection, query):
        yield cast(list[CallRow], chunk)


def _chunks(connection: sa.Connection, query: sa.Executable) -> Iterator[list[Row]]:
    """The rows of ``query``, a chunk at a time. On SQLite as the driver gives them: a million
    calls' rows made into result rows cost more than the query (the columns are numbers and
    text, which need no conversion). On PostgreSQL streamed from a cursor on the server."""
    if connection.dialect.name != "sqlite":
        streamed = connection.execution_options(stream_results=True, yield_per=_CHUNK)
        for part in streamed.execute(query).partitions():
            yield [tuple(row) for row in part]
        return
    result = connection.execute(query)
    try:
        while chunk := result.cursor.fetchmany(_CHUNK):
            yield list(chunk)
    finally:
        result.close()


def snapshot_options(dialect: str) -> dict[str, str]:
    """The options of the connection for both passes: on PostgreSQL a repeatable-read
    transaction (one snapshot for every statement); SQLite's transaction sees one already."""
    return {"isolation_level": "REPEATABLE READ"} if dialect == "postgresql" else {}
