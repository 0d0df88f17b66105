"""Call services: the rules every call follows, consent, editing, retired topics, batches,
non-data calls, and the call history's sorting, filtering and paging.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from advice_desk.calls.call_rows import log_calls
from advice_desk.calls.history import CallQuery, CallSummary
from advice_desk.calls.history_sql import SORTABLE
from advice_desk.calls.record import CallDetails, StoredCall
from advice_desk.calls.service import Calls
from advice_desk.calls.topics import topics_in_order
from advice_desk.clock import UK, FixedClock
from advice_desk.paths import Location
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.people.permissions import Actor, PermissionDenied
from advice_desk.reference import lists as reference
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic, User
from advice_desk.validation import ValidationError
from tests.factories import a_call, a_worker, uk
from tests.support import ANY_TIME, SUPERVISOR


def wid(user: User) -> int:
    assert user.id is not None
    return user.id


def count(store: Store, table: type) -> int:
    with store.read() as session:
        return session.exec(select(func.count()).select_from(table)).one()


def raw(store: Store, sql: str, **params: object) -> list[tuple]:
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql), params)]


def listed(store: Store, query: CallQuery = CallQuery(), **page: int) -> list[CallSummary]:  # noqa: B008
    return Calls(store, SUPERVISOR, ANY_TIME).list(query, **page)


def read_back(store: Store, call_id: int) -> StoredCall:
    return Calls(store, SUPERVISOR, ANY_TIME).get(call_id)


def error_fields(caught: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {error.field for error in caught.value.errors}


# --- validation ----------------------------------------------------------------------------

def test_a_valid_call_is_saved_and_read_back(store: Store, worker: User,
                                             clock: FixedClock) -> None:
    details = a_call(clock, local_authority="E10000007", children_age_bands=("5-10", "11-15"),
                     topics=("legal.sgo", "financial.allowances"),
                     outcomes=("advice", "referred"), referred_to=("solicitor",),
                     follow_up_on=date(2026, 11, 30), follow_up_note="Ring back",
                     safeguarding=True, first_time_caller="yes", how_heard="website",
                     channel="webchat", direction="outbound-callback")
    call_id = Calls(store, actor_of(worker), clock).log(details)
    stored = read_back(store, call_id)
    assert stored.kind == "data"
    assert stored.worker_id == wid(worker)
    # children_count follows from the age bands when it is not given.
    assert stored.details == replace(details, children_count=2)
    assert stored.details.started_at.tzinfo is not None
    assert raw(store, "SELECT duration_s FROM call") == [(15 * 60,)]


def test_the_required_fields_are_named(store: Store, worker: User, clock: FixedClock) -> None:
    with pytest.raises(ValidationError) as caught:
        Calls(store, actor_of(worker), clock).log(CallDetails(started_at=clock.now()))
    messages = {error.field: error.message for error in caught.value.errors}
    assert set(messages) == {"caller_type", "arrangement", "topics", "outcomes"}
    assert messages["caller_type"] == messages["arrangement"] == "required"
    assert "topic" in messages["topics"] and "outcome" in messages["outcomes"]
    assert "caller_type" in str(caught.value)
    assert count(store, Call) == 0


LATER = timedelta(hours=1)


@pytest.mark.parametrize(("changes", "field"), [
    ({"caller_type": "cousin"}, "caller_type"),
    ({"arrangement": "residence-order"}, "arrangement"),
    ({"channel": "fax"}, "channel"),
    ({"direction": "sideways"}, "direction"),
    ({"first_time_caller": "maybe"}, "first_time_caller"),
    ({"how_heard": "carrier-pigeon"}, "how_heard"),
    ({"local_authority": "E10000006"}, "local_authority"),  # Cumbria: abolished in 2023
    ({"local_authority": "Derbyshire"}, "local_authority"),
    ({"topics": ("financial.lottery",)}, "topics"),
    ({"topics": ("financial.debt", "financial.debt")}, "topics"),
    ({"outcomes": ("cured",)}, "outcomes"),
    ({"outcomes": ("referred",), "referred_to": ("wizard",)}, "referred_to"),
    ({"outcomes": ("referred",)}, "referred_to"),
    ({"children_count": 1, "children_age_bands": ("0-4", "5-10")}, "children_age_bands"),
    ({"children_age_bands": ("6-9",)}, "children_age_bands"),
    ({"children_count": 21}, "children_count"),
    ({"follow_up_note": "Ring back next week"}, "follow_up_on"),
    ({"notes": "x" * 10_001}, "notes"),
])
def test_a_wrong_field_is_named(store: Store, worker: User, clock: FixedClock,
                                changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Calls(store, actor_of(worker), clock).log(a_call(clock, **changes))
    assert error_fields(caught) == {field}
    assert count(store, Call) == 0


def test_a_negative_number_of_children_is_refused(store: Store, worker: User,
                                                   clock: FixedClock) -> None:
    with pytest.raises(ValidationError) as caught:
        Calls(store, actor_of(worker), clock).log(a_call(clock, children_count=-1))
    assert "children_count" in error_fields(caught)


def test_a_call_that_ends_before_it_starts_is_refused(store: Store, worker: User,
                                                      clock: FixedClock) -> None:
    start = clock.now() - timedelta(minutes=30)
    with pytest.raises(ValidationError) as caught:
        Calls(store, actor_of(worker), clock).log(
            a_call(clock, started_at=start, ended_at=start - timedelta(minutes=1)))
    assert error_fields(caught) == {"ended_at"}


def test_a_call_longer_than_twelve_hours_is_refused(store: Store, worker: User,
                                                    clock: FixedClock) -> None:
    start = clock.now() - timedelta(hours=13)
    with pytest.raises(ValidationError) as caught:
        Calls(store, actor_of(worker), clock).log(
            a_call(clock, started_at=start, ended_at=start + timedelta(hours=13)))
    assert error_fields(caught) == {"ended_at"}


def test_a_call_cannot_start_in_the_future(store: Store, worker: User,
                                           clock: FixedClock) -> None:
    start = clock.now() + LATER
    with pytest.raises(ValidationError) as caught:
        Calls(store, actor_of(worker), clock).log(a_call(clock, started_at=start, ended_at=None))
    assert error_fields(caught) == {"started_at"}
    # A PC clock a minute or two behind the phone's is not an error.
    Calls(store, actor_of(worker), clock).log(
        a_call(clock, started_at=clock.now() + timedelta(minutes=2), ended_at=None))


def test_a_start_time_without_a_time_zone_is_refused(store: Store, worker: User,
                                                     clock: FixedClock) -> None:
    with pytest.raises(ValidationError) as caught:
        Calls(store, actor_of(worker), clock).log(
            a_call(clock, started_at=datetime(2026, 11, 23, 9, 45), ended_at=None))
    assert error_fields(caught) == {"started_at"}


@pytest.mark.parametrize(("field", "value"), [
    ("caller_email", "margaret.example.org"),
    ("caller_email", "margaret@example"),
    ("caller_phone", "ring me"),
    ("caller_phone", "123"),
    ("caller_phone", "0" * 16),
    ("caller_postcode", "12345"),
    ("caller_postcode", "DE1 1A"),
])
def test_bad_contact_details_are_named(store: Store, worker: User, clock: FixedClock,
                                       field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Calls(store, actor_of(worker), clock).log(
            a_call(clock, consent_to_store_details=True, **{field: value}))
    assert error_fields(caught) == {field}


@pytest.mark.parametrize(("field", "value"), [
    ("caller_email", "margaret@example.org"),
    ("caller_phone", "+44 (0)1632 960 123"),
    ("caller_phone", "07700-900123"),
    ("caller_postcode", "SW1A 1AA"),
    ("caller_postcode", "de11aa"),
    ("caller_postcode", "CF10"),  # the outward code alone is allowed
])
def test_good_contact_details_are_accepted(store: Store, worker: User, clock: FixedClock,
                                           field: str, value: str) -> None:
    call_id = Calls(store, actor_of(worker), clock).log(
        a_call(clock, consent_to_store_details=True, **{field: value}))
    assert getattr(read_back(store, call_id).details, field) == value


def test_every_problem_is_reported_at_once(store: Store, worker: User,
                                           clock: FixedClock) -> None:
    details = a_call(clock, caller_type="cousin", outcomes=("referred",), follow_up_note="x",
                     consent_to_store_details=True, caller_email="nope")
    with pytest.raises(ValidationError) as caught:
        Calls(store, actor_of(worker), clock).log(details)
    assert error_fields(caught) == {"caller_type", "referred_to", "follow_up_on",
                                    "caller_email"}


# --- consent -------------------------------------------------------------------------------

PERSONAL = {
    "caller_name": "Margaret Example",
    "caller_phone": "01632 960123",
    "caller_email": "margaret@example.org",
    "caller_postcode": "DE1 1AA",
}
CONSENT_SQL = ("SELECT consent_to_store_details, caller_name, caller_phone, caller_email, "
               "caller_postcode, notes FROM call WHERE id = :id")


def test_without_consent_no_contact_details_are_stored(
        store: Store, worker: User, clock: FixedClock, location: Location) -> None:
    details = a_call(clock, consent_to_store_details=False, notes="Worried about school",
                     **PERSONAL)
    call_id = Calls(store, actor_of(worker), clock).log(details)

    stored = read_back(store, call_id).details
    assert [getattr(stored, name) for name in PERSONAL] == [None] * 4
    assert stored.notes == "Worried about school"
    assert raw(store, CONSENT_SQL, id=call_id) == [
        (0, None, None, None, None, "Worried about school")]
    store.close()
    for path in location.data_dir.rglob("*"):  # the database, and its WAL if any
        if path.is_file():
            assert b"Margaret" not in path.read_bytes(), path
            assert b"960123" not in path.read_bytes(), path


def test_without_consent_malformed_contact_details_do_not_matter(
        store: Store, worker: User, clock: FixedClock) -> None:
    details = a_call(clock, consent_to_store_details=False, caller_email="not an email",
                     caller_phone="ring me", caller_postcode="nowhere")
    call_id = Calls(store, actor_of(worker), clock).log(details)
    assert raw(store, CONSENT_SQL, id=call_id) == [(0, None, None, None, None, None)]


def test_with_consent_contact_details_are_stored_trimmed(
        store: Store, worker: User, clock: FixedClock) -> None:
    padded = {name: f"  {value} " for name, value in PERSONAL.items()}
    call_id = Calls(store, actor_of(worker), clock).log(
        a_call(clock, consent_to_store_details=True, notes="  \n ",
               **padded))
    assert raw(store, CONSENT_SQL, id=call_id) == [(1, *PERSONAL.values(), None)]


def test_withdrawing_consent_on_an_edit_removes_the_details(
        store: Store, worker: User, clock: FixedClock) -> None:
    details = a_call(clock, consent_to_store_details=True, **PERSONAL)
    call_id = Calls(store, actor_of(worker), clock).log(details)
    changed = Calls(store, SUPERVISOR, clock).update(
        call_id, replace(details, consent_to_store_details=False))
    assert set(changed) == {"consent_to_store_details", *PERSONAL}
    assert raw(store, CONSENT_SQL, id=call_id) == [(0, None, None, None, None, None)]


# --- topics and outcomes -------------------------------------------------------------------

def test_the_first_topic_is_the_primary_one(store: Store, worker: User,
                                            clock: FixedClock) -> None:
    topics = ("legal.sgo", "financial.allowances", "education.send")
    call_id = Calls(store, actor_of(worker), clock).log(a_call(clock, topics=topics))
    rows = raw(store, "SELECT topic_code, is_primary FROM call_topic WHERE call_id = :id "
                      "ORDER BY topic_code", id=call_id)
    assert rows == [("education.send", 0), ("financial.allowances", 0), ("legal.sgo", 1)]
    assert read_back(store, call_id).details.topics[0] == "legal.sgo"
    assert set(read_back(store, call_id).details.topics) == set(topics)
    (summary,) = listed(store)
    assert summary.primary_topic == "legal.sgo"


def test_a_referral_is_stored_once_per_target(store: Store, worker: User,
                                              clock: FixedClock) -> None:
    call_id = Calls(store, actor_of(worker), clock).log(
        a_call(clock, outcomes=("advice", "referred"),
               referred_to=("solicitor", "virtual-school")))
    rows = raw(store, "SELECT outcome, referred_to FROM call_outcome WHERE call_id = :id "
                      "ORDER BY outcome, referred_to", id=call_id)
    assert rows == [("advice", ""), ("referred", "solicitor"), ("referred", "virtual-school")]
    stored = read_back(store, call_id).details
    assert set(stored.outcomes) == {"advice", "referred"}
    assert set(stored.referred_to) == {"solicitor", "virtual-school"}
    (summary,) = listed(store)
    assert sorted(summary.outcomes.split(", ")) == ["advice", "referred"]


def test_referral_targets_are_dropped_without_the_referred_outcome(
        store: Store, worker: User, clock: FixedClock) -> None:
    call_id = Calls(store, actor_of(worker), clock).log(
        a_call(clock, outcomes=("advice",), referred_to=("solicitor",)))
    assert read_back(store, call_id).details.referred_to == ()
    assert raw(store, "SELECT referred_to FROM call_outcome") == [("",)]


# --- editing -------------------------------------------------------------------------------

def test_update_call_returns_the_changed_fields(store: Store, worker: User,
                                               clock: FixedClock) -> None:
    details = a_call(clock, notes="First notes")
    call_id = Calls(store, actor_of(worker), clock).log(details)
    clock.advance(timedelta(minutes=3))

    changed = Calls(store, SUPERVISOR, clock).update(
        call_id, replace(details, caller_type="sibling",
             notes="Better notes",
             topics=("education.send",)))
    assert changed == ["caller_type", "topics", "notes"]  # in the order of the form
    stored = read_back(store, call_id).details
    assert (stored.caller_type, stored.notes, stored.topics) == (
        "sibling", "Better notes", ("education.send",))
    assert raw(store, "SELECT topic_code, is_primary FROM call_topic") == [("education.send", 1)]
    assert raw(store, "SELECT updated_at > created_at FROM call") == [(1,)]


def test_an_unchanged_save_changes_nothing(store: Store, worker: User,
                                           clock: FixedClock) -> None:
    details = a_call(clock, topics=("legal.sgo", "financial.debt", "financial.allowances"),
                     outcomes=("referred", "advice"),
                     referred_to=("solicitor", "family-rights-group"),
                     children_age_bands=("11-15", "0-4"), notes=" spaced ")
    call_id = Calls(store, actor_of(worker), clock).log(details)
    clock.advance(timedelta(minutes=3))
    # The details as the form had them, in the worker's own order, and as read back.
    assert Calls(store, SUPERVISOR, clock).update(call_id, details) == []
    assert Calls(store, SUPERVISOR, clock).update(call_id, read_back(store, call_id).details) == []
    assert raw(store, "SELECT updated_at = created_at FROM call") == [(1,)]
    # Only the primary topic's place matters: making another topic primary is a change.
    swapped = replace(details, topics=("financial.debt", "legal.sgo", "financial.allowances"))
    assert Calls(store, SUPERVISOR, clock).update(call_id, swapped) == ["topics"]


def test_an_edit_is_validated_and_a_bad_one_changes_nothing(
        store: Store, worker: User, clock: FixedClock) -> None:
    details = a_call(clock)
    call_id = Calls(store, actor_of(worker), clock).log(details)
    with pytest.raises(ValidationError) as caught:
        Calls(store, SUPERVISOR, clock).update(call_id, replace(details, outcomes=()))
    assert error_fields(caught) == {"outcomes"}
    assert read_back(store, call_id).details.outcomes == ("advice",)


def test_editing_a_missing_call_is_an_error(store: Store, clock: FixedClock) -> None:
    with pytest.raises(ValidationError) as caught:
        Calls(store, SUPERVISOR, clock).update(404, a_call(clock))
    assert error_fields(caught) == {"id"}
    with pytest.raises(ValidationError):
        read_back(store, 404)


def _retire(store: Store, code: str) -> None:
    with store.write() as session:
        topic = session.get(Topic, code)
        assert topic is not None
        topic.retired = True
        session.add(topic)


def test_a_retired_topic_stays_on_old_calls_but_not_new_ones(
        store: Store, worker: User, clock: FixedClock) -> None:
    old = a_call(clock, topics=("legal.support-plan", "legal.sgo"))
    old_id = Calls(store, actor_of(worker), clock).log(old)
    other_id = Calls(store, actor_of(worker), clock).log(a_call(clock))
    _retire(store, "legal.support-plan")

    # An old call keeps it through an edit of something else...
    edited = replace(old, notes="Edited later")
    assert Calls(store, SUPERVISOR, clock).update(old_id, edited) == ["notes"]
    assert read_back(store, old_id).details.topics == ("legal.support-plan", "legal.sgo")
    # ...but no call can newly take it, old or new.
    with pytest.raises(ValidationError) as caught:
        Calls(store, SUPERVISOR, clock).update(
            other_id, a_call(clock, topics=("legal.support-plan",)))
    assert error_fields(caught) == {"topics"}
    with pytest.raises(ValidationError) as caught:
        Calls(store, actor_of(worker), clock).log(a_call(clock, topics=("legal.support-plan",)))
    assert error_fields(caught) == {"topics"}
    assert count(store, Call) == 2
    # It is still a topic, for old calls and old reports.
    assert topics_in_order(store)["legal.support-plan"].retired
    assert "legal.support-plan" not in topics_in_order(store, include_retired=False)


# --- batches -------------------------------------------------------------------------------

def test_log_calls_saves_a_batch(store: Store, worker: User, clock: FixedClock) -> None:
    batch = [a_call(clock, caller_type=code) for code in ("parent", "sibling", "other")]
    ids = log_calls(store, batch, wid(worker), clock)
    assert len(set(ids)) == 3
    assert [read_back(store, i).details.caller_type for i in ids] == ["parent", "sibling",
                                                                     "other"]


def test_log_calls_is_all_or_nothing(store: Store, worker: User, clock: FixedClock) -> None:
    batch = [a_call(clock), a_call(clock, topics=()), a_call(clock)]
    with pytest.raises(ValidationError) as caught:
        log_calls(store, batch, wid(worker), clock)
    assert error_fields(caught) == {"topics"}
    assert (count(store, Call), count(store, CallTopic), count(store, CallOutcome)) == (0, 0, 0)
    # The store is still usable, and ids are not burnt on anything visible.
    assert log_calls(store, [a_call(clock)], wid(worker), clock) != []
    assert count(store, Call) == 1


# --- non-data calls ------------------------------------------------------------------------

def test_every_non_data_kind_is_logged_in_one_step(store: Store, worker: User,
                                                   clock: FixedClock) -> None:
    kinds = [kind.code for kind in reference.helpline().non_data_kinds]
    assert kinds == ["silent", "hang-up", "wrong-number", "abusive", "test"]
    ids = {}
    for kind in kinds:
        clock.advance(timedelta(minutes=1))
        ids[kind] = Calls(store, actor_of(worker), clock).log_non_data(kind)
    for kind, call_id in ids.items():
        stored = read_back(store, call_id)
        assert stored.kind == kind
        assert stored.details.topics == () and stored.details.outcomes == ()
        assert stored.details.caller_type is None
    assert count(store, CallTopic) == 0 and count(store, CallOutcome) == 0
    history = listed(store)
    assert [row.kind for row in history] == list(reversed(kinds))  # newest first
    assert history[0].started_at == clock.now()
    assert all(row.primary_topic is None and row.outcomes == "" for row in history)


def test_a_non_data_call_can_be_back_dated(store: Store, worker: User,
                                           clock: FixedClock) -> None:
    when = clock.now() - timedelta(minutes=7)
    call_id = Calls(store, actor_of(worker), clock).log_non_data("hang-up", started_at=when)
    assert read_back(store, call_id).details.started_at == when


def test_an_unknown_non_data_kind_is_refused(store: Store, worker: User,
                                            clock: FixedClock) -> None:
    for kind in ("prank", "data", "", "Silent"):
        with pytest.raises(ValidationError) as caught:
            Calls(store, actor_of(worker), clock).log_non_data(kind)
        assert error_fields(caught) == {"kind"}
    assert count(store, Call) == 0


# --- correcting non-data calls -------------------------------------------------------------

def audited(store: Store, action: str) -> list[tuple]:
    return raw(store, "SELECT actor, subject, detail FROM audit_event WHERE action = :action "
               "ORDER BY id", action=action)


def test_a_non_data_call_is_corrected_to_another_kind(store: Store, amy: Actor,
                                                       clock: FixedClock) -> None:
    call_id = Calls(store, amy, clock).log_non_data("abusive")
    clock.advance(timedelta(minutes=1))
    Calls(store, amy, clock).correct(call_id, "wrong-number")
    stored = read_back(store, call_id)
    assert (stored.kind, stored.withdrawn_at) == ("wrong-number", None)
    assert [row.kind for row in listed(store)] == ["wrong-number"]
    assert audited(store, "call-corrected") == [
        (amy.name, f"call {call_id}", '{"from": "abusive", "to": "wrong-number"}')]


def test_a_non_data_call_is_withdrawn_kept_and_audited(store: Store, amy: Actor,
                                                        clock: FixedClock) -> None:
    call_id = Calls(store, amy, clock).log_non_data("test")
    clock.advance(timedelta(minutes=1))
    Calls(store, amy, clock).correct(call_id, None)
    stored = read_back(store, call_id)
    assert stored.kind == "test"  # kept as it was logged
    assert stored.withdrawn_at == clock.now()
    assert raw(store, "SELECT withdrawn_by_id FROM call") == [(amy.id,)]
    assert audited(store, "call-withdrawn") == [(amy.name, f"call {call_id}", '{"kind": "test"}')]
    with pytest.raises(ValidationError, match="withdrawn already"):
        Calls(store, amy, clock).correct(call_id, "silent")
    with pytest.raises(ValidationError, match="withdrawn already"):
        Calls(store, amy, clock).correct(call_id, None)
    assert len(audited(store, "call-withdrawn")) == 1
    # Nor does it come back into the figures as a call with content.
    with pytest.raises(ValidationError, match="withdrawn: it cannot be edited"):
        Calls(store, amy, clock).update(call_id, a_call(clock))
    assert read_back(store, call_id).kind == "test"


def test_only_a_non_data_call_is_corrected_and_only_to_a_non_data_kind(
        store: Store, amy: Actor, clock: FixedClock) -> None:
    data_id = Calls(store, amy, clock).log(a_call(clock))
    silent_id = Calls(store, amy, clock).log_non_data("silent")
    with pytest.raises(ValidationError, match="has content"):
        Calls(store, amy, clock).correct(data_id, None)
    with pytest.raises(ValidationError, match="has content"):
        Calls(store, amy, clock).correct(data_id, "silent")
    for kind in ("data", "prank", ""):
        with pytest.raises(ValidationError) as caught:
            Calls(store, amy, clock).correct(silent_id, kind)
        assert error_fields(caught) == {"kind"}
    with pytest.raises(ValidationError, match="there is no call"):
        Calls(store, amy, clock).correct(9999, None)
    Calls(store, amy, clock).correct(silent_id, "silent")  # the same kind: nothing to do
    assert [(row.kind) for row in listed(store)] == ["silent", "data"]
    assert audited(store, "call-corrected") == audited(store, "call-withdrawn") == []


def test_workers_correct_their_own_recent_calls_and_supervisors_any(
        store: Store, sam: Actor, amy: Actor, clock: FixedClock) -> None:
    bob = a_worker(store, clock, sam, "bob")
    old = Calls(store, amy, clock).log_non_data("hang-up",
                                                started_at=clock.now() - timedelta(days=8))
    bobs = Calls(store, bob, clock).log_non_data("silent")
    for call_id in (old, bobs):
        with pytest.raises(PermissionDenied):
            Calls(store, amy, clock).correct(call_id, None)
    assert audited(store, "call-withdrawn") == []
    Calls(store, sam, clock).correct(old, "silent")
    Calls(store, sam, clock).correct(bobs, None)
    assert read_back(store, old).kind == "silent"
    assert read_back(store, bobs).withdrawn_at == clock.now()
    assert raw(store, "SELECT withdrawn_by_id FROM call WHERE id = :id", id=bobs) == [(sam.id,)]


# --- nothing doubled -----------------------------------------------------------------------

KEY = "5b0f8f52-3f8e-4d55-9a0c-2f1e0c6d7a11"


def test_a_call_saved_again_with_its_key_is_stored_once(store: Store, amy: Actor,
                                                       clock: FixedClock) -> None:
    first = Calls(store, amy, clock).log(a_call(clock), key=KEY)
    clock.advance(timedelta(seconds=5))
    again = Calls(store, amy, clock).log(a_call(clock, notes="retried"), key=KEY)
    assert again == first
    assert count(store, Call) == 1
    assert read_back(store, first).details.notes is None  # the stored call, unchanged
    other = Calls(store, amy, clock).log(a_call(clock), key=KEY.replace("5b0f", "6c1e"))
    assert other != first and count(store, Call) == 2
    # Calls without a key (the import, older drafts) are never taken for one another.
    Calls(store, amy, clock).log(a_call(clock))
    Calls(store, amy, clock).log(a_call(clock))
    assert count(store, Call) == 4


def test_a_non_data_call_saved_again_with_its_key_is_stored_once(
        store: Store, amy: Actor, clock: FixedClock) -> None:
    first = Calls(store, amy, clock).log_non_data("silent", key=KEY)
    assert Calls(store, amy, clock).log_non_data("silent", key=KEY) == first
    assert count(store, Call) == 1


def test_the_key_is_unique_in_the_store(store: Store, amy: Actor, clock: FixedClock) -> None:
    Calls(store, amy, clock).log(a_call(clock), key=KEY)
    with pytest.raises(sa.exc.IntegrityError), store.raw_write() as connection:
        connection.execute(sa.text(
            "UPDATE call SET idempotency_key = :key WHERE id = (SELECT max(id) FROM call)"
            ), {"key": KEY})
        connection.execute(sa.insert(Call.__table__).values(  # type: ignore[attr-defined]
            kind="silent", started_at=clock.now(), worker_id=amy.id, created_at=clock.now(),
            updated_at=clock.now(), idempotency_key=KEY, legal_hold=False))


def test_a_save_racing_another_with_its_key_returns_the_other(
        store: Store, amy: Actor, clock: FixedClock, engine: str) -> None:
    """Two saves of one form at once: the second's look-up finds nothing, then its insert meets
    the first's committed row in the unique index; it returns that call and adds none."""
    if engine != "postgresql":
        pytest.skip("on SQLite BEGIN IMMEDIATE queues the whole save: no insert can race")
    raced: list[int] = []
    started: list[bool] = []

    def the_other_save_lands_first(connection: sa.Connection, cursor: object, statement: str,
                                   *_: object) -> None:
        if started or not statement.startswith("INSERT INTO call "):
            return
        started.append(True)
        # A writer outside this transaction (and its write lock) commits the same form first.
        with store.engine.connect() as other:
            raced.append(other.execute(sa.insert(Call.__table__).values(  # type: ignore[attr-defined]
                kind="data", started_at=clock.now(), worker_id=amy.id, created_at=clock.now(),
                updated_at=clock.now(), idempotency_key=KEY, legal_hold=False)
                .returning(Call.__table__.c.id)).scalar_one())  # type: ignore[attr-defined]
            other.commit()

    sa.event.listen(store.engine, "before_cursor_execute", the_other_save_lands_first)
    try:
        call_id = Calls(store, amy, clock).log(a_call(clock), key=KEY)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", the_other_save_lands_first)
    assert raced and call_id == raced[0]
    assert count(store, Call) == 1


