"""The SQL of the extract's one read of the calls: each call's quasi values as one number.

Every quasi column's finest value is a small number computed by the database (the region by
halving the sorted authority codes, bands by comparisons; the month is the statement's, as
the calls are read a month at a time), and the numbers are combined into one key per call.
The read gives, per call, its id, that key and what tells its caller, as texts the database
makes in one statement a month (an aggregate over the month's calls): no row a call is ever
made, which costs more than the query. The topic and outcome sets come from their link
tables, scanned along the call id (a lookup per call costs several times the scan), as
(call, bit) pairs. :mod:`advice_desk.reports.call_numbers` keeps them as numbers. The
statements run in one transaction, one snapshot of the store (PostgreSQL: repeatable read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlmodel import col

from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic

Period = tuple[sa.ColumnElement[bool], ...]


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
    that gives a call's number (``None``: the month, the same for every call of one month's
    statement, given to :func:`key`)."""

    leaves: tuple[str, ...]
    number: sa.ColumnElement[int] | None


def month_column(months: Sequence[str]) -> Column:
    """``months``: each month's text, in order (the statements read a month at a time)."""
    return Column(tuple(months), None)


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
    after the last (the extract then asks which they are: :func:`other_codes`)."""
    leaves = (*dict.fromkeys(c for c in codes if c != unknown), unknown)
    number = sa.case({code: n for n, code in enumerate(leaves)},
                     value=sa.func.coalesce(stored, unknown), else_=len(leaves))
    return Column(leaves, number)


_LEAF = 8  # the codes a branch of a code tree tests one by one


def grouped_column(stored: Mapped[str | None], groups: dict[str, Sequence[str]],
                   unknown: str) -> Column:
    """A value named by the group its stored code belongs to (an authority's region). The
    codes, sorted, are found by halving (``<`` against the middle code, in byte order on
    every engine) down to a few tested one by one: a dozen comparisons a call where a test of
    each group's list costs several lookups. A code no group holds (or NULL) is ``unknown``."""
    names = [name for name in groups if name != unknown]
    number_of = {code: n for n, name in enumerate(names) for code in groups[name]}
    return Column((*names, unknown), _code_tree(binary_text(stored), sorted(number_of),
                                               number_of, len(names)))


def _code_tree(stored: sa.ColumnElement[str], codes: Sequence[str], number_of: dict[str, int],
               other: int) -> sa.ColumnElement[int]:
    if len(codes) <= _LEAF:
        if not codes:
            return sa.literal(other)
        return sa.case({code: number_of[code] for code in codes}, value=stored, else_=other)
    middle = len(codes) // 2
    return sa.case((stored < codes[middle],
                    _code_tree(stored, codes[:middle], number_of, other)),
                   else_=_code_tree(stored, codes[middle:], number_of, other))


class binary_text(FunctionElement[str]):
    """A text compared byte by byte (PostgreSQL's ``C`` collation; SQLite's own), as Python
    sorts it."""

    type = sa.String()
    inherit_cache = True


@compiles(binary_text)
def _binary_text(element: binary_text, compiler: SQLCompiler, **kw: object) -> str:
    (text,) = element.clauses
    return f'({compiler.process(text, **kw)} COLLATE "C")'


@compiles(binary_text, "sqlite")
def _binary_text_sqlite(element: binary_text, compiler: SQLCompiler, **kw: object) -> str:
    (text,) = element.clauses
    return compiler.process(text, **kw)


def key(columns: Sequence[Column], month: int) -> sa.ColumnElement[int]:
    """All columns' numbers as one (the month's number is ``month``): column 0 varies
    fastest."""
    total: sa.ColumnElement[int] | None = None
    stride = 1
    for column in columns:
        number = sa.literal(month) if column.number is None else column.number
        term = number if stride == 1 else number * stride
        total = term if total is None else total + term
        stride *= len(column.leaves) + 1  # the number after the last: a code the read met
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


def top(code: str) -> str:
    return code.split(".")[0]


class TooManyCodes(ValueError):
    """More codes than a set of them can hold as bits."""


BITS = 62  # a set of codes as the bits of one number (SQLite's integers have 64 bits)


def code_bits(codes: Sequence[str], part: Callable[[str], str] = str) -> dict[str, int]:
    """Each code's bit: one per distinct ``part`` of the codes (a topic's top-level code), in
    sorted order, so a set's bits read in order give its parts sorted."""
    parts = sorted({part(code) for code in codes})
    if len(parts) > BITS:
        raise TooManyCodes(f"the extract can tell at most {BITS} top-level topics or outcomes "
                           f"apart, and this store has {len(parts)}")
    bit = {name: 1 << n for n, name in enumerate(parts)}
    return {code: bit[part(code)] for code in codes}


def topic_bits(connection: sa.Connection) -> tuple[dict[str, int], list[str]]:
    """Each topic code's bit (its top-level topic's) and the top-level topics in bit order."""
    codes = list(connection.execute(sa.select(col(Topic.code))).scalars())
    return code_bits(codes, top), sorted({top(code) for code in codes})


def topic_pairs(connection: sa.Connection, bits: dict[str, int], first_id: int,
                last_id: int) -> Iterator[str]:
    """The (call, top-level topic bit) pairs of the calls with ids from ``first_id`` to
    ``last_id``: see :func:`code_pairs`."""
    return code_pairs(connection, col(CallTopic.topic_code), col(CallTopic.call_id), bits,
                      first_id, last_id)


def outcome_pairs(connection: sa.Connection, bits: dict[str, int], first_id: int,
                  last_id: int) -> Iterator[str]:
    """The (call, outcome bit) pairs; a code ``bits`` lacks is bit ``BITS``."""
    return code_pairs(connection, col(CallOutcome.outcome), col(CallOutcome.call_id), bits,
                      first_id, last_id)


_IDS_A_STATEMENT = 250_000  # the ids a statement of pairs covers: its text stays a few MB


def code_pairs(connection: sa.Connection, code: Mapped[str], call_id: Mapped[int],
               bits: dict[str, int], first_id: int, last_id: int,
               ids_a_statement: int = _IDS_A_STATEMENT) -> Iterator[str]:
    """A link table's rows (a call's topic, its outcome) as texts ``call,bit,call,bit,…``,
    for the calls of ids ``first_id`` to ``last_id``, a range of ids a statement. The table is
    read along its primary key (which starts with the call), not looked up call by call: a
    lookup per call costs several times the scan. Calls outside the extract's period that
    fall in the range are read too, and dropped by :func:`call_numbers.bits_by_call`."""
    bit = _code_tree(binary_text(code), sorted(bits), bits, 1 << BITS)
    cells = sa.cast(call_id, sa.String) + "," + sa.cast(bit, sa.String)
    for first in range(first_id, last_id + 1, ids_a_statement):
        last = min(last_id, first + ids_a_statement - 1)
        yield connection.execute(sa.select(sa.func.aggregate_strings(cells, ","))
                                 .where(call_id.between(first, last))).scalar() or ""


def outcome_codes(connection: sa.Connection, period: Period) -> list[str]:
    """The outcome codes of the period's calls."""
    return sorted(connection.execute(
        sa.select(col(CallOutcome.outcome)).distinct()
        .where(col(CallOutcome.call_id).in_(sa.select(col(Call.id)).where(*period)))).scalars())


_AFTER = "\x1e"  # the record separator: between one call's contact and the next


class has_digit(FunctionElement[bool]):
    """Whether a text holds a digit (a phone number that names someone), on every engine."""

    type = sa.Boolean()
    inherit_cache = True


@compiles(has_digit)
def _has_digit(element: has_digit, compiler: SQLCompiler, **kw: object) -> str:
    (text,) = element.clauses
    return f"({compiler.process(text, **kw)} ~ '[0-9]')"


@compiles(has_digit, "sqlite")
def _has_digit_sqlite(element: has_digit, compiler: SQLCompiler, **kw: object) -> str:
    (text,) = element.clauses
    return f"({compiler.process(text, **kw)} GLOB '*[0-9]*')"


def contact() -> sa.ColumnElement[str]:
    """What tells a call's caller: ``p`` and the phone as stored when it holds a digit, else
    ``e`` and the email as stored, else nothing (as
    :func:`advice_desk.reports.extract.caller_key` decides). Callers' numbers repeat, so the
    distinct texts are about as many as the callers."""
    phone, email = col(Call.caller_phone), col(Call.caller_email)
    return sa.case((has_digit(phone), "p" + phone), (email.is_not(None), "e" + email), else_="")


def contact_pair(text: str) -> tuple[str | None, str | None]:
    """The phone or email of :func:`contact`'s text (``None`` for the other)."""
    return (text[1:] or None, None) if text.startswith("p") else (None, text[1:] or None)


MonthValues = Callable[[int], Sequence[sa.ColumnElement[int]]]


def numbers(connection: sa.Connection, period: Period, months: Sequence[Period],
            values: MonthValues, contacts: bool = False) -> Iterator[tuple[str, list[str]]]:
    """Per month of the period (``months[j]``), its calls' ids and ``values(j)`` as one text
    of numbers (``id,value,…,id,value,…``), and with ``contacts`` their :func:`contact`
    texts in the same order (two aggregates of one statement see the rows in one order): one
    statement a month, made by the database. A text a month costs a fraction of a row a
    call: no row objects are made."""
    for j, month in enumerate(months):
        cells: sa.ColumnElement[str] = sa.cast(col(Call.id), sa.String)
        for value in values(j):
            cells = cells + "," + sa.cast(value, sa.String)
        made = [sa.func.aggregate_strings(cells, ",")]
        if contacts:
            made.append(sa.func.aggregate_strings(contact(), _AFTER))
        row = connection.execute(sa.select(*made).where(*period, *month)).one()
        texts = row[1] if contacts else None
        yield row[0] or "", texts.split(_AFTER) if texts else []


def month_spans(date_from: date, date_to: date) -> list[Period]:
    """The period month by month, as conditions on the calls' local date."""
    spans: list[Period] = []
    first = date_from
    while first <= date_to:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        last = min(date_to, following - timedelta(days=1))
        spans.append((col(Call.local_date).between(first, last),))
        first = following
    return spans


def snapshot_options(dialect: str) -> dict[str, str]:
    """The options of the connection for the extract's reads: on PostgreSQL a repeatable-read
    transaction (one snapshot for every statement); SQLite's transaction sees one already."""
    return {"isolation_level": "REPEATABLE READ"} if dialect == "postgresql" else {}
