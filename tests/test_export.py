"""The funder summary: disclosure control, nothing personal leaves, files whole or not at all."""

from __future__ import annotations

import csv
import hashlib
import os
import stat
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from advice_desk.calls.service import Calls
from advice_desk.clock import UK
from advice_desk.people import audit
from advice_desk.people.audit import AuditTrail
from advice_desk.people.permissions import PermissionDenied
from advice_desk.reports.extract import COLUMNS as EXTRACT_COLUMNS
from advice_desk.reports.extract import QUASI_COLUMNS, caller_key, load_secret
from advice_desk.reports.funder_export import (
    DICTIONARY_FILE,
    SUMMARY_FILE,
    ExportChoices,
    FunderExport,
    disclose,
    months,
)
from tests.factories import a_call, store_options, uk
from tests.support import SUPERVISOR

HOSTILE = ("=HYPERLINK(\"http://x\")", "+1", "-1+1", "@SUM(1)", "\tTab", "\rCR", " =spaced",
           "Quote \" and, comma\nnewline 😀")
PERSONAL = {"caller_name": "Margaret Example", "caller_phone": "07700 900123",
            "caller_email": "margaret@example.org", "caller_postcode": "LS1 4AP"}


@pytest.mark.parametrize("count, shown", [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (7, "5"),
                                          (8, "10"), (12, "10"), (13, "15"), (100, "100")])
def test_disclosure_control(count: int, shown: str) -> None:
    assert disclose(count) == shown


def test_the_threshold_is_a_setting() -> None:
    assert (disclose(7, threshold=10), disclose(10, threshold=10)) == ("<10", "10")


def test_a_range_is_cut_into_its_calendar_months() -> None:
    assert list(months(date(2026, 1, 15), date(2026, 3, 3))) == [
        ("2026-01", date(2026, 1, 15), date(2026, 1, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 3))]


TOPICS = ("education.virtual-school", "legal.sgo")


def seed(store, clock, amy) -> None:
    """Three calls in each of September, October and November 2026, full of personal and
    hostile text."""
    for month in (9, 10, 11):
        for n, text in zip(range(3), HOSTILE, strict=False):
            start = uk(2026, month, 2 + n, 10, 0)
            Calls(store, amy, clock).log(a_call(
                start, 300, local_authority="E08000035", topics=(TOPICS[n % 2],),
                consent_to_store_details=True, **PERSONAL,
                notes=f"{text} {PERSONAL['caller_name']} NI AB123456C 07911 123456",
                follow_up_on=start.date(), follow_up_note=text))


def test_the_summary_holds_only_disclosed_counts_and_no_personal_text(store, clock, amy,
                                                                      tmp_path: Path) -> None:
    seed(store, clock, amy)
    result = FunderExport(store, SUPERVISOR, clock).write(date(2026, 9, 1), date(2026, 11, 23),
                                                          tmp_path, ExportChoices())
    assert result.periods == 4
    text = (tmp_path / SUMMARY_FILE).read_text("utf-8")
    for value in (*PERSONAL.values(), "AB123456C", "07911", "Amy", "HYPERLINK", "SUM("):
        assert value not in text
    rows = list(csv.DictReader(text.splitlines()))
    assert {r["calls"] for r in rows} <= {"0", "<5"} | {str(5 * k) for k in range(1, 100)}
    for row in rows:
        for cell in row.values():
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))
    by_period = {r["period"]: r["calls"] for r in rows if r["measure"] == "data_calls"}
    # three calls a month are each "<5"; the total is counted (9), then rounded: 10
    assert by_period == {"2026-09": "<5", "2026-10": "<5", "2026-11": "<5", "total": "10"}
    assert {r["measure"] for r in rows}.isdisjoint({"by_worker", "duration_median_s",
                                                      "follow_ups_due", "unreviewed_calls"})
    assert "Disclosure control" in (tmp_path / DICTIONARY_FILE).read_text("utf-8")