# --- the call history ----------------------------------------------------------------------

@pytest.fixture
def bob(store: Store, clock: FixedClock) -> User:
    return get_or_create_user(store, "bob", clock, display_name="Bob Baker")


def _at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def history(store: Store, worker: User, bob: User, clock: FixedClock) -> dict[str, int]:
    """Five calls that each sort key puts in a different order, with ties on some keys."""
    rows = {
        # name: (worker, started, caller type, topics, minutes)
        "a": (worker, _at(2026, 11, 16, 9, 40), "parent", ("legal.sgo",), 5),
        "b": (bob, _at(2026, 11, 16, 10, 30), "grandparent", ("education.send",), 15),
        "c": (worker, _at(2026, 11, 17, 13, 0), "sibling",
              ("financial.debt", "education.admissions"), 1),
        "d": (bob, _at(2026, 11, 13, 11, 0), "grandparent", ("family.identity",), 15),
        "e": (worker, _at(2026, 11, 16, 12, 45), "aunt-uncle", ("education",), 20),
    }
    ids = {}
    for name, (user, start, caller_type, topics, minutes) in rows.items():
        details = a_call(clock, started_at=start, ended_at=start + timedelta(minutes=minutes),
                         caller_type=caller_type, topics=topics)
        ids[name] = Calls(store, actor_of(user), clock).log(details)
    return ids


