"""Searching the call history by the words of notes and caller names (issue 10, Build 6): one
query for SQLite (FTS5 kept in step by triggers) and PostgreSQL (a 'simple' tsvector index),
within the role rules, with erased and retained text gone from the index too.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import product
from pathlib import Path

import pytest

from advice_desk.calls.history import CallQuery
from advice_desk.calls.search import fts5_query
from advice_desk.calls.service import Calls
from advice_desk.clock import FixedClock
from advice_desk.paths import Location, resolve_location
from advice_desk.people.permissions import Actor
from advice_desk.privacy.identity import PersonQuery
from advice_desk.privacy.personal_data import PersonalData
from advice_desk.privacy.retention import apply_retention
from advice_desk.store.engine import Store, open_store
from tests.factories import a_call, a_worker, opened_store

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _log(store: Store, clock: FixedClock, actor: Actor, notes: str | None,
         name: str | None = None, start: datetime | None = None, **extra: object) -> int:
    details = a_call(start or clock, notes=notes, consent_to_store_details=name is not None,
                     caller_name=name, **extra)
    return Calls(store, actor, clock).log(details)


def _found(store: Store, actor: Actor, clock: FixedClock, text: str,
           query: CallQuery | None = None) -> list[int]:
    calls = Calls(store, actor, clock)
    query = replace(query or CallQuery(), text=text)
    ids = [c.id for c in calls.list(query)]
    assert calls.count(query) == len(ids)
    return sorted(ids)


def test_a_search_finds_every_word_in_the_notes_or_the_caller_name(
        store: Store, clock: FixedClock, sam: Actor, engine: str) -> None:
    sgo = _log(store, clock, sam, "Asked about the SGO allowance review", "Margaret O'Brien")
    school = _log(store, clock, sam, "School admissions; sent the Virtual School leaflet",
                  "Zoë Allowance")
    silent = Calls(store, sam, clock).log_non_data("silent")
    everything = sorted([sgo, school, silent])
    assert _found(store, sam, clock, "") == everything
    assert _found(store, sam, clock, "   ") == everything
    assert _found(store, sam, clock, "sgo") == [sgo]
    assert _found(store, sam, clock, "ALLOWANCE") == [sgo, school]  # notes or name
    assert _found(store, sam, clock, "allowance margaret") == [sgo]  # every word
    assert _found(store, sam, clock, "margaret leaflet") == []
    assert _found(store, sam, clock, "zoë") == [school]
    # SQLite's tokenizer folds accents; PostgreSQL's 'simple' needs the unaccent extension.
    assert _found(store, sam, clock, "zoe") == ([school] if engine == "sqlite" else [])
    assert _found(store, sam, clock, "o'brien") == [sgo]
    assert _found(store, sam, clock, "obrien") == []
    # Whole words, not stemmed: a name is a name.
    assert _found(store, sam, clock, "allowances") == []
    assert _found(store, sam, clock, "admission") == []


@pytest.mark.parametrize("typed", ['"', '""', "sgo\"", 'AND', 'OR (', 'NEAR(sgo', '*', 'sgo*',
                                   '-sgo', '^sgo', 'notes:sgo', "'; drop table call; --",
                                   '\\', ':', '!', '& | <->', 'sgo & !review'])
def test_what_the_user_types_is_never_query_syntax(
        store: Store, clock: FixedClock, sam: Actor, typed: str) -> None:
    sgo = _log(store, clock, sam, "Asked about the SGO allowance review")
    found = _found(store, sam, clock, typed)  # never an error
    assert found in ([], [sgo])
    assert _found(store, sam, clock, f"{typed} review") in ([], [sgo])


def test_the_fts5_query_quotes_each_word_as_a_phrase() -> None:
    assert fts5_query('sgo  "review" O\'Brien -') == '"sgo" """review""" "O\'Brien"'
    assert fts5_query("") == ""


def test_a_search_follows_an_edit_and_an_erasure(store: Store, clock: FixedClock,
                                                 sam: Actor) -> None:
    calls = Calls(store, sam, clock)
    call_id = _log(store, clock, sam, "Grandmother asked about the allowance",
                   "Margaret Example", caller_phone="07911 123456")
    other = _log(store, clock, sam, "Uncle asked about contact", "Brian Other")
    assert _found(store, sam, clock, "grandmother") == [call_id]
    details = calls.get(call_id).details
    calls.update(call_id, replace(details, notes="Aunt phoned about school transport",
                                  caller_name="Maggie Example"))
    assert _found(store, sam, clock, "grandmother") == []
    assert _found(store, sam, clock, "margaret") == []
    assert _found(store, sam, clock, "school transport") == [call_id]
    assert _found(store, sam, clock, "maggie") == [call_id]
    assert _found(store, sam, clock, "example") == [call_id]

    assert PersonalData(store, sam, clock).erase(PersonQuery("phone", "07911 123456")) == 1
    for words in ("school", "transport", "maggie", "example", "aunt"):
        assert _found(store, sam, clock, words) == [], words
    assert _found(store, sam, clock, "brian") == [other]
    assert _found(store, sam, clock, "contact") == [other]


def test_retention_takes_the_words_out_of_the_search(store: Store, clock: FixedClock,
                                                     sam: Actor) -> None:
    old = _log(store, clock, sam, "An old note about respite", "Margaret Example",
               start=clock.now() - timedelta(days=800))
    recent = _log(store, clock, sam, "A recent note about respite", "Brian Other")
    assert _found(store, sam, clock, "respite") == [old, recent]
    assert apply_retention(store, sam, clock) == 1
    assert _found(store, sam, clock, "respite") == [recent]
    assert _found(store, sam, clock, "margaret") == []
    assert _found(store, sam, clock, "old") == []


def test_a_workers_search_finds_only_their_own_calls_of_the_last_seven_days(
        store: Store, clock: FixedClock, sam: Actor, amy: Actor) -> None:
    bob = a_worker(store, clock, sam, "bob")
    mine = _log(store, clock, amy, "Respite for the grandchildren")
    _log(store, clock, amy, "Respite again", start=clock.now() - timedelta(days=8))
    _log(store, clock, bob, "Respite for the nephew")
    assert _found(store, amy, clock, "respite") == [mine]
    # Asking for bob's calls changes nothing: the rules win over the query.
    assert _found(store, amy, clock, "respite", CallQuery(worker_id=bob.id)) == [mine]
    assert len(_found(store, sam, clock, "respite")) == 3


def test_a_search_is_one_more_filter_of_the_history(store: Store, clock: FixedClock,
                                                    sam: Actor) -> None:
    safe = _log(store, clock, sam, "Respite and a safeguarding worry", safeguarding=True)
    _log(store, clock, sam, "Respite only")
    _log(store, clock, sam, "Safeguarding only", safeguarding=True)
    assert _found(store, sam, clock, "respite", CallQuery(safeguarding_only=True)) == [safe]
    calls = Calls(store, sam, clock)
    assert calls.count(CallQuery()) == 3
    assert calls.count(CallQuery(safeguarding_only=True)) == 2


@pytest.mark.sqlite_only("the saved stores of old schemas are SQLite files")
def test_an_upgraded_store_finds_its_old_calls(tmp_path: Path, clock: FixedClock) -> None:
    location = resolve_location(tmp_path / "data")
    assert location.sqlite_file is not None
    location.data_dir.mkdir()
    shutil.copyfile(FIXTURES / "store-0003.sqlite3", location.sqlite_file)
    with opened_store(location, clock) as store:
        from tests.support import SUPERVISOR
        assert [c.id for c in Calls(store, SUPERVISOR, clock).list(
            CallQuery(text="allowance stopped"))] == [1]
        assert [c.id for c in Calls(store, SUPERVISOR, clock).list(
            CallQuery(text="margaret"))] == [1]


# Words no other call holds and that no other term of the index starts like, so the index's
# prefix-compressed pages hold them whole: the check before the erasure proves they are there.
SECRET_NAME = "Xanthippe Quarrington"
SECRET_NOTE = "Zebedee wolfhound kerfuffle"


@pytest.mark.sqlite_only("byte checks of the SQLite file and its WAL after an erasure")
def test_an_erasure_leaves_no_word_of_the_index_in_the_files(location: Location,
                                                             clock: FixedClock) -> None:
    from tests.factories import first_supervisor

    store = open_store(location, clock)
    try:
        sam = first_supervisor(store, clock)
        _log(store, clock, sam, SECRET_NOTE, SECRET_NAME, caller_phone="07911 123456")
        _log(store, clock, sam, "Brian asked about contact", "Brian Other")
        # Several calls, several segments of the index: each must lose the words.
        calls = Calls(store, sam, clock)
        for i in range(3):
            _log(store, clock, sam, f"{SECRET_NOTE} {i}", SECRET_NAME,
                 caller_phone="07911 123456")
        tokens = [w.lower().encode() for w in (SECRET_NAME + " " + SECRET_NOTE).split()]
        assert location.sqlite_file is not None
        wal = Path(f"{location.sqlite_file}-wal")
        store.purge_erased()  # everything in the main file: the tokens are in the index there
        raw = location.sqlite_file.read_bytes()
        assert all(token in raw for token in tokens), "the index holds the words whole"

        assert PersonalData(store, sam, clock).erase(PersonQuery("phone", "07911 123456")) == 4
        assert calls.list(CallQuery(text="wolfhound")) == []
    finally:
        store.close()
    for path in (location.sqlite_file, wal):
        raw = path.read_bytes() if path.exists() else b""
        for secret in [*tokens, SECRET_NAME.encode(), SECRET_NOTE.encode()]:
            assert secret not in raw, (path.name, secret)
    assert b"brian" in location.sqlite_file.read_bytes()  # the other caller's words stay


@pytest.mark.parametrize("sort", ["started_at", "duration_s", "worker"])
def test_pages_of_a_search_are_the_same_whichever_way_the_store_finds_them(
        store: Store, clock: FixedClock, sam: Actor, sort: str) -> None:
    # On SQLite a search with many matches walks the calls in the history's order and one
    # with few fetches its matches and sorts them (search.walk_the_calls): here "respite"
    # (20 of 30 calls) walks and "kinship" (1 of 30) fetches.
    calls = Calls(store, sam, clock)
    matching: dict[str, list[int]] = {"respite": [], "kinship": []}
    for i in range(30):
        start = clock.now() - timedelta(hours=i % 7, minutes=i)
        notes = ("Respite and more" if i % 3 else "Something else") + (
            " kinship" if i == 17 else "")
        call_id = _log(store, clock, sam, notes, start=start,
                       ended_at=start + timedelta(minutes=5 + i % 4))
        for word, ids in matching.items():
            if word in notes.lower():
                ids.append(call_id)
    for (word, ids), descending in product(matching.items(), (True, False)):
        query = CallQuery(text=word, sort=sort, descending=descending)
        whole = [c.id for c in calls.list(query)]
        everything = [c.id for c in calls.list(replace(query, text=""))]
        assert whole == [i for i in everything if i in ids]  # the history's own order
        assert calls.count(query) == len(ids)
        assert calls.count(replace(query, worker_id=sam.id)) == len(ids)
        for size in (1, 5):
            assert [c.id for offset in range(0, len(ids), size)
                    for c in calls.list(query, offset, size)] == whole