def test_a_failed_export_leaves_no_file(store, clock, amy, tmp_path: Path) -> None:
    seed(store, clock, amy)
    locked = tmp_path / "read-only"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(locked, os.W_OK):  # root ignores permissions: make the failure another way
        locked.chmod(0o755)
        (locked / SUMMARY_FILE).mkdir()  # a folder where the file must go: rename fails
    with pytest.raises(OSError):
        FunderExport(store, SUPERVISOR, clock).write(date(2026, 9, 1), date(2026, 11, 23),
                                                     locked, ExportChoices())
    leftovers = sorted(p.name for p in locked.iterdir() if p.name != SUMMARY_FILE)
    assert leftovers == []
    assert not (locked / SUMMARY_FILE).is_file()


def test_exports_are_for_supervisors_and_audited(store, clock, amy, sam, tmp_path) -> None:
    with pytest.raises(PermissionDenied):
        FunderExport(store, amy, clock).write(date(2026, 9, 1), date(2026, 9, 30), tmp_path,
                                              ExportChoices())
    FunderExport(store, sam, clock).write(date(2026, 9, 1), date(2026, 9, 30), tmp_path,
                                          ExportChoices())
    (event,) = AuditTrail(store, sam, clock).events(audit.AuditQuery(action="export"))
    assert (event.actor, event.subject) == ("Sam Supervisor",
                                            "funder export 2026-09-01 to 2026-09-30")


def test_the_row_extract_is_k_anonymous_and_keeps_callers_secret(store, clock, amy,
                                                                 tmp_path: Path) -> None:
    seed(store, clock, amy)
    secret = load_secret(tmp_path / "key")
    assert stat.S_IMODE((tmp_path / "key").stat().st_mode) == 0o600
    out = tmp_path / "out"
    out.mkdir()
    FunderExport(store, SUPERVISOR, clock).write(date(2026, 9, 1), date(2026, 11, 23), out,
                                                 ExportChoices(rows_secret=secret, k=3))
    text = (out / "calls.csv").read_text("utf-8")
    for value in (*PERSONAL.values(), "07911", "AB123456C", "HYPERLINK"):
        assert value not in text
    rows = list(csv.DictReader(text.splitlines()))
    assert rows and set(rows[0]) == set(EXTRACT_COLUMNS)
    combos = Counter(tuple(r[c] for c in QUASI_COLUMNS) for r in rows)
    assert min(combos.values()) >= 3
    assert {r["repeat_caller"] for r in rows} == {"yes"}  # the same phone on every call
    assert "k = 3 times" in (out / DICTIONARY_FILE).read_text("utf-8").replace("\n", " ")


def test_phone_numbers_in_any_format_give_one_key() -> None:
    secret = b"k" * 32
    keys = {caller_key(p, None, secret) for p in ("07911 123456", "+44 7911 123456",
                                                  "(07911) 123-456")}
    assert len(keys) == 1
    assert keys.pop() != hashlib.sha256(b"07911123456").hexdigest()  # keyed, not a plain hash
    assert caller_key(None, None, secret) is None


