"""Drafts of the intake form: saved as the worker types, back after a restart or a crash."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from advice_desk.calls.drafts import Drafts
from advice_desk.calls.record import CALL_KEY, details_as_json, details_from_json
from advice_desk.clock import FixedClock
from advice_desk.desk import Desk
from advice_desk.paths import Location
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.people.permissions import Actor
from advice_desk.store.engine import Store, open_store
from advice_desk.store.models import User
from tests.factories import a_call, uk
from tests.support import ANY_TIME

FORM = {
    "caller_type": "grandparent",
    "topics": ["financial.allowances", "legal.sgo"],
    "children_age_bands": ["0-4", "11-15"],
    "consent_to_store_details": True,
    "caller_name": "Siân Ellis-O'Connor",  # Welsh and Irish names survive the round trip
    "notes": "Line one\nLine two — “quoted”",
    "children_count": 2,
    "follow_up_on": None,
}


def wid(user: User) -> int:
    assert user.id is not None
    return user.id


def draft_rows(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM draft")).scalar_one()


def test_there_is_no_draft_at_first(store: Store, worker: User) -> None:
    assert Drafts(store, actor_of(worker), ANY_TIME).load() is None


def test_a_saved_draft_loads_back(store: Store, worker: User, clock: FixedClock) -> None:
    Drafts(store, actor_of(worker), clock).save(FORM)
    draft = Drafts(store, actor_of(worker), clock).load()
    assert draft is not None
    assert draft.payload == FORM
    assert draft.updated_at == clock.now()


def test_saving_again_overwrites_the_draft(store: Store, worker: User,
                                           clock: FixedClock) -> None:
    Drafts(store, actor_of(worker), clock).save(FORM)
    clock.advance(timedelta(seconds=2))
    later = {**FORM, "notes": "Typed more", "topics": ["education.send"]}
    Drafts(store, actor_of(worker), clock).save(later)
    draft = Drafts(store, actor_of(worker), clock).load()
    assert draft is not None
    assert draft.payload == later
    assert draft.updated_at == clock.now()
    assert draft_rows(store) == 1


def test_discarding_removes_the_draft(store: Store, worker: User, clock: FixedClock) -> None:
    Drafts(store, actor_of(worker), clock).save(FORM)
    Drafts(store, actor_of(worker), clock).discard()
    assert Drafts(store, actor_of(worker), clock).load() is None
    assert draft_rows(store) == 0  # personal details in it do not linger
    Drafts(store, actor_of(worker), clock).discard()  # discarding nothing is fine


def test_each_worker_has_their_own_draft(store: Store, worker: User,
                                         clock: FixedClock) -> None:
    bob = get_or_create_user(store, "bob", clock)
    Drafts(store, actor_of(worker), clock).save(FORM)
    Drafts(store, actor_of(bob), clock).save({"notes": "Bob's call"})
    Drafts(store, actor_of(bob), clock).discard()
    amy_draft = Drafts(store, actor_of(worker), clock).load()
    assert amy_draft is not None and amy_draft.payload == FORM
    assert Drafts(store, actor_of(bob), clock).load() is None


def test_a_draft_goes_with_its_user(store: Store, clock: FixedClock) -> None:
    leaver = get_or_create_user(store, "leaver", clock)
    Drafts(store, actor_of(leaver), clock).save(FORM)
    with store.raw_write() as connection:
        connection.execute(sa.text("DELETE FROM app_user WHERE id = :id"), {"id": wid(leaver)})
    assert draft_rows(store) == 0  # ON DELETE CASCADE: foreign keys are on


def test_a_draft_survives_closing_and_reopening_the_store(
        location: Location, clock: FixedClock) -> None:
    first = open_store(location, clock)
    amy = actor_of(get_or_create_user(first, "amy", clock))
    Drafts(first, amy, clock).save(FORM)
    first.close()

    again = open_store(location, clock)
    try:
        draft = Drafts(again, amy, clock).load()
    finally:
        again.close()
    assert draft is not None
    assert draft.payload == FORM
    assert draft.updated_at == clock.now()


CRASHING_WRITER = textwrap.dedent("""
    import json, os, sys
    from datetime import datetime
    from advice_desk.clock import UK, FixedClock
    from advice_desk.calls.drafts import Drafts
    from advice_desk.paths import resolve_location
    from advice_desk.people.permissions import Actor, Role
    from advice_desk.store.engine import open_store

    clock = FixedClock(datetime(2026, 11, 23, 10, 15, tzinfo=UK))
    store = open_store(resolve_location(sys.argv[1]), clock)
    amy = Actor(int(sys.argv[2]), "amy", "amy", Role.WORKER)
    Drafts(store, amy, clock).save(json.loads(sys.argv[3]))
    os._exit(0)  # like a power cut: no close, no checkpoint, no clean-up
