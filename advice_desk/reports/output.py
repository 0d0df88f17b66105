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

from advice_desk.files import spreadsheet_safe
from advice_desk.reference import lists as reference
from advice_desk.reports.figures import Report
from advice_desk.reports.measures import Codes, Measure, Unit, breakdowns, single_figures

Labeller = Callable[[str, str], str]  # name(measure key, code) -> what a reader sees


def labeller(topic_labels: dict[str, str]) -> Labeller:
    """Names for codes: ``name(measure, code)``; unknown codes are shown as they are."""
    h = reference.helpline()
    by_list = {
        Codes.TOPICS: topic_labels,
        Codes.CALLER_TYPES: {c.code: c.label for c in h.caller_types},
        Codes.ARRANGEMENTS: {c.code: c.label for c in h.arrangements},
        Codes.OUTCOMES: {c.code: c.label for c in h.outcomes},
        Codes.REFERRAL_TARGETS: {c.code: c.label for c in h.referral_targets},
        Codes.NON_DATA_KINDS: {c.code: c.label for c in h.non_data_kinds},
        Codes.LOCAL_AUTHORITIES: {code: la.label for code, la in
                                  reference.any_local_authority_by_code().items()},
    }
    by_measure = {m.key: by_list[m.codes] for m in breakdowns() if m.codes is not None}
    return lambda measure, code: by_measure.get(measure, {}).get(code, code)


def headline(report: Report) -> list[tuple[str, str]]:
    """The single figures, each as its title and its value as shown."""
    return [(m.title, _shown(m, report.figure(m.key))) for m in single_figures()]


def _shown(measure: Measure, value: int | None) -> str:
    if measure.unit is Unit.SECONDS:
        return "–" if value is None else f"{value / 60:.1f} min"
    return str(value)


def period(report: Report) -> str:
    if report.date_from == report.date_to:
        return report.date_from.strftime("%A %d %B %Y")
    return f"{report.date_from:%d %B %Y} to {report.date_to:%d %B %Y}"


def as_text(report: Report, name: Labeller) -> str:
    lines = [f"{reference.helpline().name}: report for {period(report)}", ""]
    lines += [f"{label:<28}{value:>10}" for label, value in headline(report)]
    for measure in breakdowns():
        counts = report.counts(measure.key)
        lines += ["", measure.title]
        lines += [f"  {name(measure.key, code):<50}{n:>8}" for code, n in counts.items()] or \
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
