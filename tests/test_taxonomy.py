"""The taxonomy editor's rules: stable codes, two levels, order among siblings, retiring and
restoring, supervisors only, and an audit event for every change."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from advice_desk.calls import topics as taxonomy
from advice_desk.calls.service import Calls
from advice_desk.calls.topics import Topics, topics_in_order
from advice_desk.clock import FixedClock
from advice_desk.people.permissions import Actor, PermissionDenied
from advice_desk.store.engine import Store
from advice_desk.store.models import AuditEvent
from advice_desk.validation import ValidationError
from tests.factories import a_call
from tests.support import ANY_TIME, SUPERVISOR


def rows(store: Store) -> dict[str, taxonomy.TopicRow]:
    return {row.code: row for row in Topics(store, SUPERVISOR, ANY_TIME).rows()}


def children(store: Store, parent: str | None) -> list[str]:
    return [row.code for row in Topics(store, SUPERVISOR, ANY_TIME).rows(
        ) if row.parent_code == parent]


def error_field(caught: pytest.ExceptionInfo[ValidationError]) -> str:
    [error] = caught.value.errors
    return error.field


def taxonomy_events(store: Store) -> list[AuditEvent]:
    with store.read() as session:
        return list(session.exec(select(AuditEvent)
                                 .where(AuditEvent.action == "taxonomy-changed")
                                 .order_by(col(AuditEvent.id))))


# --- listing and codes ---------------------------------------------------------------------

def test_topics_are_listed_parents_each_followed_by_their_subtopics(store: Store) -> None:
    listed = Topics(store, SUPERVISOR, ANY_TIME).rows()
    assert [row.code for row in listed] == list(topics_in_order(store))
    assert listed[0] == taxonomy.TopicRow("financial", "Financial support", None, 0, False)
    assert listed[1].parent_code == "financial"
    assert [row.code for row in listed if row.parent_code is None] == [
        "financial", "education", "legal", "family", "local-authority", "practical", "other"]


@pytest.mark.parametrize(("label", "expected"), [
    ("Kinship care", "kinship-care"),
    ("  Guardian's Allowance ", "guardians-allowance"),
    ("Crèche & Nursery (0–4)", "creche-nursery-0-4"),
    ("SEND / EHCP", "send-ehcp"),
    ("Ünïcödé", "unicode"),
    ("★★★", "topic"),
    ("x" * 100, "x" * taxonomy.SLUG_MAX),
])
def test_a_code_is_a_slug_of_the_label(label: str, expected: str) -> None:
    assert taxonomy.slug(label) == expected


def test_adding_a_topic_puts_it_last_with_a_slug_code(store: Store, sam: Actor,
                                                      clock: FixedClock) -> None:
    code = Topics(store, sam, clock).add("  Kinship   care ", None)
    assert code == "kinship-care"
    assert rows(store)[code] == taxonomy.TopicRow(code, "Kinship care", None, 7, False)
    assert children(store, None)[-1] == code

    sub = Topics(store, sam, clock).add("Kinship Allowance", "financial")
    assert sub == "financial.kinship-allowance"
    assert children(store, "financial")[-1] == sub
    assert rows(store)[sub].position == len(children(store, "financial")) - 1
    # The first subtopic of a new topic comes first.
    assert Topics(store, sam, clock).add("Peer groups", code) == "kinship-care.peer-groups"
    assert rows(store)["kinship-care.peer-groups"].position == 0


def test_codes_are_made_unique_and_never_reused(store: Store, sam: Actor,
                                                clock: FixedClock) -> None:
    assert Topics(store, sam, clock).add("Debt", "financial") == "financial.debt-2"
    assert Topics(store, sam, clock).add("Debt!", "financial") == "financial.debt-3"
    assert Topics(store, sam, clock).add("Other", None) == "other-2"
    # A retired topic keeps its code: a new topic of the same name gets another.
    Topics(store, sam, clock).retire("financial.debt-3")
    assert Topics(store, sam, clock).add("Debt", "financial") == "financial.debt-4"
    # The same name at another level is another code.
    assert Topics(store, sam, clock).add("Debt", "legal") == "legal.debt"


def test_adding_refuses_an_empty_label_and_a_bad_parent(store: Store, sam: Actor,
                                                        clock: FixedClock) -> None:
    before = Topics(store, SUPERVISOR, ANY_TIME).rows()
    with pytest.raises(ValidationError) as caught:
        Topics(store, sam, clock).add("   ", None)
    assert error_field(caught) == "label"
    with pytest.raises(ValidationError) as caught:
        Topics(store, sam, clock).add("x" * 201, None)
    assert error_field(caught) == "label"
    with pytest.raises(ValidationError) as caught:
        Topics(store, sam, clock).add("Nowhere", "no-such-topic")
    assert error_field(caught) == "parent"
    # Two levels only: no subtopic under a subtopic.
    with pytest.raises(ValidationError) as caught:
        Topics(store, sam, clock).add("Too deep", "legal.sgo")
    assert error_field(caught) == "parent"
    assert "two levels" in str(caught.value)
    Topics(store, sam, clock).retire("practical")
    with pytest.raises(ValidationError) as caught:
        Topics(store, sam, clock).add("Transport", "practical")
    assert error_field(caught) == "parent"
    assert "retired" in str(caught.value)
    assert [r.code for r in Topics(store, SUPERVISOR, ANY_TIME).rows()] == [r.code for r in before]


# --- renaming and moving -------------------------------------------------------------------

def test_renaming_changes_the_label_and_never_the_code(store: Store, sam: Actor,
                                                       clock: FixedClock) -> None:
    Topics(store, sam, clock).rename("legal.sgo", "Special guardianship orders")
    renamed = rows(store)["legal.sgo"]
    assert renamed.label == "Special guardianship orders"
    assert renamed.parent_code == "legal"
    assert "legal.special-guardianship-orders" not in rows(store)
    with pytest.raises(ValidationError) as caught:
        Topics(store, sam, clock).rename("legal.sgo", "")
    assert error_field(caught) == "label"
    with pytest.raises(ValidationError) as caught:
        Topics(store, sam, clock).rename("legal.nothing", "Nothing")
    assert error_field(caught) == "code"


def test_moving_reorders_among_siblings_only(store: Store, sam: Actor,
                                             clock: FixedClock) -> None:
    top = children(store, None)
    Topics(store, sam, clock).move("legal", -1)
    assert children(store, None) == ["financial", "legal", "education", *top[3:]]
    assert [rows(store)[c].position for c in children(store, None)] == list(range(len(top)))

    Topics(store, sam, clock).move("financial", +1)
    assert children(store, None)[:3] == ["legal", "financial", "education"]

    subs = children(store, "legal")
    Topics(store, sam, clock).move(subs[2], -1)
    assert children(store, "legal") == [subs[0], subs[2], subs[1], *subs[3:]]
    assert [rows(store)[c].position for c in children(store, "legal")] == list(
        range(len(subs)))
    assert children(store, None)[:3] == ["legal", "financial", "education"]  # untouched


def test_moving_past_either_end_changes_nothing(store: Store, sam: Actor,
                                                clock: FixedClock) -> None:
    before = Topics(store, SUPERVISOR, ANY_TIME).rows()
    Topics(store, sam, clock).move("financial", -1)
    Topics(store, sam, clock).move("other", +1)
    Topics(store, sam, clock).move(children(store, "family")[-1], +1)
    assert Topics(store, SUPERVISOR, ANY_TIME).rows() == before
    assert taxonomy_events(store) == []


# --- retiring ------------------------------------------------------------------------------

def test_retiring_a_topic_retires_its_subtopics(store: Store, sam: Actor,
                                                clock: FixedClock) -> None:
    subs = children(store, "education")
    Topics(store, sam, clock).retire("education.send")
    Topics(store, sam, clock).retire("education")
    listed = rows(store)
    assert listed["education"].retired
    assert all(listed[code].retired for code in subs)
    assert not listed["legal"].retired
    # The cascade is in the audit detail; the subtopic retired before is not counted again.
    detail = json.loads(taxonomy_events(store)[-1].detail or "{}")
    assert detail == {"change": "retired",
                      "subtopics": [c for c in subs if c != "education.send"]}


def test_a_subtopic_is_restored_only_under_an_active_parent(store: Store, sam: Actor,
                                                            clock: FixedClock) -> None:
    Topics(store, sam, clock).retire("legal")
    with pytest.raises(ValidationError) as caught:
        Topics(store, sam, clock).restore("legal.sgo")
    assert error_field(caught) == "code"
    assert rows(store)["legal.sgo"].retired

    Topics(store, sam, clock).restore("legal")
    assert not rows(store)["legal"].retired
    assert rows(store)["legal.sgo"].retired  # restored one by one
    Topics(store, sam, clock).restore("legal.sgo")
    assert not rows(store)["legal.sgo"].retired
    assert rows(store)["legal.cao"].retired
    # A subtopic alone can be retired and restored under an active parent.
    Topics(store, sam, clock).retire("legal.sgo")
    assert rows(store)["legal.sgo"].retired and not rows(store)["legal"].retired
    with pytest.raises(ValidationError) as caught:
        Topics(store, sam, clock).retire("legal.nothing")
    assert error_field(caught) == "code"


def test_a_retired_topic_stays_on_old_calls_but_is_refused_on_new_ones(
        store: Store, sam: Actor, clock: FixedClock) -> None:
    assert sam.id is not None
    new_code = Topics(store, sam, clock).add("Kinship allowance", "financial")
    old_id = Calls(store, sam, clock).log(a_call(clock, topics=(new_code, "legal.sgo")))
    Topics(store, sam, clock).retire(new_code)

    assert Calls(store, SUPERVISOR, ANY_TIME).get(old_id).details.topics == (new_code, "legal.sgo")
    assert topics_in_order(store)[new_code].label == "Kinship allowance"
    assert topics_in_order(store)[new_code].retired
    assert new_code not in topics_in_order(store, include_retired=False)
    with pytest.raises(ValidationError) as caught:
        Calls(store, sam, clock).log(a_call(clock, topics=(new_code,)))
    assert {error.field for error in caught.value.errors} == {"topics"}

    Topics(store, sam, clock).restore(new_code)
    again = Calls(store, sam, clock).log(a_call(clock, topics=(new_code,)))
    assert Calls(store, SUPERVISOR, ANY_TIME).get(again).details.topics == (new_code,)


# --- who, and the audit trail --------------------------------------------------------------

def test_a_worker_cannot_change_the_topics(store: Store, amy: Actor,
                                           clock: FixedClock) -> None:
    before = Topics(store, SUPERVISOR, ANY_TIME).rows()
    for change in (lambda: Topics(store, amy, clock).add("Mine", None),
                   lambda: Topics(store, amy, clock).add("", "nowhere"),
                   lambda: Topics(store, amy, clock).rename("legal", "Law"),
                   lambda: Topics(store, amy, clock).move("legal", -1),
                   lambda: Topics(store, amy, clock).retire("legal")):
        with pytest.raises(PermissionDenied):
            change()
    assert Topics(store, SUPERVISOR, ANY_TIME).rows() == before
    assert taxonomy_events(store) == []


def test_every_change_is_audited_without_personal_data(store: Store, sam: Actor,
                                                       clock: FixedClock) -> None:
    code = Topics(store, sam, clock).add("Kinship care", None)
    Topics(store, sam, clock).rename(code, "Kinship carers")
    Topics(store, sam, clock).rename(code, "Kinship carers")  # no change, no event
    Topics(store, sam, clock).move(code, -1)
    Topics(store, sam, clock).retire(code)
    Topics(store, sam, clock).retire(code)  # already retired
    Topics(store, sam, clock).restore(code)

    events = taxonomy_events(store)
    assert [(e.actor_id, e.actor, e.subject) for e in events] == [
        (sam.id, "Sam Supervisor", "topic kinship-care")] * 5
    assert all(e.at == clock.now() for e in events)
    assert [json.loads(e.detail or "{}") for e in events] == [
        {"change": "added", "label": "Kinship care"},
        {"change": "renamed", "label": "Kinship carers", "previous label": "Kinship care"},
        {"change": "moved", "position": 6, "previous position": 7},
        {"change": "retired"},
        {"change": "restored"},
    ]
    sub = Topics(store, sam, clock).add("Allowances", code)
    assert taxonomy_events(store)[-1].subject == f"topic {sub}"
    assert json.loads(taxonomy_events(store)[-1].detail or "{}") == {
        "change": "added", "label": "Allowances", "parent": code}
