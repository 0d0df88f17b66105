"""The extract's reads: numbers a month at a time, matched call for call by their ids."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from advice_desk.calls.service import Calls
from advice_desk.reports.extract import write_rows
from advice_desk.store.models import CallOutcome
from tests.factories import a_call, uk

SECRET = b"r" * 32


def log_calls(store, clock, amy, count: int) -> list[int]:
    calls = Calls(store, amy, clock)
    return [calls.log(a_call(uk(2026, 10, 1 + n % 28, 10, 0), 300 + 60 * n,
                             local_authority="E08000035",
                             topics=(("legal.sgo", "education.send")[n % 2],),
                             caller_phone=f"07700 900{n % 4:03d}"))
            for n in range(count)]


def extract(store, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as out:
        write_rows(out, store, date(2026, 10, 1), date(2026, 10, 31), SECRET, k=2)
    return path.read_text("utf-8")


def test_an_outcome_code_the_list_does_not_hold_is_written(store, clock, amy,
                                                           tmp_path: Path) -> None:
    ids = log_calls(store, clock, amy, 12)
    with store.write() as session:
        session.add_all(CallOutcome(call_id=i, outcome="old-outcome") for i in ids)
    rows = list(csv.DictReader(extract(store, tmp_path, "calls.csv").splitlines()))
    assert rows and all("old-outcome" in row["outcomes"].split(";") for row in rows)


def test_reads_in_another_order_are_put_in_the_order_of_the_ids() -> None:
    from advice_desk.reports.call_numbers import in_order

    ids = np.array([5, 3, 9], dtype=np.int64)
    (values,) = in_order(ids, np.array([9, 5, 3], dtype=np.int64),
                         np.array([90, 50, 30], dtype=np.int64))
    assert values.tolist() == [50, 30, 90]
    with pytest.raises(RuntimeError, match="different calls"):
        in_order(ids, np.array([9, 5, 4], dtype=np.int64), np.zeros(3, dtype=np.int64))


def test_every_authority_is_read_as_its_region_and_any_other_code_as_unknown(
        store, clock, amy) -> None:
    """The region is found by halving the sorted codes: each code must reach its own region
    on both engines (PostgreSQL compares in byte order, as Python sorts)."""
    import sqlalchemy as sa
    from sqlmodel import col

    from advice_desk.reference import lists as reference
    from advice_desk.reports.passes import grouped_column
    from advice_desk.store.models import Call

    regions: dict[str, list[str]] = {}
    for la in reference.local_authorities():
        regions.setdefault(la.region, []).append(la.code)
    calls = Calls(store, amy, clock)
    logged = {calls.log(a_call(uk(2026, 10, 1, 10, 0), local_authority=code)): code
              for codes in regions.values() for code in codes}
    stray, missing = (calls.log(a_call(uk(2026, 10, 2, 10, 0))) for _ in range(2))
    with store.write() as session:
        session.execute(sa.update(Call).where(col(Call.id) == stray)
                        .values(local_authority="E99999999"))
        session.execute(sa.update(Call).where(col(Call.id) == missing)
                        .values(local_authority=None))
    column = grouped_column(col(Call.local_authority), dict(sorted(regions.items())), "unknown")
    with store.read() as session:
        read = dict(session.execute(sa.select(col(Call.id), column.number)).all())
    names = column.leaves
    assert {i: names[read[i]] for i in logged} == {
        i: la.region for i, code in logged.items()
        for la in reference.local_authorities() if la.code == code}
    assert names[read[stray]] == names[read[missing]] == "unknown"


def test_a_calls_topic_set_holds_each_top_level_topic_once_and_only_its_own_calls(
        store, clock, amy) -> None:
    """The pairs are read along the ids, a range at a time: calls outside the period that
    fall in the range are dropped, and two topics under one top-level topic are one bit."""
    from sqlmodel import col

    from advice_desk.reports import call_numbers, passes
    from advice_desk.store.models import CallTopic

    calls = Calls(store, amy, clock)
    ours = [calls.log(a_call(uk(2026, 10, 5, 10, 0), topics=("legal.sgo", "legal.cao"))),
            calls.log(a_call(uk(2026, 10, 6, 10, 0), topics=("legal.sgo", "education.send")))]
    calls.log(a_call(uk(2026, 9, 7, 10, 0), topics=("family.identity",)))  # between and after
    ours.append(calls.log(a_call(uk(2026, 10, 8, 10, 0), topics=("education.send",))))
    ids = np.array(ours, dtype=np.int64)
    with store.read() as session:
        connection = session.connection()
        bits, tops = passes.topic_bits(connection)
        sets = {size: call_numbers.bit_sets(call_numbers.bits_by_call(ids, passes.code_pairs(
            connection, col(CallTopic.topic_code), col(CallTopic.call_id), bits,
            int(ids.min()), int(ids.max()), ids_a_statement=size), lambda: False), tops)
            for size in (1, 2, 1000)}
    for made in sets.values():
        assert [made.texts[n] for n in made.numbers] == ["legal", "education;legal",
                                                         "education"]