def _names(ids: dict[str, int], rows: list) -> str:
    by_id = {call_id: name for name, call_id in ids.items()}
    return "".join(by_id[row.id] for row in rows)


def test_the_history_is_newest_first(store: Store, history: dict[str, int]) -> None:
    rows = listed(store)
    assert _names(history, rows) == "cebad"
    assert rows[0].worker == "Amy Adviser" and rows[1].caller_type == "aunt-uncle"
    assert rows[0].duration_s == 60 and rows[0].primary_topic == "financial.debt"
    assert not any(row.reviewed or row.safeguarding for row in rows)


ORDERS = {
    # key: expected order ascending; ties are broken by id, in the same direction
    "started_at": "dabec",
    "worker": "acebd",
    "caller_type": "ebdac",
    "primary_topic": "ebdca",
    "duration_s": "cabde",
}


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("key", sorted(SORTABLE))
def test_the_history_sorts_by_each_key(store: Store, history: dict[str, int], key: str,
                                       descending: bool) -> None:
    assert set(ORDERS) == set(SORTABLE)
    rows = listed(store, CallQuery(sort=key, descending=descending))
    expected = ORDERS[key][::-1] if descending else ORDERS[key]
    assert _names(history, rows) == expected


def test_an_unknown_sort_key_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="notes"):
        listed(store, CallQuery(sort="notes"))


