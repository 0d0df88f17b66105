"""Importing calls from a spreadsheet (``advice-desk import``, PRODUCT.md §10): all rows or none.

A line that kept its log in a spreadsheet brings it over once, and a half-imported file would
be worse than none: it could not be safely imported again. So every row is read and checked
first, with the same rules as the intake form (:func:`advice_desk.calls.record.normalise`
and :func:`~advice_desk.calls.record.validate`); every problem is reported as
``row N, column C: reason``, N being the row number the spreadsheet shows (the header is
row 1); and only a file without problems is saved, in one transaction.

Format: UTF-8 CSV (a byte-order mark, as Excel writes, is fine) with a header row naming the
columns below in any order; only ``REQUIRED_COLUMNS`` must be present. Codes and labels match
whatever their case. Lists (``topics``, ``outcomes``, ``children_age_bands``) are separated by
``;``; the first topic is the primary one. A referral is written ``referred:TARGET``, TARGET
being a referral code or label (``referred:virtual-school``, ``Referred: Virtual School``);
several referrals are several items. ``started_at`` is UK local time ``YYYY-MM-DD HH:MM`` or
ISO 8601 with an offset (``2026-03-02T10:15+00:00``); a UK time that did not happen (the hour
lost when the clocks go forward) or happened twice (when they go back) is refused.

Strict: a quote that is never closed, text after a closing quote, bytes that are not UTF-8,
control characters (a line break or tab only in ``notes``), a cell longer than
:data:`~advice_desk.calls.record.MAX_TEXT` characters and dates before 2000 are each an error
naming the row (and the column, where there is one).

A good citizen of a shared store: the file is read once, streaming, and checked without
holding the write lock; each checked row is kept as a compact tuple (instants as UTC
microseconds, days as ordinals), a thousand rows marshalled into one bytes object, and what
they add to the figures is counted and made into the rollup's rows, packed too, so the
import's memory grows by less than twice the file's size. Only then does one short
transaction write them all in bulk (:mod:`advice_desk.store.bulk`, as the demo does), after
checking that nothing the rows rely on (active topics, opening hours, the worker) changed
meanwhile. Workers go on saving calls while a big file is being checked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from advice_desk.calls.import_cells import Vocabulary
from advice_desk.calls.import_check import Checked, check_file
from advice_desk.calls.import_rows import (
    CompactRow,
    as_chunk,
    day_of,
    pack_rows,
    pack_sqlite,
    packed,
    unpack,
)
from advice_desk.calls.import_source import CsvSource, ImportRejected
from advice_desk.calls.topics import topics_in_order
from advice_desk.clock import Clock
from advice_desk.figures import rollup
from advice_desk.people import audit
from advice_desk.people.accounts import find_user, user_named
from advice_desk.people.permissions import Actor, Role, command_line_actor
from advice_desk.reference.hours import HoursPolicy
from advice_desk.settings import hours_policy_in
from advice_desk.store import bulk, search_index
from advice_desk.store.bulk import CellValue
from advice_desk.store.engine import Store
from advice_desk.store.models import Topic, User

DEFAULT_WORKER = "imported"
AUDIT_ACTION = "calls-imported"
# SQLite's page cache while the rows are written: a quarter of the file's size, within these
# bounds, so the import's memory stays within twice the file's size (measured on 100,000 rows:
# a bigger cache was no quicker, the default 2 MiB a fifth slower).
WRITE_CACHE_KIB = (2 * 1024, 16 * 1024)


class ImportWatch:
    """Told how an import goes; the default hears nothing. The benchmark times the write with
    it, and a test saves a call from another connection while the file is being checked."""

    def checking(self, rows: int) -> None:
        """``rows`` rows are checked so far; called every
        :data:`~advice_desk.calls.import_check.CHUNK_ROWS` rows."""

    def writing(self, calls: int) -> None:
        """Every row is good; the write transaction is about to begin."""

    def written(self, calls: int, seconds: float) -> None:
        """The write transaction committed after ``seconds`` (from BEGIN to COMMIT)."""


def import_calls(store: Store, source: CsvSource | str, clock: Clock,
                 worker: str = DEFAULT_WORKER, *, actor: Actor | None = None,
                 watch: ImportWatch | None = None) -> int:
    """Import every call of a CSV file (or text) for ``worker``, or none; returns how many.

    Raises :class:`ImportRejected`. The default worker is created if missing; any other must
    be a user of the store already, so a typing slip cannot invent a colleague. The import is
    audited as done by ``actor`` (default: the command line).
    """
    if isinstance(source, str):
        source = CsvSource.of_text(source)
    watch = watch or ImportWatch()
    if worker != DEFAULT_WORKER and find_user(store, worker) is None:
        raise _no_user(worker)  # before reading a big file for nothing
    topics = topics_in_order(store, include_retired=False)
    with store.read() as session:
        policy = hours_policy_in(session)
    tops = {code: topic.parent_code or code for code, topic in topics.items()}
    pack = pack_sqlite if store.is_sqlite else pack_rows
    change = rollup.Change()

    def pack_and_count(rows: list[CompactRow], first_index: int) -> bytes:
        """Each chunk's figures counted as it is packed, with no lock held: the write then
        only adds them to the rollup."""
        change.add(_change_of(rows, tops))
        return pack(rows, first_index)

    checked = check_file(source, Vocabulary.of(topics), policy, clock, watch.checking,
                         pack_and_count)
    counted = Counted(*_packed_figures(change), tops, policy)
    watch.writing(checked.calls)
    started = time.perf_counter()
    with store.raw_write() as connection:
        _write(connection, checked, counted, clock, worker, actor or command_line_actor())
    watch.written(checked.calls, time.perf_counter() - started)
    return checked.calls


def import_file(store: Store, path: Path, clock: Clock, worker: str = DEFAULT_WORKER, *,
                actor: Actor | None = None, watch: ImportWatch | None = None) -> int:
    """:func:`import_calls` of the file at ``path``."""
    source = CsvSource.of_file(path)
    try:
        return import_calls(store, source, clock, worker, actor=actor, watch=watch)
    finally:
        source.close()


def _no_user(username: str) -> ImportRejected:
    return ImportRejected(f"there is no user {username!r} to import the calls for")


# --- writing: one short transaction ----------------------------------------------------------
@dataclass(frozen=True)
class Counted:
    """What the checked calls add to the figures, as the rollup's rows made with no lock held
    (:func:`_packed_figures`), and what that counting relied on: each topic's top-level topic,
    the opening hours (each call's in-hours flag)."""

    counts: list[bytes]
    durations: list[bytes]
    tops: dict[str, str]
    policy: HoursPolicy


_WORKER_TO_COME = 0  # the importing worker's id, in the counts made before it is known


def _change_of(rows: list[CompactRow], tops: dict[str, str]) -> rollup.Change:
    chunk = as_chunk(rows)
    chunk.calls["worker_id"] = [_WORKER_TO_COME] * len(rows)
    return rollup.change_of_chunk(chunk, tops)


def _packed_figures(change: rollup.Change) -> tuple[list[bytes], list[bytes]]:
    """The rows of the rollup the change makes (:func:`rollup.span_rows`), counts and
    durations, in key order: sorting and spreading them took a tenth of the write transaction.
    The change is emptied once they are made, so the import's largest table is gone before
    the write begins."""
    counts = _packed_rows(rollup.span_rows(change.counts))
    durations = _packed_rows(rollup.span_rows(change.durations))
    change.counts.clear()
    change.durations.clear()
    return counts, durations


def _packed_rows(rows: Iterator[tuple[object, ...]]) -> list[bytes]:
    """Rows :data:`rollup.UPSERTED` to a blob, days as ordinals (which marshal keeps)."""
    blobs = []
    while part := list(islice(rows, rollup.UPSERTED)):
        blobs.append(packed([(row[0], cast(date, row[1]).toordinal(), *row[2:])
                             for row in part]))
    return blobs


def _write_rollup(connection: sa.Connection, counted: Counted, worker_id: int) -> None:
    """The rollup's rows made before the write, with days as dates and the importing worker
    by its id: every worker row is the importing worker's."""
    worker = str(worker_id)
    for blob in _taken(counted.counts):
        rows = cast(list[tuple[str, int, str, str, int]], unpack(blob))
        rollup.upsert(connection, False, [
            (span, day_of(day), measure, worker if measure == rollup.WORKER else category, n)
            for span, day, measure, category, n in rows])
    for blob in _taken(counted.durations):
        lengths = cast(list[tuple[str, int, int, int]], unpack(blob))
        rollup.upsert(connection, True, [(span, day_of(day), seconds, n)
                                         for span, day, seconds, n in lengths])


def _taken(blobs: list[bytes]) -> Iterator[bytes]:
    """Each blob in turn, let go of once the next is asked for: as the write goes on, their
    memory goes to SQLite's page cache rather than adding to it."""
    blobs.reverse()
    while blobs:
        yield blobs.pop()


def _write(connection: sa.Connection, checked: Checked, counted: Counted, clock: Clock,
           username: str, actor: Actor) -> None:
    """Insert the checked calls in bulk, in the open write transaction, with the worker made
    if need be and one audit event; the search index and the rollup are brought up to date
    in it too."""
    if not checked.calls:
        return
    with Session(bind=connection) as session:
        _require_unchanged(session, checked.topics, counted)
        worker_id = _worker_in(session, username, clock)
        audit.record(session, clock, actor, AUDIT_ACTION, f"user {username}",
                     {"calls": checked.calls})
        session.flush()
    now = clock.now()
    deferred: dict[str, CellValue] = {"worker_id": worker_id, "created_at": now,
                                      "updated_at": now}
    with search_index.bulk_insert(connection):
        if connection.dialect.name == "sqlite":
            least, most = WRITE_CACHE_KIB
            with _page_cache(connection, min(max(checked.size // 4096, least), most)):
                bulk.write_deferred(connection, (
                    cast(list[bulk.DeferredStatement], unpack(blob))
                    for blob in _taken(checked.chunks)), deferred)
        else:
            writer = bulk.server_writer(connection)
            for blob in _taken(checked.chunks):
                chunk = as_chunk(cast(list[CompactRow], unpack(blob)))
                chunk.calls.update({name: [value] * len(chunk)
                                    for name, value in deferred.items()})
                writer(writer.prepare(chunk, None))
    _write_rollup(connection, counted, worker_id)


@contextmanager
def _page_cache(connection: sa.Connection, kib: int) -> Iterator[None]:
    """A bigger SQLite page cache for the while: the rows come in file order, not in the order
    of the call indexes (start, worker and start, day), and with the default 2 MiB their pages
    are written out and read back again and again; a few MiB more cut the write's time by a
    quarter."""
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{kib}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before or -2000)}")


def _require_unchanged(session: Session, used: set[str], counted: Counted) -> None:
    """What the checked rows rely on is still so: their topics in use, under the same
    top-level topics, the same opening hours (which set each call's in-hours flag)."""
    active = {code: parent or code for code, parent in session.exec(
        select(Topic.code, Topic.parent_code).where(col(Topic.retired).is_(False)))}
    gone = sorted(used - set(active))
    if gone:
        raise ImportRejected(
            f"{'topics' if len(gone) > 1 else 'topic'} {', '.join(gone)} "
            "stopped being in use while the file was being checked; nothing was imported, "
            "try again")
    if any(active[code] != counted.tops.get(code, code) for code in used):
        raise ImportRejected("the topics were rearranged while the file was being checked; "
                             "nothing was imported, try again")
    if hours_policy_in(session) != counted.policy:
        raise ImportRejected("the opening hours changed while the file was being checked; "
                             "nothing was imported, try again")


def _worker_in(session: Session, username: str, clock: Clock) -> int:
    user = user_named(session, username)
    if user is None:
        if username != DEFAULT_WORKER:
            raise _no_user(username)
        user = User(username=username, display_name="Imported calls", role=Role.WORKER,
                    created_at=clock.now())
        session.add(user)
        session.flush()
    assert user.id is not None
    return user.id
