"""The network goes away: a signed-in session keeps its calls and its draft on this PC, and the
kept calls are sent, in order and each once, when the database server answers again.

The server that has gone away is a real one that is not there: a desk of the same person on an
engine whose socket folder has no server, so every operation fails as a real outage does
(psycopg's OperationalError on connect). The store that answers again is the test's own
(SQLite, or a database of the session's PostgreSQL server).
"""

from __future__ import annotations

import stat
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from advice_desk.calls.history import CallQuery
from advice_desk.calls.local_copies import offline_folder
from advice_desk.calls.offline import Offline
from advice_desk.calls.record import CALL_KEY, CallDetails, SavedDraft, details_as_json
from advice_desk.calls.topics import Topics
from advice_desk.clock import FixedClock
from advice_desk.desk import Desk
from advice_desk.paths import Location
from advice_desk.people.permissions import Actor
from advice_desk.store.engine import Store
from advice_desk.store.failures import unreachable
from advice_desk.validation import ValidationError
from tests.factories import a_call

pytest.importorskip("psycopg")


@pytest.fixture
def desk(store: Store, clock: FixedClock, amy: Actor) -> Desk:
    return Desk(store, clock, amy)


@pytest.fixture
def gone(store: Store, clock: FixedClock, amy: Actor, tmp_path: Path) -> Desk:
    """amy's desk while the server cannot be reached: no server listens on its socket."""
    engine = sa.create_engine(f"postgresql+psycopg://amy@/advice_desk?host={tmp_path / 'gone'}",
                              hide_parameters=True)
    yield Desk(Store(engine, store.location), clock, amy)
    engine.dispose()


@pytest.fixture
def offline(location: Location, amy: Actor, clock: FixedClock) -> Offline:
    assert amy.id is not None
    return Offline(location, amy.id, clock)


class LostReply:
    """amy's desk on a network that drops the answer: the call is stored, then the
    connection is lost before the reply comes back (as a psycopg OperationalError)."""

    def __init__(self, desk: Desk) -> None:
        self._desk = desk
        self.store, self.calls, self.drafts = desk.store, desk.calls, desk.drafts

    def log_call(self, details: CallDetails, key: str | None = None) -> int:
        import psycopg

        self._desk.log_call(details, key)
        raise psycopg.OperationalError("the connection is lost")

    def update_call(self, call_id: int, details: CallDetails, key: str | None = None
                    ) -> list[str]:
        return self._desk.update_call(call_id, details, key)


def stored_keys(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.text(
            "SELECT idempotency_key FROM call ORDER BY id")).scalars())


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600)


def test_a_server_gone_is_told_apart_from_other_failures(gone: Desk, desk: Desk,
                                                        clock: FixedClock) -> None:
    with pytest.raises(Exception) as gone_error:
        gone.drafts.load()
    assert unreachable(gone_error.value)
    with pytest.raises(Exception) as refused:
        desk.calls.get(999_999)
    assert not unreachable(refused.value)


def test_a_call_saved_while_the_server_is_gone_is_kept_then_sent_once(
        offline: Offline, gone: Desk, desk: Desk, store: Store, location: Location,
        amy: Actor, clock: FixedClock) -> None:
    key = str(uuid.uuid4())
    assert offline.log_call(gone, a_call(clock, caller_name="Siân Ellis"), key) is None
    assert offline.state().waiting == 1 and not offline.state().reachable
    assert stored_keys(store) == []
    assert amy.id is not None
    folder = offline_folder(location, amy.id)
    kept = list((folder / "outbox").iterdir())
    assert len(kept) == 1 and private(kept[0])
    assert all(private(p) for p in (folder / "outbox", folder, folder.parent, folder.parent.parent))
    assert "Siân Ellis" not in str(kept[0])  # the file is named by number and key alone

    assert not offline.reconnect(gone).reachable  # the probe, while it is still gone
    assert offline.state().waiting == 1

    state = offline.reconnect(desk)
    assert state.reachable and state.waiting == 0 and state.refused == ()
    assert stored_keys(store) == [key]
    assert list((folder / "outbox").iterdir()) == []
    offline.reconnect(desk)
    assert stored_keys(store) == [key]  # sent once


def test_a_reply_lost_after_the_call_was_stored_then_a_retry_stores_one_call(
        offline: Offline, desk: Desk, store: Store, clock: FixedClock) -> None:
    key = str(uuid.uuid4())
    assert offline.log_call(LostReply(desk), a_call(clock), key) is None  # kept: no answer
    assert stored_keys(store) == [key]  # yet it was stored
    assert offline.state().waiting == 1

    offline.reconnect(desk)  # the retry finds the call stored with this key
    assert stored_keys(store) == [key]
    assert offline.state().waiting == 0
    assert len(desk.calls.list(CallQuery())) == 1


def test_kept_calls_are_sent_in_the_order_saved_and_a_save_waits_behind_them(
        offline: Offline, gone: Desk, desk: Desk, store: Store, location: Location,
        amy: Actor, clock: FixedClock) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    offline.log_call(gone, a_call(clock), first)
    clock.advance(timedelta(minutes=1))
    assert offline.log_non_data(gone, "silent") is None
    clock.advance(timedelta(minutes=1))
    offline.log_call(gone, a_call(clock), second)
    assert offline.state().waiting == 3
    third = str(uuid.uuid4())
    assert offline.log_call(desk, a_call(clock), third) is None  # not asked: found gone
    assert stored_keys(store) == []
    # The next sign-in's keeper finds them waiting: the calls kept before go first.
    assert amy.id is not None
    call_id = Offline(location, amy.id, clock).log_call(desk, a_call(clock), third)
    keys = stored_keys(store)
    assert keys[0] == first and keys[2:] == [second, third] and len(keys) == 4  # no twin
    assert call_id == desk.log_call(a_call(clock), third)  # the id of the call just saved
    assert offline.state().waiting == 0