def test_the_history_filters_by_worker(store: Store, history: dict[str, int],
                                       bob: User, worker: User) -> None:
    assert _names(history, listed(store, CallQuery(worker_id=wid(bob)))) == "bd"
    assert _names(history, listed(store, CallQuery(worker_id=wid(worker)))) == "cea"


@pytest.mark.parametrize(("topic", "expected"), [
    ("education", "ceb"),  # the top-level code itself, its subtopics, and secondary topics
    ("education.send", "b"),
    ("education.admissions", "c"),  # not the primary topic of c
    ("financial", "c"),
    ("legal", "a"),
    ("local-authority", ""),
    ("educ", ""),  # a prefix of a code is not a parent
])
def test_the_history_filters_by_topic(store: Store, history: dict[str, int], topic: str,
                                      expected: str) -> None:
    assert _names(history, listed(store, CallQuery(topic=topic))) == expected


def test_the_history_filters_by_uk_day(store: Store, history: dict[str, int]) -> None:
    def days(first: date, last: date) -> str:
        return _names(history, listed(store, CallQuery(date_from=first, date_to=last)))

    assert days(date(2026, 11, 16), date(2026, 11, 16)) == "eba"
    assert days(date(2026, 11, 13), date(2026, 11, 16)) == "ebad"
    assert days(date(2026, 11, 14), date(2026, 11, 15)) == ""
    assert _names(history, listed(store, CallQuery(date_from=date(2026, 11, 17)))) == "c"
    assert _names(history, listed(store, CallQuery(date_to=date(2026, 11, 13)))) == "d"


