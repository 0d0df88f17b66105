"""A report as text, JSON, CSV or PDF, for the command line and for the GUI's "Save as PDF".

Codes are shown with their labels in text and PDF; JSON and CSV keep the codes, which scripts
and spreadsheets join on. The PDF is drawn with reportlab (no Qt), charts included, so the
command line can make one on a machine with no display.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from advice_desk.files import spreadsheet_safe
from advice_desk.reference import lists as reference

if TYPE_CHECKING:  # the GUI uses these names without loading the database layer
    from advice_desk.reports.compute import Report

# (title, attribute of Report) in the order a supervisor reads them
BREAKDOWNS: tuple[tuple[str, str], ...] = (
    ("Calls by topic", "by_topic"),
    ("Calls by subtopic", "by_subtopic"),
    ("Calls by caller type", "by_caller_type"),
    ("Calls by arrangement", "by_arrangement"),
    ("Calls by region", "by_region"),
    ("Calls by local authority", "by_local_authority"),
    ("Calls by outcome", "by_outcome"),
    ("Referrals", "by_referral"),
    ("Calls by worker", "by_worker"),
    ("Calls per 30 minutes of opening", "by_slot"),
    ("Non-data calls", "by_non_data_kind"),
)


def labeller(topic_labels: dict[str, str]) -> Callable[[str, str], str]:
    """Names for codes: ``name(measure, code)``; unknown codes are shown as they are."""
    h = reference.helpline()
    by_measure = {
        "by_topic": topic_labels, "by_subtopic": topic_labels,
        "by_caller_type": {c.code: c.label for c in h.caller_types},
        "by_arrangement": {c.code: c.label for c in h.arrangements},
        "by_outcome": {c.code: c.label for c in h.outcomes},
        "by_referral": {c.code: c.label for c in h.referral_targets},
        "by_non_data_kind": {c.code: c.label for c in h.non_data_kinds},
        "by_local_authority": {la.code: la.name for la in reference.local_authorities()},
    }
    return lambda measure, code: by_measure.get(measure, {}).get(code, code)


def headline(report: Report) -> list[tuple[str, str]]:
    def minutes(seconds: int | None) -> str:
        return "–" if seconds is None else f"{seconds / 60:.1f} min"

    return [
        ("Total calls", str(report.total_calls)),
        ("Calls with content", str(report.data_calls)),
        ("Non-data calls", str(report.non_data_calls)),
        ("In hours", str(report.in_hours_calls)),
        ("Out of hours", str(report.out_of_hours_calls)),
        ("Median duration", minutes(report.duration_median_s)),
        ("90th percentile duration", minutes(report.duration_p90_s)),
        ("Follow-ups due", str(report.follow_ups_due)),
        ("Safeguarding calls", str(report.safeguarding_calls)),
        ("Calls not yet reviewed", str(report.unreviewed_calls)),
    ]


def period(report: Report) -> str:
    if report.date_from == report.date_to:
        return report.date_from.strftime("%A %d %B %Y")
    return f"{report.date_from:%d %B %Y} to {report.date_to:%d %B %Y}"


def as_text(report: Report, name: Callable[[str, str], str]) -> str:
    lines = [f"{reference.helpline().name}: report for {period(report)}", ""]
    lines += [f"{label:<28}{value:>10}" for label, value in headline(report)]
    for title, measure in BREAKDOWNS:
        counts = getattr(report, measure)
        lines += ["", title]
        lines += [f"  {name(measure, code):<50}{n:>8}" for code, n in counts.items()] or \
                 ["  (none)"]
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2) + "\n"


def csv_rows(report: Report) -> Iterator[list[str]]:
    """``measure,category,calls``: one row per figure, the same shape as the funder summary."""
    yield ["measure", "category", "calls"]
    for key, value in report.as_json().items():
        if isinstance(value, dict):
            yield from ([key, code, str(n)] for code, n in value.items())
        elif key not in ("from", "to"):
            yield [key, "", "" if value is None else str(value)]


def as_csv(report: Report) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [spreadsheet_safe(cell) for cell in row] for row in csv_rows(report))
    return buffer.getvalue()