""")


@pytest.mark.sqlite_only("kill -9 of a writer and the SQLite WAL it leaves behind")
def test_a_draft_survives_a_crash(location: Location, clock: FixedClock) -> None:
    store = open_store(location, clock)
    amy = actor_of(get_or_create_user(store, "amy", clock))
    store.close()

    done = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, str(location.data_dir), str(amy.id),
         json.dumps(FORM)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert location.sqlite_file is not None
    assert location.sqlite_file.with_name(location.sqlite_file.name + "-wal").exists()

    again = open_store(location, clock)
    try:
        draft = Drafts(again, amy, clock).load()
    finally:
        again.close()
    assert draft is not None and draft.payload == FORM


def test_a_call_survives_its_json_form() -> None:
    """The draft keeps a call as JSON: every field comes back as it was, through json text."""
    call = a_call(uk("2026-11-23 10:15"), children_count=2, children_age_bands=("0-4", "11-15"),
                  follow_up_on=date(2026, 11, 30), follow_up_note="Ring back",
                  safeguarding=True, consent_to_store_details=True, caller_name="Jo Example",
                  referred_to=("virtual-school",), outcomes=("referred",))
    assert details_from_json(json.loads(json.dumps(details_as_json(call)))) == call
    assert details_from_json({**details_as_json(call), "retired_field": 1}) == call


# --- saving a drafted call: once, and the draft goes with it ---------------------------------

KEY = "0f6c2a9e-8d1b-4c3e-b7a5-91d2e4f60c38"


def calls_stored(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM call")).scalar_one()


def a_form(clock: FixedClock, key: str = KEY) -> dict[str, object]:
    """A draft payload as the intake form writes it: the call, and the form's key."""
    return {CALL_KEY: key, "details": details_as_json(a_call(clock))}


def test_a_recovered_draft_saved_twice_and_by_two_desks_is_one_call(
        store: Store, amy: Actor, clock: FixedClock) -> None:
    first_copy, second_copy = Desk(store, clock, amy), Desk(store, clock, amy)
    first_copy.drafts.save(a_form(clock))
    # Both copies of the app recover the same draft, and both save it, one twice.
    recovered = [desk.drafts.load() for desk in (first_copy, second_copy)]
    assert all(draft is not None and draft.payload == a_form(clock) for draft in recovered)
    details = details_from_json(a_form(clock)["details"])  # type: ignore[arg-type]
    call_id = first_copy.log_call(details, key=KEY)
    assert second_copy.log_call(details, key=KEY) == call_id
    assert first_copy.log_call(details, key=KEY) == call_id  # a retry after a lost reply
    assert calls_stored(store) == 1
    assert draft_rows(store) == 0


def test_saving_a_call_drops_its_draft_and_no_other(store: Store, amy: Actor,
                                                    clock: FixedClock) -> None:
    desk = Desk(store, clock, amy)
    other_key = KEY.replace("0f6c", "1a7d")
    desk.drafts.save(a_form(clock, other_key))  # another copy's form, still being written
    desk.log_call(a_call(clock), key=KEY)
    draft = desk.drafts.load()
    assert draft is not None and draft.payload[CALL_KEY] == other_key
    desk.log_call(a_call(clock), key=other_key)
    assert draft_rows(store) == 0
    desk.drafts.save(FORM)  # a draft from before keys
    desk.log_call(a_call(clock), key=KEY.replace("0f6c", "2b8e"))
    assert draft_rows(store) == 0


DRAFTS_STAY = {
    "sqlite": ["CREATE TRIGGER draft_stays BEFORE DELETE ON draft "
               "BEGIN SELECT RAISE(ABORT, 'the draft cannot go'); END"],
    "postgresql": ["CREATE FUNCTION draft_stays() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'the draft cannot go'; END $$",
                   "CREATE TRIGGER draft_stays BEFORE DELETE ON draft "
                   "FOR EACH ROW EXECUTE FUNCTION draft_stays()"],
}


def test_a_saved_call_never_comes_back_as_a_draft(store: Store, amy: Actor,
                                                  clock: FixedClock, engine: str) -> None:
    """The call and the end of its draft are one transaction: when the draft cannot be
    deleted, the call is not stored either (so the draft, saved again, is the only copy)."""
    desk = Desk(store, clock, amy)
    call_id = desk.log_call(a_call(clock), key=KEY.replace("0f6c", "3c9f"))
    desk.drafts.save(a_form(clock))
    with store.raw_write() as connection:
        for statement in DRAFTS_STAY[engine]:
            connection.exec_driver_sql(statement)
    with pytest.raises(sa.exc.DatabaseError, match="the draft cannot go"):
        desk.log_call(a_call(clock), key=KEY)
    assert calls_stored(store) == 1
    with pytest.raises(sa.exc.DatabaseError, match="the draft cannot go"):
        desk.update_call(call_id, a_call(clock, notes="Edited"), key=KEY)
    assert desk.calls.get(call_id).details.notes is None
    assert draft_rows(store) == 1