def test_a_uk_day_follows_british_summer_time(store: Store, worker: User,
                                              clock: FixedClock) -> None:
    calls = {
        "late-june-15": _at(2026, 6, 15, 22, 59),  # 23:59 BST on 15 June
        "early-june-16": _at(2026, 6, 15, 23, 30),  # 00:30 BST on 16 June
        # 29 March 2026: clocks go forward at 01:00 UTC; that UK day has only 23 hours.
        "late-march-28": _at(2026, 3, 28, 23, 30),  # 23:30 GMT on 28 March
        "early-march-29": _at(2026, 3, 29, 0, 30),  # 00:30 GMT on 29 March
        "late-march-29": _at(2026, 3, 29, 22, 59),  # 23:59 BST on 29 March
        "early-march-30": _at(2026, 3, 29, 23, 0),  # 00:00 BST on 30 March
        "early-november-2": _at(2026, 11, 2, 0, 30),  # 00:30 GMT, after the clocks went back
    }
    ids = {name: Calls(store, actor_of(worker), clock).log_non_data("silent", started_at=at)
           for name, at in calls.items()}

    def on(day: date) -> set[str]:
        found = {row.id for row in listed(store, CallQuery(date_from=day, date_to=day))}
        return {name for name, call_id in ids.items() if call_id in found}

    assert on(date(2026, 6, 15)) == {"late-june-15"}
    assert on(date(2026, 6, 16)) == {"early-june-16"}
    assert on(date(2026, 3, 28)) == {"late-march-28"}
    assert on(date(2026, 3, 29)) == {"early-march-29", "late-march-29"}
    assert on(date(2026, 3, 30)) == {"early-march-30"}
    assert on(date(2026, 11, 1)) == set()
    assert on(date(2026, 11, 2)) == {"early-november-2"}
    # The UK date of each call agrees with what the filter decided.
    assert calls["early-june-16"].astimezone(UK).date() == date(2026, 6, 16)


