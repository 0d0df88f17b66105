"""Every figure of the supervisor's report, on a small store whose answers are known by
construction (PRODUCT §5 and §10).

The store (``desk``) holds, in UK time:

* Monday 23 November 2026 (GMT), the line open 09:30-14:00:

  ====  =====  ====  ====================================  ===============================
  call  time   who   topics                                other
  ====  =====  ====  ====================================  ===============================
  C1    09:30  amy   financial.allowances, .benefits       grandparent, sgo, advice,
                                                           Hartlepool, safeguarding,
                                                           follow-up due Mon 23, 300 s
  C2    09:59  bob   legal (top level only)                sibling, cao, referred to a
                                                           solicitor and Citizens Advice +
                                                           information, Camden, reviewed,
                                                           600 s
  C3    13:59  amy   education.virtual-school,             grandparent, informal,
                     financial.debt                        signposted, no duration
  C4    10:00  bob   practical.housing (retired later)     aunt-uncle, sgo, referred to a
                                                           solicitor, Hartlepool, follow-up
                                                           due Wed 25, 120 s
  C5    08:45  amy   family.siblings                       parent, kinship-foster, advice,
                                                           safeguarding, reviewed, 900 s,
                                                           out of hours (early)
  C6    14:00  bob   financial, financial.means-test       grandparent, sgo, advice +
                                                           callback-arranged, 1800 s,
                                                           out of hours (closed at 14:00)
  ====  =====  ====  ====================================  ===============================

  and non-data calls: abusive 09:31 (amy), silent 11:10 (amy), hang-up 12:00 (bob),
  wrong number 15:30 (amy, out of hours).
* Friday 20 November: F1 10:30 amy legal.sgo, 240 s, follow-up due Monday 23; a test call at
  13:00 (bob).
* Saturday 21 November: S1 11:00 amy "other", 60 s (out of hours: a Saturday).
* Sunday 22 November: nothing.
* Monday 31 August 2026 (the late summer bank holiday): B1 10:00 bob (out of hours).
* Wednesday 1 / Thursday 2 July 2026 (British Summer Time): a call at 22:59 UTC (23:59 on the
  1st), one at 23:30 UTC (00:30 on the 2nd) and one at 08:30 UTC (09:30 on the 2nd, in hours).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from advice_desk.calls.call_rows import log_calls
from advice_desk.calls.record import CallDetails
from advice_desk.calls.review import Review
from advice_desk.calls.service import Calls
from advice_desk.calls.topics import Topics
from advice_desk.clock import FixedClock
from advice_desk.paths import resolve_location
from advice_desk.people import accounts
from advice_desk.people.accounts import Users, actor_of, get_or_create_user
from advice_desk.people.permissions import Actor, PermissionDenied, Role
from advice_desk.reports import output as report_output
from advice_desk.reports.compute import Reports
from advice_desk.reports.figures import Report
from advice_desk.reports.funder_export import SUMMARY_FILE, ExportChoices, FunderExport
from advice_desk.reports.measures import MEASURES, charts, single_figures
from advice_desk.store.engine import Store, open_store
from tests.factories import a_call, sam_amy_and_bob, uk
from tests.support import ANY_TIME, PASSWORD, SUPERVISOR

FRIDAY, SATURDAY, SUNDAY, MONDAY = (date(2026, 11, d) for d in (20, 21, 22, 23))
BANK_HOLIDAY = date(2026, 8, 31)
JULY_1, JULY_2 = date(2026, 7, 1), date(2026, 7, 2)
SLOTS = ("09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "13:00", "13:30")
NO_CALLS_PER_SLOT = dict.fromkeys(SLOTS, 0)
HARTLEPOOL, CAMDEN = "E06000001", "E09000007"  # North East, London
REPORT_KEYS = ("from", "to", "total_calls", "data_calls", "non_data_calls", "in_hours_calls",
               "out_of_hours_calls", "by_topic", "by_subtopic", "by_caller_type",
               "by_arrangement", "by_outcome", "by_slot", "duration_median_s", "duration_p90_s",
               "follow_ups_due", "safeguarding_calls", "unreviewed_calls")


@dataclass
class Desk:
    store: Store
    sam: Actor
    amy: Actor
    bob: Actor
    ids: dict[str, int]

    def report(self, date_from: date, date_to: date | None = None) -> Report:
        return Reports(self.store, self.sam, ANY_TIME).compute(date_from, date_to or date_from)


@pytest.fixture
def desk(store, clock) -> Desk:
    sam, amy, bob = sam_amy_and_bob(store, clock)
    ids: dict[str, int] = {}

    # The previous Friday and Saturday, logged as they happen.
    clock.set(uk(FRIDAY, 17, 0))
    ids["F1"] = Calls(store, amy, clock).log(a_call(uk(FRIDAY, 10, 30), 240, topics=("legal.sgo",),
                                                    follow_up_on=MONDAY))
    Calls(store, bob, clock).log_non_data("test", started_at=uk(FRIDAY, 13, 0))
    clock.set(uk(SATURDAY, 12, 0))
    ids["S1"] = Calls(store, amy, clock).log(a_call(uk(SATURDAY, 11, 0), 60, topics=("other",)))

    # Monday, logged late in the day.
    clock.set(uk(MONDAY, 22, 0))
    ids["C1"] = Calls(store, amy, clock).log(a_call(
        uk(MONDAY, 9, 30), 300, topics=("financial.allowances", "financial.benefits"),
        local_authority=HARTLEPOOL, safeguarding=True, follow_up_on=MONDAY))
    ids["C2"] = Calls(store, bob, clock).log(a_call(
        uk(MONDAY, 9, 59), 600, topics=("legal",), caller_type="sibling", arrangement="cao",
        outcomes=("referred", "information"), referred_to=("solicitor", "citizens-advice"),
        local_authority=CAMDEN))
    ids["C3"] = Calls(store, amy, clock).log(a_call(
        uk(MONDAY, 13, 59), None, topics=("education.virtual-school", "financial.debt"),
        arrangement="informal", outcomes=("signposted",)))
    ids["C4"] = Calls(store, bob, clock).log(a_call(
        uk(MONDAY, 10, 0), 120, topics=("practical.housing",), caller_type="aunt-uncle",
        outcomes=("referred",), referred_to=("solicitor",), local_authority=HARTLEPOOL,
        follow_up_on=date(2026, 11, 25)))
    ids["C5"] = Calls(store, amy, clock).log(a_call(
        uk(MONDAY, 8, 45), 900, topics=("family.siblings",), caller_type="parent",
        arrangement="kinship-foster", safeguarding=True))
    ids["C6"] = Calls(store, bob, clock).log(a_call(
        uk(MONDAY, 14, 0), 1800, topics=("financial", "financial.means-test"),
        outcomes=("advice", "callback-arranged")))
    for kind, worker, hour, minute in (("abusive", amy, 9, 31), ("silent", amy, 11, 10),
                                       ("hang-up", bob, 12, 0), ("wrong-number", amy, 15, 30)):
        Calls(store, worker, clock).log_non_data(kind, started_at=uk(MONDAY, hour, minute))

    # A bank holiday and a day boundary in British Summer Time, logged long after.
    ids["B1"] = Calls(store, bob, clock).log(
        a_call(uk(BANK_HOLIDAY, 10, 0), 420, topics=("legal.cao",)))
    ids["J1"] = Calls(store, amy, clock).log(a_call(datetime(2026, 7, 1, 22, 59, tzinfo=UTC), 180,
                                                    topics=("education",)))
    ids["J2"] = Calls(store, amy, clock).log(a_call(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), 360,
                                                    topics=("education.send",)))
    ids["J3"] = Calls(store, bob, clock).log(a_call(datetime(2026, 7, 2, 8, 30, tzinfo=UTC), 540,
                                                    topics=("legal",)))

    # After the fact: a topic retired, two calls reviewed.
    Topics(store, sam, clock).retire("practical")
    Review(store, sam, clock).call(ids["C2"], "Good referral.")
    Review(store, sam, clock).call(ids["C5"], "")
    return Desk(store, sam, amy, bob, ids)


MONDAY_FIGURES = {
    "from": "2026-11-23",
    "to": "2026-11-23",
    "total_calls": 10,
    "data_calls": 6,
    "non_data_calls": 4,
    "in_hours_calls": 7,
    "out_of_hours_calls": 3,
    "by_non_data_kind": {"abusive": 1, "hang-up": 1, "silent": 1, "wrong-number": 1},
    "by_topic": {"financial": 3, "education": 1, "family": 1, "legal": 1, "practical": 1},
    "by_subtopic": {"education.virtual-school": 1, "family.siblings": 1,
                    "financial.allowances": 1, "financial.benefits": 1, "financial.debt": 1,
                    "financial.means-test": 1, "practical.housing": 1},
    "by_caller_type": {"grandparent": 3, "aunt-uncle": 1, "parent": 1, "sibling": 1},
    "by_arrangement": {"sgo": 3, "cao": 1, "informal": 1, "kinship-foster": 1},
    "by_local_authority": {"unknown": 3, HARTLEPOOL: 2, CAMDEN: 1},
    "by_region": {"unknown": 3, "North East": 2, "London": 1},
    "by_outcome": {"advice": 3, "referred": 2, "callback-arranged": 1, "information": 1,
                   "signposted": 1},
    "by_referral": {"solicitor": 2, "citizens-advice": 1},
    "by_worker": {"Amy Adviser": 6, "Bob Adviser": 4},
    "by_slot": {"09:30": 3, "10:00": 1, "10:30": 0, "11:00": 1, "11:30": 0, "12:00": 1,
                "12:30": 0, "13:00": 0, "13:30": 1},
    # durations of C4, C1, C2, C5, C6 (C3 has none): 120 300 600 900 1800
    "duration_median_s": 600,  # rank ceil(0.5 × 5) = 3
    "duration_p90_s": 1800,  # rank ceil(0.9 × 5) = 5
    "follow_ups_due": 2,  # C1's and Friday's F1, both due on Monday
    "safeguarding_calls": 2,  # C1, C5
    "unreviewed_calls": 4,  # six calls with content, C2 and C5 reviewed
}


def figures(report: Report, expected: dict) -> dict:
    """The report's JSON, cut to the keys ``expected`` names."""
    data = report.as_json()
    return {key: data[key] for key in expected}


