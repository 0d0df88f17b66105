"""Retired GSS codes: an alias of the one authority that covers the area now is accepted and
stored as that authority's code (import, form, the desk) and migration 0007 rewrites stored
calls; a code that was split between authorities is refused for new calls, naming the
successors, while calls stored with it keep it, shown "(retired)", in their own report row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlmodel import select

from advice_desk.calls.import_source import ImportRejected
from advice_desk.calls.importer import import_calls
from advice_desk.calls.service import Calls
from advice_desk.clock import FixedClock
from advice_desk.figures import recount
from advice_desk.people.permissions import Actor
from advice_desk.reference import lists as reference
from advice_desk.reports.compute import Reports
from advice_desk.reports.funder_export import summary_rows
from advice_desk.reports.output import labeller
from advice_desk.store.engine import Store
from advice_desk.store.models import Call
from advice_desk.store.schema import MIGRATIONS_DIR
from advice_desk.validation import ValidationError
from tests.factories import a_call
from tests.support import ANY_TIME, SUPERVISOR

HEADER = "started_at,duration_minutes,caller_type,arrangement,local_authority,topics,outcomes"


def _csv(*authorities: str) -> str:
    rows = [f"2026-03-02 1{i}:15,12,grandparent,sgo,{authority},financial,advice"
            for i, authority in enumerate(authorities)]
    return "\n".join([HEADER, *rows]) + "\n"


def _stored_authorities(store: Store) -> list[str | None]:
    with store.read() as session:
        return list(session.exec(select(Call.local_authority).order_by(Call.id)))


def _set_authority(store: Store, call_id: int, code: str) -> None:
    """A call stored with ``code``, as an older version of the app (or 0006's data) left it,
    and counted in the figures as migration 0008 counts such a store's calls."""
    with store.write() as session:
        session.execute(sa.update(Call).where(Call.id == call_id)  # type: ignore[arg-type]
                        .values(local_authority=code))
        recount.rebuild(session.connection())


# --- the lists ------------------------------------------------------------------------------

def test_barnsley_and_sheffield_have_their_2025_codes() -> None:
    by_code = reference.local_authority_by_code()
    assert by_code["E08000038"].name == "Barnsley"
    assert by_code["E08000039"].name == "Sheffield"
    assert "E08000016" not in by_code and "E08000019" not in by_code


def test_every_retired_code_is_out_of_use_and_its_successors_are_in_use() -> None:
    current = reference.local_authority_by_code()
    retired = reference.retired_local_authorities()
    assert len({la.code for la in retired}) == len(retired)
    for authority in retired:
        assert authority.code not in current, authority
        assert authority.successors and set(authority.successors) <= set(current), authority
    split = {la.code: la.successors for la in retired if len(la.successors) > 1}
    assert split == {"E10000006": ("E06000063", "E06000064"),  # Cumbria
                     "E10000021": ("E06000061", "E06000062"),  # Northamptonshire
                     "E10000009": ("E06000059", "E06000058")}  # Dorset county: Christchurch


@pytest.mark.parametrize(("typed", "code"), [
    ("E08000016", "E08000038"), ("e08000019", "E08000039"),  # Barnsley, Sheffield (2025)
    ("E06000028", "E06000058"), ("Poole", "E06000058"),  # into BCP (2019)
    ("E10000002", "E06000060"), ("E10000023", "E06000065"), ("E10000027", "E06000066"),
    ("E08000020", "E08000037"),  # Gateshead (2013)
    ("Somerset", "E06000066"), ("Barnsley", "E08000038"),  # a name in use is the one in use
])
def test_a_retired_code_with_one_successor_names_the_successor(typed: str, code: str) -> None:
    assert reference.local_authority_named(typed) == code
    if typed[1:].isdigit():
        assert reference.current_authority_code(typed.upper()) == code


@pytest.mark.parametrize("typed", ["E10000006", "Cumbria", "e10000021", "Northamptonshire"])
def test_a_split_code_names_no_authority_but_is_known_as_split(typed: str) -> None:
    assert reference.local_authority_named(typed) is None
    split = reference.split_authority_named(typed)
    assert split is not None and len(split.successors) == 2


def test_labels_say_retired() -> None:
    assert reference.authority_label("E10000006") == "Cumbria (retired)"
    assert reference.authority_label("E06000063") == "Cumberland"
    assert reference.authority_label("X99") == "X99"
    assert reference.retired_authority_labelled("cumbria  (retired)") == "E10000006"
    assert reference.successors_named(reference.any_local_authority_by_code()["E10000006"]) == (
        "Cumberland (E06000063) or Westmorland and Furness (E06000064)")


# --- import and the desk --------------------------------------------------------------------

def test_import_maps_an_alias_to_its_successor(store: Store, clock: FixedClock) -> None:
    assert import_calls(store, _csv("E08000016", "e08000019", "Bournemouth", "E10000027"),
                        clock) == 4
    assert _stored_authorities(store) == ["E08000038", "E08000039", "E06000058", "E06000066"]


def test_import_refuses_a_split_code_naming_both_successors(store: Store,
                                                            clock: FixedClock) -> None:
    with pytest.raises(ImportRejected) as rejected:
        import_calls(store, _csv("Leeds", "E10000021", "Cumbria"), clock)
    assert [str(p) for p in rejected.value.problems] == [
        "row 3, column local_authority: 'E10000021': Northamptonshire (E10000021) was split "
        "between authorities: write North Northamptonshire (E06000061) or West "
        "Northamptonshire (E06000062)",
        "row 4, column local_authority: 'Cumbria': Cumbria (E10000006) was split between "
        "authorities: write Cumberland (E06000063) or Westmorland and Furness (E06000064)",
    ]
    assert _stored_authorities(store) == []


def test_the_desk_stores_an_alias_as_its_successor(store: Store, clock: FixedClock,
                                                   amy: Actor) -> None:
    calls = Calls(store, amy, clock)
    call_id = calls.log(a_call(clock, local_authority="E08000016"))
    assert calls.get(call_id).details.local_authority == "E08000038"


def test_a_split_code_is_refused_on_a_new_call_but_kept_on_an_edited_one(
        store: Store, clock: FixedClock, amy: Actor) -> None:
    calls = Calls(store, amy, clock)
    with pytest.raises(ValidationError) as refused:
        calls.log(a_call(clock, local_authority="E10000006"))
    assert [e.field for e in refused.value.errors] == ["local_authority"]
    assert "Cumberland (E06000063) or Westmorland and Furness" in str(refused.value)

    call_id = calls.log(a_call(clock, local_authority="W06000015"))
    _set_authority(store, call_id, "E10000006")  # stored before Cumbria was split
    stored = calls.get(call_id).details
    assert calls.update(call_id, a_call(clock, started_at=stored.started_at,
                                        local_authority="E10000006", notes=None,
                                        children_count=2)) == ["children_count"]
    assert calls.get(call_id).details.local_authority == "E10000006"
    # Once changed to a code in use, it cannot go back.
    calls.update(call_id, a_call(clock, started_at=stored.started_at,
                                 local_authority="E06000063"))
    with pytest.raises(ValidationError):
        calls.update(call_id, a_call(clock, started_at=stored.started_at,
                                     local_authority="E10000006"))


def test_a_split_code_keeps_its_own_report_row_with_its_region(
        store: Store, clock: FixedClock, amy: Actor) -> None:
    calls = Calls(store, amy, clock)
    ids = [calls.log(a_call(clock, local_authority=code))
           for code in ("E06000063", "E06000064", "E06000064")]
    _set_authority(store, ids[0], "E10000006")
    day = clock.now().date()
    report = Reports(store, SUPERVISOR, ANY_TIME).compute(day, day)
    assert report.by_local_authority == {"E06000064": 2, "E10000006": 1}
    assert report.by_region == {"North West": 3}
    name = labeller({})
    assert name("by_local_authority", "E10000006") == "Cumbria (retired)"
    assert name("by_local_authority", "E06000064") == "Westmorland and Furness"
    # The funder summary: a row of its own too.
    rows = {row[2] for row in summary_rows(report, "2026-11", 5) if row[1] == "by_local_authority"}
    assert rows == {"E06000064", "E10000006"}


# --- migration 0007 ------------------------------------------------------------------------

def _alembic(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def test_migration_0007_rewrites_codes_with_one_successor_and_keeps_split_ones(
        store: Store, clock: FixedClock, amy: Actor) -> None:
    calls = Calls(store, amy, clock)
    old = ["E08000016", "E08000019", "E06000028", "E06000029", "E10000002", "E10000023",
           "E10000027", "E08000020", "E06000048", "E10000006", "E10000021", "E10000009",
           "W06000015"]
    for code in old:
        _set_authority(store, calls.log(a_call(clock, local_authority="E08000025")), code)
    untouched = calls.log(a_call(clock))
    store.close()
    with store.engine.begin() as connection:
        command.downgrade(_alembic(connection), "0006")
    with store.engine.begin() as connection:
        command.upgrade(_alembic(connection), "head")
    assert _stored_authorities(store) == [
        "E08000038", "E08000039", "E06000058", "E06000058", "E06000060", "E06000065",
        "E06000066", "E08000037", "E06000057",
        "E10000006", "E10000021", "E10000009",  # split: kept
        "W06000015", None]
    assert calls.get(untouched).details.local_authority is None
    # The calls are otherwise as they were.
    assert [c.details.topics for c in (calls.get(1), calls.get(untouched))] == [
        ("financial.allowances",), ("financial.allowances",)]