def test_the_history_combines_filters(store: Store, history: dict[str, int],
                                      worker: User) -> None:
    query = CallQuery(worker_id=wid(worker), topic="education", date_from=date(2026, 11, 16),
                      date_to=date(2026, 11, 16), sort="duration_s", descending=False)
    assert _names(history, listed(store, query)) == "e"


def test_the_history_pages(store: Store, worker: User, clock: FixedClock) -> None:
    starts = [clock.now() - timedelta(hours=1, minutes=i) for i in range(25)]
    ids = log_calls(store, [a_call(clock, started_at=at, ended_at=None) for at in starts],
                    wid(worker), clock)
    pages = [Calls(store, SUPERVISOR, ANY_TIME).list(CallQuery(), offset=offset, limit=10)
             for offset in (0, 10, 20, 30)]
    assert [len(page) for page in pages] == [10, 10, 5, 0]
    assert [row.id for page in pages for row in page] == ids  # newest first, none twice
    assert [row.id for row in listed(store, CallQuery(), offset=3, limit=2)] == ids[3:5]
    assert len(listed(store)) == 25


# --- in hours --------------------------------------------------------------------------------

def test_in_hours_is_computed_from_the_start_of_the_call(store: Store, worker: User,
                                                          clock: FixedClock) -> None:
    inside = Calls(store, actor_of(worker), clock).log(a_call(clock))  # Monday 09:55 UK
    evening = uk(2026, 11, 20, 18, 5)  # Friday evening voicemail
    outside = Calls(store, actor_of(worker), clock).log(
        a_call(clock, started_at=evening,
               ended_at=evening + timedelta(minutes=3),
               channel="voicemail-callback"))
    silent = Calls(store, actor_of(worker), clock).log_non_data(
        "silent", started_at=uk(2026, 8, 31, 10, 0))  # bank hol.
    assert read_back(store, inside).in_hours is True
    assert read_back(store, outside).in_hours is False
    assert read_back(store, silent).in_hours is False


def test_moving_a_call_out_of_hours_on_an_edit_updates_in_hours(store: Store, worker: User,
                                                                 clock: FixedClock) -> None:
    call_id = Calls(store, actor_of(worker), clock).log(a_call(clock))
    early = uk(2026, 11, 23, 8, 45)
    Calls(store, SUPERVISOR, clock).update(call_id, a_call(clock, started_at=early,
                                               ended_at=early + timedelta(minutes=10)))
    assert read_back(store, call_id).in_hours is False


def test_the_uk_day_and_minute_of_the_start_are_kept(store: Store, worker: User,
                                                      clock: FixedClock) -> None:
    summer_night = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 BST on 2 July
    call_id = Calls(store, actor_of(worker), clock).log(
        a_call(clock, started_at=summer_night,
               ended_at=summer_night + timedelta(minutes=5)))
    silent = Calls(store, actor_of(worker), clock).log_non_data("silent")  # Monday 10:15 GMT
    rows = raw(store, "select id, local_date, local_minute from call order by id")
    # sqlite3 gives the stored text, psycopg a date: both written as ISO text here.
    assert [(id_, str(day), minute) for id_, day, minute in rows] == [
        (call_id, "2026-07-02", 30), (silent, "2026-11-23", 615)]