def test_every_figure_of_a_day(desk):
    report = desk.report(MONDAY)
    assert figures(report, MONDAY_FIGURES) == MONDAY_FIGURES


def test_breakdowns_are_largest_first_then_by_name(desk):
    report = desk.report(MONDAY)
    assert list(report.by_topic) == ["financial", "education", "family", "legal", "practical"]
    assert list(report.by_local_authority) == ["unknown", HARTLEPOOL, CAMDEN]
    assert list(report.by_slot) == list(SLOTS)  # slots in the order of the day


def test_non_data_calls_are_counted_but_never_in_topic_or_caller_figures(desk):
    report = desk.report(MONDAY)
    assert report.total_calls == report.data_calls + report.non_data_calls
    assert report.total_calls == report.in_hours_calls + report.out_of_hours_calls
    for caller_figures in (report.by_caller_type, report.by_arrangement, report.by_region,
                           report.by_local_authority):
        assert sum(caller_figures.values()) == report.data_calls
    assert sum(report.by_non_data_kind.values()) == report.non_data_calls
    assert sum(report.by_region.values()) == sum(report.by_local_authority.values())
    # every call, with content or not, counts for its worker and its slot
    assert sum(report.by_worker.values()) == report.total_calls
    assert sum(report.by_slot.values()) == report.in_hours_calls


