"""``advice-desk hours`` and ``advice-desk report``: output, exit codes, one-line errors."""

from __future__ import annotations

import csv
import json

import pytest

from advice_desk.calls.service import Calls
from advice_desk.cli.common import EXIT_BAD_INPUT, EXIT_OK
from advice_desk.cli.main import main
from advice_desk.clock import FixedClock
from advice_desk.paths import Location
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.reference.hours import HoursPolicy, default_policy
from advice_desk.settings import Settings
from advice_desk.store.engine import open_store
from tests.factories import a_call, store_options, uk
from tests.support import ANY_TIME, SUPERVISOR

REPORT_KEYS = {"from", "to", "total_calls", "data_calls", "non_data_calls", "in_hours_calls",
               "out_of_hours_calls", "by_topic", "by_subtopic", "by_caller_type",
               "by_arrangement", "by_outcome", "by_slot", "duration_median_s", "duration_p90_s",
               "follow_ups_due", "safeguarding_calls", "unreviewed_calls"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store_args(location: Location) -> list[str]:
    """A store with two calls on Monday 23 November 2026 (one at 10:05, one silent at 18:00):
    the options that point the command line at it."""
    clock = FixedClock(uk(2026, 11, 23, 19, 0))
    store = open_store(location, clock)
    amy = get_or_create_user(store, "amy", clock)
    start = uk(2026, 11, 23, 10, 5)
    Calls(store, actor_of(amy), clock).log(
        a_call(start, 480, caller_type="sibling", topics=("education.virtual-school", "financial")))
    Calls(store, actor_of(amy), clock).log_non_data(
        "hang-up", started_at=uk(2026, 11, 23, 18, 0))
    store.close()
    return store_options(location)


def test_hours_on_christmas_day(capsys, store_args):
    code, out, err = run(capsys, *store_args, "hours", "--at",
                         "2026-12-25 10:00")
    assert (code, out, err) == (EXIT_OK, "Closed today: Christmas Day · opens Tue 09:30\n", "")


def test_hours_with_an_offset_and_in_summer(capsys, store_args):
    assert run(capsys, *store_args, "hours", "--at",
               "2026-07-01T12:48:00+01:00")[1] == "Line open · closes 14:00 (in 1 h 12 min)\n"


def test_hours_refuses_an_ambiguous_uk_time_in_one_line(capsys, store_args):
    with pytest.raises(SystemExit) as stopped:
        main([*store_args, "hours", "--at", "2026-10-25 01:30"])
    err = capsys.readouterr().err
    assert stopped.value.code == EXIT_BAD_INPUT
    assert err.count("\n") == 1 and "happened twice in the UK" in err


def test_hours_recompute_follows_a_changed_policy(capsys, store_args, location):
    store = open_store(location)
    closed_mondays = tuple(s for s in default_policy().sessions if s.weekday != 0)
    Settings(store, SUPERVISOR, ANY_TIME).save_hours_policy(HoursPolicy(closed_mondays))
    store.close()
    code, out, _ = run(capsys, *store_args, "hours", "--recompute")
    assert (code, out) == (EXIT_OK, "In-hours recomputed: 1 call changed\n")
    store = open_store(location)
    assert Calls(store, SUPERVISOR, ANY_TIME).get(1).in_hours is False
    store.close()


def test_report_json_has_the_contract_keys_and_the_right_figures(capsys, store_args):
    code, out, _ = run(capsys, *store_args, "report", "--date", "2026-11-23",
                       "--format", "json")
    figures = json.loads(out)
    assert code == EXIT_OK
    assert figures.keys() >= REPORT_KEYS
    assert (figures["total_calls"], figures["data_calls"], figures["non_data_calls"]) == (2, 1, 1)
    assert (figures["in_hours_calls"], figures["out_of_hours_calls"]) == (1, 1)
    assert figures["by_topic"] == {"education": 1, "financial": 1}
    assert figures["by_subtopic"] == {"education.virtual-school": 1}
    assert figures["by_slot"]["10:00"] == 1 and sum(figures["by_slot"].values()) == 1
    assert figures["duration_median_s"] == figures["duration_p90_s"] == 480


def test_report_csv_and_text(capsys, store_args):
    _, out, _ = run(capsys, *store_args, "report", "--from", "2026-11-23",
                    "--to", "2026-11-24", "--format", "csv")
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == ["measure", "category", "calls"]
    assert ["by_caller_type", "sibling", "1"] in rows
    _, text, _ = run(capsys, *store_args, "report", "--date", "2026-11-23")
    assert "Virtual School" in text and "Total calls" in text


def test_report_writes_a_pdf_only_to_a_file(capsys, store_args, tmp_path):
    out = tmp_path / "report.pdf"
    assert run(capsys, *store_args, "report", "--date", "2026-11-23",
               "--format", "pdf", "--out", str(out))[0] == EXIT_OK
    assert out.read_bytes().startswith(b"%PDF")
    code, _, err = run(capsys, *store_args, "report", "--date", "2026-11-23",
                       "--format", "pdf")
    assert (code, err) == (EXIT_BAD_INPUT, "advice-desk: error: --format pdf needs --out FILE\n")


@pytest.mark.parametrize("argv, message", [
    (["--from", "2026-11-24", "--to", "2026-11-23"], "--to 2026-11-23 is before --from"),
    (["--from", "2026-11-24"], "give --date D, or --from D and --to D"),
    (["--date", "2026-11-23", "--to", "2026-11-24"], "not both"),
])
def test_report_refuses_a_bad_period(capsys, store_args, argv, message):
    code, _, err = run(capsys, *store_args, "report", *argv)
    assert code == EXIT_BAD_INPUT and message in err and err.count("\n") == 1