def test_the_export_command(tmp_path: Path, cli_location, capsys) -> None:
    from advice_desk.cli.main import main

    out = tmp_path / "out"
    out.mkdir()
    code = main([*cli_location, "export", "--from", "2026-01-01", "--to", "2026-03-31",
                 "--out", str(out), "--rows"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["calls.csv", "data-dictionary.md",
                                                    "summary.csv"]
    assert main([*cli_location, "export", "--from", "2026-01-01", "--to", "2026-03-31",
                 "--out", str(out / "summary.csv")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_the_classification_decides_what_the_extract_may_carry() -> None:
    from advice_desk.privacy.classification import CALL_FIELDS
    from advice_desk.reports.extract import SOURCES, unsafe_columns

    assert unsafe_columns() == []
    assert all(source in CALL_FIELDS for source in SOURCES.values() if source)
    # in/out of hours follows from the start time: quasi, generalised with the rest
    assert "in_hours" in QUASI_COLUMNS and "region" in QUASI_COLUMNS


def test_a_fresh_key_leaves_the_stored_key_alone(store, clock, amy, location, config_folder,
                                                 tmp_path: Path, monkeypatch) -> None:
    from advice_desk.cli.main import main
    from advice_desk.reports import extract

    seed(store, clock, amy)
    stored, stored_key = config_folder / "export-key", b"s" * 32
    stored.write_bytes(stored_key)
    keys_used: list[bytes] = []

    def recording_caller_key(phone: str | None, email: str | None, secret: bytes) -> str | None:
        keys_used.append(secret)
        return caller_key(phone, email, secret)

    monkeypatch.setattr(extract, "caller_key", recording_caller_key)
    for run in ("first", "second"):
        out = tmp_path / run
        out.mkdir()
        assert main([*store_options(location), "export", "--from", "2026-09-01",
                     "--to", "2026-11-23", "--out", str(out), "--rows", "--fresh-key"]) == 0
        assert (out / "calls.csv").exists()
    assert stored.read_bytes() == stored_key
    assert sorted(p.name for p in config_folder.iterdir()
                  if not p.name.startswith("audit-")) == ["export-key"]  # audit: its own
    assert keys_used and stored_key not in keys_used  # callers were hashed, never with it
    assert len(set(keys_used)) == 2  # with a key made for each export alone


# --- the lattice search and the streamed extract ------------------------------------------

def small_tables() -> list[tuple[str, list, int]]:
    """Class tables over five of the real hierarchies, made at random (fixed seeds): sparse
    and dense, with rare values, and topic sets drawn from a few."""
    import random

    from advice_desk.reports.extract import hierarchies

    wanted = ("month", "weekday", "in_hours", "duration_band", "children_band")
    made = hierarchies(date(2026, 1, 1), date(2026, 6, 30))
    chosen = [h for h in made if h.column in wanted]
    tables = []
    for seed_, calls, k in ((1, 40, 3), (2, 120, 5), (3, 400, 5), (4, 60, 2), (5, 250, 10)):
        rng = random.Random(seed_)
        counts: Counter[tuple[tuple[str, ...], int]] = Counter()
        for _ in range(calls):
            values = tuple(rng.choice(h.leaves[: max(2, len(h.leaves) - rng.randrange(3))])
                           for h in chosen)
            counts[values, rng.choice((1, 2, 2, 4, 8))] += 1
        table = [(values, n, mask, mask) for (values, mask), n in sorted(counts.items())]
        tables.append((chosen, table, k))
    return tables


@pytest.mark.parametrize("case", range(5))
def test_the_search_finds_the_brute_force_optimum(case: int) -> None:
    from advice_desk.reports.anonymise import brute_force, search

    chosen, table, k = small_tables()[case]
    for cap in (0.0, 0.05):
        found = search(chosen, table, k, 2, cap, row_cost=11)
        best = brute_force(chosen, table, k, 2, cap, row_cost=11)
        assert (found.node, found.loss, found.suppressed_rows) == (
            best.node, best.loss, best.suppressed_rows)
        # and it holds: every class kept has k rows and two topic sets
        assert found.suppressed_rows <= int(cap * found.rows) or found.node == tuple(
            len(h.levels) - 1 for h in found.hierarchies)


def test_the_month_is_generalised_only_when_nothing_else_will_do() -> None:
    from advice_desk.reports.anonymise import search
    from advice_desk.reports.extract import hierarchies

    made = [h for h in hierarchies(date(2026, 1, 1), date(2026, 3, 31))
            if h.column in ("month", "weekday")]
    # each month alone has too few calls; by quarter they are enough
    table = [(("2026-01", "Mon"), 2, 1, 2), (("2026-02", "Tue"), 2, 1, 2),
             (("2026-03", "Wed"), 2, 1, 2)]
    assert search(made, table, 5, 2, 0.0).node == (1, 1)  # by quarter, weekday / weekend
    # with enough calls a month nothing is generalised
    table = [(("2026-01", "Mon"), 6, 1, 2), (("2026-02", "Tue"), 6, 1, 2),
             (("2026-03", "Wed"), 6, 1, 2)]
    assert search(made, table, 5, 2, 0.0).node == (0, 0)
    # the month stays whole even where a quarter would keep the days: the days go first
    table = [(("2026-01", "Mon"), 3, 1, 2), (("2026-01", "Tue"), 3, 1, 2),
             (("2026-02", "Mon"), 3, 1, 2), (("2026-02", "Tue"), 3, 1, 2)]
    assert search(made, table, 5, 2, 0.0).node == (0, 1)


def demo_export(store, clock, tmp_path: Path, calls: int, k: int = 5) -> tuple[list, str]:
    from advice_desk.demo.synthetic import add_demo_calls

    add_demo_calls(store, calls, clock, seed=7, days=120, parallel=False)
    out = tmp_path / "out"
    out.mkdir()
    today = clock.now().astimezone(UK).date()
    FunderExport(store, SUPERVISOR, clock).write(
        date(today.year - 1, 1, 1), today, out, ExportChoices(rows_secret=b"s" * 32, k=k))
    with (out / "calls.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, (out / DICTIONARY_FILE).read_text("utf-8")


@pytest.mark.slow
def test_the_written_calls_are_k_anonymous_and_l_diverse_by_pycanon(store, clock,
                                                                    tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    from pycanon import anonymity

    rows, dictionary = demo_export(store, clock, tmp_path, 3000)
    import re

    left = re.search(r"; (\d+) of the (\d+) calls of the period\s+left out", dictionary)
    assert left is not None
    assert int(left[1]) <= int(left[2]) // 100 and len(rows) + int(left[1]) == int(left[2])
    frame = pd.DataFrame(rows, columns=EXTRACT_COLUMNS)
    quasi = list(QUASI_COLUMNS)
    k = anonymity.k_anonymity(frame, quasi)
    l_div = anonymity.l_diversity(frame, quasi, ["topics"])
    assert k >= 5 and l_div >= 2
    assert f"(k = {k})" in dictionary and f"(l = {l_div})" in dictionary
    # the month is kept whole: other columns go first
    assert {r["month"] for r in rows} <= {f"{y}-{m:02d}" for y in (2025, 2026)
                                          for m in range(1, 13)}


def test_the_rows_are_not_in_the_order_of_the_calls(store, clock, tmp_path: Path) -> None:
    """A row's place says nothing of when its call was: in the order of the calls, the months
    would run from first to last down the file."""
    rows, _ = demo_export(store, clock, tmp_path, 600)
    months = [r["month"] for r in rows]
    assert len(set(months)) > 1 and months != sorted(months)
    half = len(months) // 2
    assert set(months[:half]) & set(months[half:])  # early and late months in both halves


@pytest.mark.slow
def test_the_dictionary_states_what_was_generalised(store, clock, tmp_path: Path) -> None:
    rows, dictionary = demo_export(store, clock, tmp_path, 1500)
    stars = {c: sum(r[c] == "*" for r in rows) for c in QUASI_COLUMNS}
    for column in QUASI_COLUMNS:
        (line,) = [line for line in dictionary.splitlines() if line.startswith(f"| `{column}`")]
        assert line.endswith(f"| {100 * stars[column] / len(rows):.1f}% |"), line
    assert f"In this file: {len(rows)} calls;" in dictionary


@pytest.mark.parametrize("case", range(5))
def test_a_search_out_of_budget_still_keeps_the_rules(case: int) -> None:
    from advice_desk.reports.anonymise import brute_force, search

    chosen, table, k = small_tables()[case]
    found = search(chosen, table, k, 2, 0.05, row_cost=11, budget=0)
    best = brute_force(chosen, table, k, 2, 0.05, row_cost=11)
    assert not found.exhaustive and best.exhaustive
    assert found.suppressed_rows <= int(0.05 * found.rows)
    assert found.loss >= best.loss
    assert [h.levels[0] for h in found.hierarchies] == [h.levels[0] for h in best.hierarchies]