def test_a_withdrawn_call_is_left_out_of_every_figure(desk, clock):
    with desk.store.engine.connect() as connection:
        abusive = connection.execute(sa.text(
            "SELECT id FROM call WHERE kind = 'abusive'")).scalar_one()
    Calls(desk.store, desk.amy, clock).correct(abusive, None)  # amy's, at 09:31, by mistake
    report = desk.report(MONDAY)
    assert figures(report, MONDAY_FIGURES) == {
        **MONDAY_FIGURES, "total_calls": 9, "non_data_calls": 3, "in_hours_calls": 6,
        "by_non_data_kind": {"hang-up": 1, "silent": 1, "wrong-number": 1},
        "by_worker": {"Amy Adviser": 5, "Bob Adviser": 4},
        "by_slot": {**MONDAY_FIGURES["by_slot"], "09:30": 2}}
    assert desk.report(FRIDAY, MONDAY).total_calls == 12  # 13 logged: out of a range too


def test_a_withdrawn_call_is_left_out_of_the_funder_export(store, clock, sam, amy, tmp_path):
    october = [Calls(store, amy, clock).log_non_data("silent",
                                                     started_at=uk(2026, 10, 5, 10, minute))
               for minute in range(10)]
    for call_id in october[:5]:
        Calls(store, sam, clock).correct(call_id, None)
    FunderExport(store, sam, clock).write(date(2026, 10, 1), date(2026, 10, 31), tmp_path,
                                          ExportChoices())
    rows = list(csv.DictReader((tmp_path / SUMMARY_FILE).read_text("utf-8").splitlines()))
    counted = {(r["measure"], r["category"]): r["calls"] for r in rows
               if r["period"] == "2026-10" and r["measure"] in (
                   "total_calls", "non_data_calls", "by_non_data_kind")}
    assert counted == {("total_calls", ""): "5", ("non_data_calls", ""): "5",
                       ("by_non_data_kind", "silent"): "5"}  # ten logged, five withdrawn


