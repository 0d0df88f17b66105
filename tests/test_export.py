"""The funder summary: disclosure control, nothing personal leaves, files whole or not at all."""

from __future__ import annotations

import csv
import hashlib
import os
import stat
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest

from advice_desk.calls.service import Calls
from advice_desk.clock import UK
from advice_desk.people import audit
from advice_desk.people.audit import AuditTrail
from advice_desk.people.permissions import PermissionDenied
from advice_desk.reports.extract import COLUMNS as EXTRACT_COLUMNS
from advice_desk.reports.extract import QUASI_COLUMNS, caller_key, generalise, load_secret
from advice_desk.reports.funder_export import (
    DICTIONARY_FILE,
    SUMMARY_FILE,
    ExportChoices,
    FunderExport,
    disclose,
    months,
)
from tests.factories import a_call, store_options
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


def seed(store, clock, amy) -> None:
    """Three calls in each of September, October and November 2026, full of personal and
    hostile text."""
    for month in (9, 10, 11):
        for n, text in zip(range(3), HOSTILE, strict=False):
            start = datetime(2026, month, 2 + n, 10, 0, tzinfo=UK)
            Calls(store, amy, clock).log(a_call(
                start, 300, local_authority="E08000035", topics=("education.virtual-school",),
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
    assert "k-anonymity, k = 3" in (out / DICTIONARY_FILE).read_text("utf-8")


def test_generalising_writes_stars_until_every_combination_is_common() -> None:
    def row(weekday: str, region: str) -> dict[str, str]:
        return {c: "x" for c in EXTRACT_COLUMNS} | {"weekday": weekday, "region": region}

    rows = [row("Mon", "London")] * 5 + [row("Tue", "London"), row("Wed", "Wales")]
    result = generalise([dict(r) for r in rows], 2)
    index = {c: i for i, c in enumerate(EXTRACT_COLUMNS)}
    weekdays = Counter(r[index["weekday"]] for r in result)
    assert weekdays == {"Mon": 5, "*": 2}
    assert len(result) == 7


def test_phone_numbers_in_any_format_give_one_key() -> None:
    secret = b"k" * 32
    keys = {caller_key(p, None, secret) for p in ("07911 123456", "+44 7911 123456",
                                                  "(07911) 123-456")}
    assert len(keys) == 1
    assert keys.pop() != hashlib.sha256(b"07911123456").hexdigest()  # keyed, not a plain hash
    assert caller_key(None, None, secret) is None


def test_the_export_command(tmp_path: Path, capsys) -> None:
    from advice_desk.cli.main import main

    out = tmp_path / "out"
    out.mkdir()
    code = main(["--data-dir", str(tmp_path / "data"), "export", "--from", "2026-01-01",
                 "--to", "2026-03-31", "--out", str(out), "--rows"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["calls.csv", "data-dictionary.md",
                                                    "summary.csv"]
    assert main(["--data-dir", str(tmp_path / "data"), "export", "--from", "2026-01-01",
                 "--to", "2026-03-31", "--out", str(out / "summary.csv")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_the_classification_decides_what_the_extract_may_carry() -> None:
    from advice_desk.privacy.classification import CALL_FIELDS
    from advice_desk.reports.extract import SOURCES, unsafe_columns

    assert unsafe_columns() == []
    assert all(source in CALL_FIELDS for source in SOURCES.values() if source)
    assert "in_hours" not in QUASI_COLUMNS and "region" in QUASI_COLUMNS


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
