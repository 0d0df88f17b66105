"""Synthetic calls for trying the app and for measuring it (``advice-desk demo``).

The calls look like a year of a kinship-care advice line: mostly grandparents asking about money,
school and the law, a morning peak, a few out-of-hours callbacks and non-data calls, personal
details only where the caller agreed, and only fake ones (Ofcom's drama phone numbers, emails at
example.org). The same seed and the same clock give the same rows, so a benchmark, a screenshot
or a bug report can be repeated.

A million calls must be written in seconds (PRODUCT.md §11), so calls are not saved one by one
through :func:`advice_desk.calls.call_rows.log_calls`: they are generated column by column, in
chunks of whole days, and inserted in bulk in one transaction. Each chunk has its own random
stream, so a second process can make the next chunks while this one writes, and the rows are
the same either way. The calls keep every rule of :func:`advice_desk.calls.record.validate` all
the same (the tests check a sample), and ``in_hours`` comes from the store's opening-hours
policy, as when a call is saved. Weights are keyed by code; a code this module does not know
(another helpline's lists) gets a small default weight.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from functools import partial

import sqlalchemy as sa

from advice_desk.calls.topics import topics_in_order
from advice_desk.clock import Clock, to_utc
from advice_desk.demo import DemoError
from advice_desk.demo.generator import authority_weights, topic_weights
from advice_desk.demo.producer import made
from advice_desk.demo.shares import DEMO_WORKERS
from advice_desk.demo.timing import Plan, calls_per_day, open_days
from advice_desk.figures import rollup
from advice_desk.figures.rollup import Change
from advice_desk.people.accounts import get_or_create_user
from advice_desk.settings import hours_policy_in
from advice_desk.store import search_index
from advice_desk.store.bulk import BulkWriter, Chunk, Prepare, Prepared, bulk_writer
from advice_desk.store.engine import Store

CHUNK_CALLS = 50_000  # at least, in whole days: bounds the memory a run takes


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
        tops = rollup.all_top_topics(session.connection())
    calendar = open_days(now, days, policy)
    plan = Plan(seed=seed, now=now, days=days, hours=policy.to_dict(),
                 day_counts=calls_per_day(rng, calendar, count, CHUNK_CALLS),
                chunk_calls=CHUNK_CALLS,
                 topic_weights=topic_weights(topics_in_order(store, include_retired=False)),
                 worker_ids=_demo_workers(store, clock),
                 authority_weights=authority_weights())

    counted = Change()

    def make(prepare: Prepare[Prepared], first_id: int | None) -> Iterator[Prepared]:
        # The process that makes a chunk also counts what it adds to the figures.
        for prepared, change in made(plan, partial(counting, prepare, tops), first_id,
                                     parallel):
            counted.add(change)
            yield prepared

    with store.raw_write() as connection:
        with search_index.bulk_insert(connection):
            (writer or bulk_writer)(connection).write_all(make)
        rollup.apply(connection, counted)
    return count


def counting(prepare: Prepare[Prepared], tops: dict[str, str], chunk: Chunk,
             first_id: int | None) -> tuple[Prepared, Change]:
    """A chunk made ready for the writer, with what it adds to the figures."""
    return prepare(chunk, first_id), rollup.change_of_chunk(chunk, tops)



def _demo_workers(store: Store, clock: Clock) -> list[int]:
    ids = []
    for username, display_name, _share in DEMO_WORKERS:
        user = get_or_create_user(store, username, clock, display_name=display_name)
        assert user.id is not None
        ids.append(user.id)
    return ids