def test_a_retired_topic_still_counts_on_the_calls_that_used_it(desk):
    assert {t.code: t.retired for t in Topics(desk.store, SUPERVISOR, ANY_TIME).rows()
            if t.code.startswith("practical")}["practical.housing"] is True
    report = desk.report(MONDAY)
    assert report.by_topic["practical"] == 1
    assert report.by_subtopic["practical.housing"] == 1


def test_out_of_hours_on_a_friday_a_saturday_and_a_bank_holiday(desk):
    friday = desk.report(FRIDAY)
    assert (friday.total_calls, friday.data_calls, friday.non_data_calls) == (2, 1, 1)
    assert (friday.in_hours_calls, friday.out_of_hours_calls) == (2, 0)
    assert friday.by_slot == {**NO_CALLS_PER_SLOT, "10:30": 1, "13:00": 1}
    assert friday.by_non_data_kind == {"test": 1}
    assert friday.by_topic == {"legal": 1} and friday.by_subtopic == {"legal.sgo": 1}
    assert friday.follow_ups_due == 0  # F1's follow-up is due on Monday, not on Friday
    assert (friday.duration_median_s, friday.duration_p90_s) == (240, 240)

    saturday = desk.report(SATURDAY)
    assert (saturday.total_calls, saturday.in_hours_calls, saturday.out_of_hours_calls) == \
        (1, 0, 1)
    assert saturday.by_slot == NO_CALLS_PER_SLOT
    assert saturday.by_topic == {"other": 1} and saturday.by_subtopic == {}

    holiday = desk.report(BANK_HOLIDAY)
    assert (holiday.total_calls, holiday.in_hours_calls, holiday.out_of_hours_calls) == (1, 0, 1)
    assert holiday.by_slot == NO_CALLS_PER_SLOT
    assert holiday.by_worker == {"Bob Adviser": 1}
    assert holiday.by_subtopic == {"legal.cao": 1}


def test_an_empty_day_is_all_zeros(desk):
    report = desk.report(SUNDAY)
    expected = {
        "from": "2026-11-22", "to": "2026-11-22",
        "total_calls": 0, "data_calls": 0, "non_data_calls": 0, "in_hours_calls": 0,
        "out_of_hours_calls": 0, "by_non_data_kind": {}, "by_topic": {}, "by_subtopic": {},
        "by_caller_type": {}, "by_arrangement": {}, "by_local_authority": {}, "by_region": {},
        "by_outcome": {}, "by_referral": {}, "by_worker": {}, "by_slot": NO_CALLS_PER_SLOT,
        "duration_median_s": None, "duration_p90_s": None, "follow_ups_due": 0,
        "safeguarding_calls": 0, "unreviewed_calls": 0,
    }
    assert figures(report, expected) == expected


