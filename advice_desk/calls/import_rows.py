"""A checked row as compact plain values, and chunks of them packed small until the write."""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TypeVar, cast

from advice_desk.calls.record import CallDetails
from advice_desk.clock import uk_day_and_minute
from advice_desk.reference.hours import HoursPolicy
from advice_desk.store import bulk
from advice_desk.store.bulk import CellValue, Chunk

T = TypeVar("T")
CompactRow = tuple[object, ...]
Pack = Callable[[list[CompactRow], int], bytes]  # checked rows, index of the first: kept
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def compact(d: CallDetails, policy: HoursPolicy) -> CompactRow:
    """A checked call as plain values, in :data:`_COMPACT_COLUMNS` order, then its topics and
    its (outcome, referred_to) pairs: what :func:`advice_desk.calls.call_rows.log_calls` would
    store, in a form ``marshal`` keeps small."""
    local_date, local_minute = uk_day_and_minute(d.started_at)
    outcomes = [(o, "") for o in d.outcomes if o != "referred"]
    if "referred" in d.outcomes:
        outcomes += [("referred", r) for r in d.referred_to]
    return (
        _micros(d.started_at), None if d.ended_at is None else _micros(d.ended_at),
        None if d.ended_at is None else int((d.ended_at - d.started_at).total_seconds()),
        policy.is_open(d.started_at), local_date.toordinal(), local_minute,
        d.channel, d.direction, d.caller_type, d.arrangement, d.local_authority,
        d.children_count, ";".join(d.children_age_bands) or None,
        None if d.follow_up_on is None else d.follow_up_on.toordinal(), d.follow_up_note,
        d.safeguarding, d.first_time_caller, d.how_heard, d.consent_to_store_details,
        d.caller_name, d.caller_phone, d.caller_email, d.caller_postcode, d.notes,
        d.topics, tuple(outcomes))


_INSTANTS = ("started_at", "ended_at")
_COMPACT_COLUMNS = (
    "started_at", "ended_at", "duration_s", "in_hours", "local_date", "local_minute",
    "channel", "direction", "caller_type", "arrangement", "local_authority", "children_count",
    "children_age_bands", "follow_up_on", "follow_up_note", "safeguarding",
    "first_time_caller", "how_heard", "consent_to_store_details", "caller_name",
    "caller_phone", "caller_email", "caller_postcode", "notes")
_DAYS = ("local_date", "follow_up_on")


# --- packing: no lock held --------------------------------------------------------------
# On SQLite the rows become the very INSERTs that will run (:func:`bulk.deferred_statements`),
# so the write transaction only runs them; elsewhere they stay compact rows until the write.

DEFERRED = ("worker_id", "created_at", "updated_at")  # known only in the write transaction


def pack_sqlite(rows: list[CompactRow], first_index: int) -> bytes:
    return packed(bulk.deferred_statements(as_chunk(rows), first_index, DEFERRED))


def pack_rows(rows: list[CompactRow], first_index: int) -> bytes:
    return packed(rows)


def packed(values: list[T]) -> bytes:
    """Plain values (numbers, text, tuples and lists of them) made small until needed."""
    return zlib.compress(marshal.dumps(values), 1)


def unpack(blob: bytes) -> object:
    return marshal.loads(zlib.decompress(blob))


@lru_cache(maxsize=1 << 14)
def day_of(ordinal: int) -> date:
    """One date object a day, however many rows fall on it: an import's figures are counted
    by day, and a key a day and category would otherwise each hold a date of its own."""
    return date.fromordinal(ordinal)


def as_chunk(rows: list[CompactRow]) -> Chunk:
    """Compact rows (:func:`compact`) as a chunk the bulk writers insert, but for the
    :data:`DEFERRED` columns."""
    n = len(rows)
    values = list(zip(*rows, strict=True))
    columns: dict[str, list[CellValue]] = {
        name: cast(list[CellValue], list(column))
        for name, column in zip(_COMPACT_COLUMNS, values, strict=False)}
    for name in _INSTANTS:
        columns[name] = [None if v is None else _EPOCH + cast(int, v) * _MICROSECOND
                         for v in columns[name]]
    for name in _DAYS:
        columns[name] = [None if v is None else day_of(cast(int, v)) for v in columns[name]]
    columns["kind"] = ["data"] * n
    chunk = Chunk(columns)
    chunk.topics.extend((i, code, position == 0)
                        for i, codes in enumerate(cast(tuple[tuple[str, ...], ...], values[-2]))
                        for position, code in enumerate(codes))
    chunk.outcomes.extend((i, outcome, referred_to)
                          for i, pairs in enumerate(
                              cast(tuple[tuple[tuple[str, str], ...], ...], values[-1]))
                          for outcome, referred_to in pairs)
    return chunk
