"""Other seats' commits, seen by a listener of this desk (advice_desk.store.changes), on both
engines: a save through a second store (its own connections, as another PC or a CLI import in
another process would have) arrives within a second or two; nothing arrives without one."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from advice_desk.calls.review import Review
from advice_desk.calls.service import Calls
from advice_desk.clock import FixedClock
from advice_desk.paths import Location
from advice_desk.people.permissions import Actor
from advice_desk.store.changes import Change, ChangeListener
from advice_desk.store.engine import Store
from tests.factories import a_call, opened_store

ARRIVES_WITHIN_S = 3.0


@pytest.fixture
def listener(store: Store) -> Iterator[ChangeListener]:
    listening = ChangeListener(store, poll_s=0.05)
    listening.open()
    yield listening
    listening.close()


def _next_change(listener: ChangeListener) -> tuple[Change | None, float]:
    started = time.monotonic()
    change = listener.wait(ARRIVES_WITHIN_S)
    return change, time.monotonic() - started


def test_a_save_on_another_connection_arrives(location: Location, clock: FixedClock,
                                             amy: Actor, listener: ChangeListener) -> None:
    assert listener.wait(0.2) is None  # nothing written since the listener began
    with opened_store(location, clock) as other_seat:
        Calls(other_seat, amy, clock).log(a_call(clock))
    change, waited = _next_change(listener)
    assert change is not None, "the other seat's save never arrived"
    assert change.touches("call") and waited < ARRIVES_WITHIN_S
    if not location.sqlite_file:
        assert {"call", "call_topic", "call_outcome"} <= change.tables
    assert listener.wait(0.2) is None  # one save, one change: the rest was folded into it


def test_a_review_and_a_follow_up_ticked_off_arrive(store: Store, clock: FixedClock,
                                                    sam: Actor, amy: Actor,
                                                    listener: ChangeListener) -> None:
    call_id = Calls(store, amy, clock).log(a_call(clock, follow_up_on=clock.now().date()))
    assert listener.wait(ARRIVES_WITHIN_S) is not None
    Review(store, sam, clock).call(call_id, "fine")
    assert (change := listener.wait(ARRIVES_WITHIN_S)) is not None and change.touches("call")
    Review(store, amy, clock).complete_follow_up(call_id)
    assert (change := listener.wait(ARRIVES_WITHIN_S)) is not None and change.touches("call")


def test_a_burst_of_saves_in_one_transaction_is_one_change(store: Store, clock: FixedClock,
                                                          amy: Actor,
                                                          listener: ChangeListener) -> None:
    from advice_desk.calls.call_rows import log_calls

    log_calls(store, [a_call(clock) for _ in range(200)], amy.id or 0, clock)
    assert listener.wait(ARRIVES_WITHIN_S) is not None
    assert listener.wait(0.2) is None


@pytest.mark.postgres
def test_signed_in_seats_are_counted_on_the_server(postgres_url: str, tmp_path,
                                                  clock: FixedClock) -> None:
    from advice_desk.paths import resolve_location

    location = resolve_location(tmp_path / "data", postgres_url)
    with opened_store(location, clock) as first, opened_store(location, clock) as second:
        seats = [ChangeListener(first), ChangeListener(second)]
        try:
            assert seats[0].seats() == 0  # connected, nobody signed in
            for seat in seats:
                seat.sign_in()
            seats[1].wait(0.01)  # the name is set at the listener's next turn
            assert seats[0].seats() == 2
            seats[1].sign_out()
            seats[1].wait(0.01)
            assert seats[0].seats() == 1
        finally:
            for seat in seats:
                seat.close()
        assert ChangeListener(first).seats() == 0  # a closed listener's seat is gone


def test_sqlite_counts_no_seats(tmp_path, clock: FixedClock) -> None:
    with opened_store(tmp_path / "data", clock) as store:
        listener = ChangeListener(store)
        try:
            assert listener.seats() is None
        finally:
            listener.close()