def test_a_range_adds_up_its_days(desk):
    days = [desk.report(day) for day in (FRIDAY, SATURDAY, SUNDAY, MONDAY)]
    whole = desk.report(FRIDAY, MONDAY)
    assert (whole.date_from, whole.date_to) == (FRIDAY, MONDAY)
    for f in fields(Report):
        value = getattr(whole, f.name)
        if f.name.startswith("duration") or f.name.startswith("date"):
            continue
        if isinstance(value, dict):
            total = sum((Counter(getattr(day, f.name)) for day in days), Counter())
            assert Counter(value) == total, f.name
        else:
            assert value == sum(getattr(day, f.name) for day in days), f.name
    assert (whole.total_calls, whole.data_calls, whole.non_data_calls) == (13, 8, 5)
    assert (whole.in_hours_calls, whole.out_of_hours_calls) == (9, 4)
    assert whole.by_topic == {"financial": 3, "legal": 2, "education": 1, "family": 1,
                              "other": 1, "practical": 1}
    assert whole.by_worker == {"Amy Adviser": 8, "Bob Adviser": 5}
    # durations of the whole range: 60 120 240 300 600 900 1800 (ranks 4 and 7)
    assert (whole.duration_median_s, whole.duration_p90_s) == (300, 1800)

    two_days = desk.report(SATURDAY, MONDAY)
    assert two_days.total_calls == days[1].total_calls + days[3].total_calls == 11


def test_follow_ups_due_are_those_whose_date_falls_in_the_period(desk):
    assert desk.report(MONDAY).follow_ups_due == 2
    assert desk.report(date(2026, 11, 24)).follow_ups_due == 0
    assert desk.report(date(2026, 11, 25)).follow_ups_due == 1  # C4's, a call of Monday
    assert desk.report(MONDAY, date(2026, 11, 25)).follow_ups_due == 3


def test_uk_days_follow_british_summer_time(desk):
    first, second = desk.report(JULY_1), desk.report(JULY_2)
    # 22:59 UTC is 23:59 on the 1st; 23:30 UTC is 00:30 on the 2nd; 08:30 UTC is 09:30
    assert (first.total_calls, first.by_topic) == (1, {"education": 1})
    assert first.by_subtopic == {}
    assert (second.total_calls, second.in_hours_calls, second.out_of_hours_calls) == (2, 1, 1)
    assert second.by_topic == {"education": 1, "legal": 1}
    assert second.by_subtopic == {"education.send": 1}
    assert second.by_slot == {**NO_CALLS_PER_SLOT, "09:30": 1}
    assert (second.duration_median_s, second.duration_p90_s) == (360, 540)
    assert desk.report(JULY_1, JULY_2).total_calls == 3
    assert desk.report(date(2026, 6, 30)).total_calls == 0


def test_median_and_90th_percentile_are_nearest_rank(store, clock):
    worker = get_or_create_user(store, "amy", clock)
    clock.set(uk(MONDAY, 23, 0))
    # Ten calls: nearest rank gives the 5th (240) and the 9th (480). An average of the middle
    # two would give 270, and linear interpolation 792 for the 90th percentile.
    minutes = [1, 1, 2, 3, 4, 5, 6, 7, 8, 60]
    log_calls(store, [a_call(uk(MONDAY, 10, i), m * 60) for i, m in enumerate(minutes)],
              worker.id, clock)
    Calls(store, actor_of(worker), clock).log(
        a_call(uk(MONDAY, 11, 0), None))  # no end: not counted
    report = Reports(store, SUPERVISOR, ANY_TIME).compute(MONDAY, MONDAY)
    assert (report.duration_median_s, report.duration_p90_s) == (240, 480)
    assert report.data_calls == 11


def test_one_call_is_its_own_median_and_90th_percentile(store, clock):
    worker = get_or_create_user(store, "amy", clock)
    Calls(store, actor_of(worker), clock).log(a_call(uk(MONDAY, 9, 45), 95))
    report = Reports(store, SUPERVISOR, ANY_TIME).compute(MONDAY, MONDAY)
    assert (report.duration_median_s, report.duration_p90_s) == (95, 95)


def test_the_json_has_the_keys_of_product_section_10(desk):
    report = desk.report(MONDAY)
    data = json.loads(report_output.as_json(report))
    assert set(REPORT_KEYS) <= set(data)
    assert {key: data[key] for key in REPORT_KEYS} == \
        {key: MONDAY_FIGURES[key] for key in REPORT_KEYS}
    assert data == report.as_json()