def test_an_edit_kept_while_the_server_is_gone_is_applied_when_it_is_back(
        offline: Offline, gone: Desk, desk: Desk, clock: FixedClock) -> None:
    call_id = desk.log_call(a_call(clock), str(uuid.uuid4()))
    edited = a_call(clock, notes="Rang back about the allowance.")
    assert offline.update_call(gone, call_id, edited, str(uuid.uuid4())) is None
    offline.reconnect(desk)
    assert desk.calls.get(call_id).details.notes == "Rang back about the allowance."
    assert offline.state().waiting == 0


def test_a_call_missing_a_field_is_refused_at_once_and_not_kept(
        offline: Offline, gone: Desk, clock: FixedClock) -> None:
    offline.topics = frozenset({"financial.allowances"})
    with pytest.raises(ValidationError) as refused:
        offline.log_call(gone, a_call(clock, topics=()), str(uuid.uuid4()))
    assert [e.field for e in refused.value.errors] == ["topics"]
    assert offline.state().waiting == 0


def test_a_call_the_server_refuses_stays_kept_with_the_reason_and_the_next_is_sent(
        offline: Offline, gone: Desk, desk: Desk, store: Store, sam: Actor,
        clock: FixedClock) -> None:
    refused, fine = str(uuid.uuid4()), str(uuid.uuid4())
    offline.topics = frozenset({"financial.allowances", "practical"})
    offline.log_call(gone, a_call(clock, topics=("practical",)), refused, {"form": "as typed"})
    offline.log_call(gone, a_call(clock), fine)
    Topics(store, sam, clock).retire("practical")  # by a supervisor at another seat
    state = offline.reconnect(desk)
    assert stored_keys(store) == [fine]
    assert state.waiting == 0 and len(state.refused) == 1 and "topic" in state.refused[0]
    assert offline.outbox.keeps(refused)
    offline.reconnect(desk)  # a refused call is not sent again by itself
    assert stored_keys(store) == [fine]

    back = offline.take_back(desk)  # to the form, to be put right: the store's draft now
    assert back is not None and back[0].payload == {"form": "as typed"} and "topic" in back[1]
    assert desk.drafts.load() == SavedDraft({"form": "as typed"}, clock.now())
    assert offline.state().refused == () and offline.take_back(desk) is None


def test_a_draft_saved_while_the_server_is_gone_comes_back_at_the_next_start(
        offline: Offline, gone: Desk, desk: Desk, location: Location, amy: Actor,
        clock: FixedClock) -> None:
    desk.drafts.save({"version": 1, "notes": "before the network went"})
    clock.advance(timedelta(minutes=2))
    offline.save_draft(gone, {"version": 1, "notes": "typed while it was gone"})
    assert amy.id is not None
    draft_file = offline_folder(location, amy.id) / "draft.json"
    assert private(draft_file)

    assert amy.id is not None
    after_restart = Offline(location, amy.id, clock)
    recovered = after_restart.recover_draft(desk)
    assert recovered is not None and recovered.payload["notes"] == "typed while it was gone"
    stored = desk.drafts.load()
    assert stored is not None and stored.payload["notes"] == "typed while it was gone"
    assert not draft_file.exists()  # the store has it now


def test_an_older_local_draft_gives_way_to_the_stores(offline: Offline, gone: Desk,
                                                      desk: Desk, clock: FixedClock) -> None:
    offline.save_draft(gone, {"version": 1, "notes": "old"})
    clock.advance(timedelta(minutes=1))
    desk.drafts.save({"version": 1, "notes": "new, from the store"})
    recovered = offline.recover_draft(desk)
    assert recovered is not None and recovered.payload["notes"] == "new, from the store"


def test_a_draft_discarded_while_the_server_is_gone_does_not_come_back(
        offline: Offline, gone: Desk, desk: Desk, clock: FixedClock) -> None:
    desk.drafts.save({"version": 1, "notes": "a call the worker threw away"})
    clock.advance(timedelta(minutes=1))
    offline.discard_draft(gone)
    assert offline.recover_draft(desk) is None
    assert desk.drafts.load() is None


def test_the_draft_of_a_kept_call_does_not_come_back_as_a_draft(
        offline: Offline, gone: Desk, desk: Desk, store: Store, clock: FixedClock) -> None:
    key = str(uuid.uuid4())
    details = a_call(clock)
    desk.drafts.save({"version": 1, CALL_KEY: key, "details": details_as_json(details)})
    offline.save_draft(gone, {"version": 1, CALL_KEY: key, "details": details_as_json(details)})
    offline.log_call(gone, details, key)
    assert offline.drafts.load() is None  # the kept call holds it
    assert offline.recover_draft(desk) is None  # sent at sign-in; the store's draft ended
    assert stored_keys(store) == [key] and desk.drafts.load() is None


def test_each_person_and_store_keeps_their_own(location: Location, amy: Actor, sam: Actor,
                                               clock: FixedClock, tmp_path: Path) -> None:
    assert amy.id is not None and sam.id is not None
    other_store = Location(location.data_dir, "postgresql+psycopg://amy@server/other")
    folders = {offline_folder(location, amy.id), offline_folder(location, sam.id),
               offline_folder(other_store, amy.id)}
    assert len(folders) == 3
    assert all(location.data_dir in f.parents for f in folders)