def test_the_csv_round_trips(desk):
    report = desk.report(MONDAY)
    rows = list(csv.reader(io.StringIO(report_output.as_csv(report))))
    assert rows[0] == ["measure", "category", "calls"]
    assert all(len(row) == 3 for row in rows)
    read_back: dict = {}
    for measure, category, calls in rows[1:]:
        if measure == "by_slot":  # a slot is its span, 09:30-10:00, where the JSON has 09:30
            start = category.split("-")[0]
            assert report_output.slot_name(start) == category
            read_back.setdefault(measure, {})[start] = int(calls)
        elif category:
            read_back.setdefault(measure, {})[category] = int(calls)
        else:
            read_back[measure] = int(calls)
    expected = {key: value for key, value in report.as_json().items()
                if key not in ("from", "to") and value != {}}
    assert read_back == expected
    assert ["by_slot", "10:30-11:00", "0"] in rows  # empty slots are rows too

    empty = list(csv.reader(io.StringIO(report_output.as_csv(desk.report(SUNDAY)))))
    assert ["duration_median_s", "", ""] in empty
    assert ["total_calls", "", "0"] in empty


def test_the_text_names_codes_by_their_labels(desk):
    report, labels = Reports(desk.store, desk.sam, ANY_TIME).for_period(MONDAY, MONDAY)
    name = report_output.labeller(labels)
    text = report_output.as_text(report, name)
    assert "Monday 23 November 2026" in text
    for label in ("Financial support", "Allowances (kinship, SGO, fostering)", "Means test",
                  "Practical support", "Housing",  # retired, still named
                  "Grandparent", "Aunt or uncle", "Special guardianship order",
                  "Kinship foster care (looked after)", "Hartlepool", "Camden", "North East",
                  "Advice given", "Callback arranged", "Solicitor", "Citizens Advice",
                  "Silent call", "Wrong number", "Amy Adviser", "Bob Adviser"):
        assert label in text, label
    for code in ("financial.allowances", "financial.means-test", "practical.housing",
                 "aunt-uncle", "kinship-foster", HARTLEPOOL, "callback-arranged",
                 "citizens-advice", "wrong-number"):
        assert code not in text, code
    lines = text.splitlines()
    assert any(line.split() == ["Total", "calls", "10"] for line in lines)
    assert any(line.strip().startswith("Median duration") and "10.0 min" in line
               for line in lines)



def test_the_measures_are_the_figures_of_the_report():
    keys = [m.key for m in MEASURES]
    assert len(set(keys)) == len(keys)
    assert set(keys) == {f.name for f in fields(Report)} - {"date_from", "date_to"}
    assert [m.key for m in single_figures()] == [
        f.name for f in fields(Report) if f.name in {m.key for m in single_figures()}]


def test_the_pdf_draws_the_charts_of_the_report_window(desk):
    from reportlab.graphics.shapes import Drawing, String

    from advice_desk.reports.pdf import report_flowables

    report = desk.report(MONDAY)
    drawings = [f for f in report_flowables(report, report_output.labeller({}))
                if isinstance(f, Drawing)]
    titles = [s.text for d in drawings for s in d.contents if isinstance(s, String)]
    window_titles = ["Calls by topic", "Calls per 30 minutes", "Outcomes"]  # test_gui_report
    assert titles == [chart.title for _, chart in charts()] == window_titles

def test_a_worker_cannot_see_a_report(desk):
    with pytest.raises(PermissionDenied, match="only a supervisor can see reports"):
        Reports(desk.store, desk.amy, ANY_TIME).compute(MONDAY, MONDAY)


def test_a_period_that_ends_before_it_starts_is_refused(desk):
    with pytest.raises(ValueError, match="before it starts"):
        desk.report(MONDAY, FRIDAY)


# --- the number of SQL statements does not grow with the calls ------------------------------

TOPICS = ("financial.allowances", "legal", "education.send", "family.siblings", "other")
CALLER_TYPES = ("grandparent", "sibling", "aunt-uncle", "parent")
AUTHORITIES = (HARTLEPOOL, CAMDEN, "W06000015", None)


def store_with_calls(folder: Path, count: int, clock: FixedClock) -> Store:
    store = open_store(resolve_location(folder), clock)
    workers = [get_or_create_user(store, name, clock).id for name in ("amy", "bob", "cat")]
    clock.set(uk(MONDAY, 23, 0))
    per_worker: dict[int, list[CallDetails]] = {w: [] for w in workers}
    for i in range(count):
        start = uk(MONDAY - timedelta(days=i % 3), 8 + i % 8, i % 60)
        referred = i % 4 == 0
        details = a_call(
            start, 60 + i * 7, topics=(TOPICS[i % len(TOPICS)], TOPICS[(i + 2) % len(TOPICS)]),
            caller_type=CALLER_TYPES[i % len(CALLER_TYPES)],
            outcomes=("referred",) if referred else ("advice",),
            referred_to=("solicitor", "virtual-school") if referred else (),
            local_authority=AUTHORITIES[i % len(AUTHORITIES)], safeguarding=i % 5 == 0,
            follow_up_on=MONDAY if i % 6 == 0 else None)
        per_worker[workers[i % len(workers)]].append(details)
    for worker, details in per_worker.items():
        log_calls(store, details, worker, clock)
    for i in range(count // 5):
        worker = Actor(workers[i % len(workers)], "worker", "Worker", Role.WORKER)
        Calls(store, worker, clock).log_non_data(("silent", "hang-up")[i % 2],
                                                 started_at=uk(MONDAY, 9 + i % 5, i % 60))
    return store


def statements_for_a_report(store: Store) -> int:
    reports = Reports(store, SUPERVISOR, ANY_TIME)
    reports.compute(SATURDAY, MONDAY)  # warm up: connections, caches
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        report = reports.compute(SATURDAY, MONDAY)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    assert report.total_calls > 0
    return len(statements)


def test_a_report_takes_the_same_few_queries_however_many_calls(tmp_path, clock):
    few = store_with_calls(tmp_path / "few", 10, clock)
    many = store_with_calls(tmp_path / "many", 200, clock)
    try:
        assert Reports(many, SUPERVISOR, ANY_TIME).compute(SATURDAY, MONDAY).data_calls == 200
        few_statements = statements_for_a_report(few)
        assert few_statements == statements_for_a_report(many)
        assert few_statements < 20
    finally:
        few.close()
        many.close()


def test_workers_who_share_a_name_are_told_apart(store, clock, sam) -> None:
    for username in ("jo1", "jo2"):
        Users(store, sam, clock).add(username, "Jo Smith", Role.WORKER, PASSWORD)
    start = uk(2026, 11, 23, 9, 40)
    for username, calls in (("jo1", 1), ("jo2", 2)):
        jo = accounts.sign_in(store, username, PASSWORD, clock)
        for _ in range(calls):
            Calls(store, jo, clock).log(
                a_call(start, 300, caller_type="sibling", topics=("legal",)))
    report = Reports(store, sam, ANY_TIME).compute(date(2026, 11, 23), date(2026, 11, 23))
    assert report.by_worker == {"Jo Smith (jo2)": 2, "Jo Smith (jo1)": 1}


def test_a_follow_up_ticked_off_is_no_longer_due(store, clock, sam) -> None:
    start = uk(2026, 11, 23, 9, 40)
    call_id = Calls(store, sam, clock).log(a_call(start, 300, caller_type="sibling",
                                                  topics=("legal",),
                                                  follow_up_on=date(2026, 11, 23)))
    day = date(2026, 11, 23)
    assert Reports(store, sam, ANY_TIME).compute(day, day).follow_ups_due == 1
    Review(store, sam, clock).complete_follow_up(call_id)
    assert Reports(store, sam, ANY_TIME).compute(day, day).follow_ups_due == 0


def test_a_call_that_does_not_say_reads_unknown_in_words_and_stays_a_code_in_json():
    from advice_desk.reports.output import labeller

    name = labeller({})
    assert name("by_region", "unknown") == "Unknown"
    assert name("by_local_authority", "unknown") == "Unknown"
    assert name("by_region", "London") == "London"
