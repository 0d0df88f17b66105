"""A report as text, JSON, CSV or PDF, for the command line and for the GUI's "Save as PDF".

Codes are shown with their labels in text and PDF; JSON and CSV keep the codes, which scripts
and spreadsheets join on. The PDF is drawn with reportlab (no Qt), charts included, so the
command line can make one on a machine with no display.

A CSV cell is read by a spreadsheet, which guesses what it holds: ``3+`` becomes the number 3,
``09:30`` a time, ``1/2`` a date, ``TRUE`` a boolean. Our own categories are written so that no
spreadsheet can take them for anything but text (a slot is ``09:30-10:00``), and any other
category text that looks like a number, date, time, percentage or boolean (a topic named
``2025``, say) is prefixed with ``'`` as a formula would be (:func:`category_cell`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator

from advice_desk.files import spreadsheet_safe
from advice_desk.reference import lists as reference
from advice_desk.reports.figures import Report
from advice_desk.reports.measures import Codes, Measure, Unit, breakdowns, single_figures

UNKNOWN = "unknown"  # reports.compute's category of a call that does not say (a pure module:
# it cannot import the rollup, which loads the database layer)
Labeller = Callable[[str, str], str]  # name(measure key, code) -> what a reader sees


def labeller(topic_labels: dict[str, str]) -> Labeller:
    """Names for codes: ``name(measure, code)``; a call that does not say is "Unknown"; other
    codes without a label are shown as they are. (JSON and CSV keep the code "unknown".)"""
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
    return lambda measure, code: by_measure.get(measure, {}).get(
        code, "Unknown" if code == UNKNOWN else code)


def headline(report: Report) -> list[tuple[str, str]]:
    """The single figures, each as its title and its value as shown."""
    return [(m.title, _shown(m, report.figure(m.key))) for m in single_figures()]


def _shown(measure: Measure, value: int | None) -> str:
    if measure.unit is Unit.SECONDS:
        return "–" if value is None else f"{value / 60:,.1f} min"
    return f"{value:,}"


SLOT_MINUTES = 30  # the report's slots (reports.compute), named by their start in the JSON
SLOTS = "by_slot"
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
# What LibreOffice and Excel read as something other than text (checked against LibreOffice
# in tests/test_spreadsheets.py): numbers (signs, grouping, exponents, brackets, currency),
# percentages and fractions, dates and times in any order, a month name with a day or a year,
# and the booleans. A year and month (2025-01) is left alone: Calc keeps it as text, and it
# is the export's documented period (Excel may read it as a month).
_NOT_TEXT = re.compile(rf"""\s*(?:
    [-+(]?\s*[£$€¥]?\s*(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?\s*[-+%]?\s*\)?  # 3+, 5%
  | \d+\s+\d+\s*/\s*\d+ | \d+\s*/\s*\d+(?:\s*/\s*\d+)?                         # fractions, d/m/y
  | (?:\d{{1,2}}[-.]\d{{1,2}}|\d{{4}}[-.]\d{{1,2}}[-.]\d{{1,2}})(?:[-.]\d{{1,4}})?  # 1-2, 1.2.25
    (?:[\sT]+\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?)?
  | \d{{1,2}}(?::\d{{2}}){{1,2}}(?:[.,]\d+)?\s*(?:[ap]\.?m\.?)?                 # 09:30, 9:30 pm
  | \d{{1,2}}\s*[ap]\.?m\.?
  | \d{{1,2}}(?:st|nd|rd|th)?[-/\s]*{_MONTH}(?:[-/,\s]+\d{{1,4}})?               # 1 Jan (2025)
  | {_MONTH}[-/,\s]*\d{{1,4}}(?:[-/,\s]+\d{{1,4}})?                             # Jan 2025
  | \d{{4}}[-/\s]*{_MONTH}(?:[-/\s]+\d{{1,2}})?                                # 2025 Jan
  | true | false
)\s*""", re.IGNORECASE | re.VERBOSE)


def looks_like_a_value(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a number, date, time, percentage or
    boolean rather than as the text it is."""
    return bool(text) and _NOT_TEXT.fullmatch(text) is not None


def slot_name(start: str) -> str:
    """A slot as a spreadsheet cannot misread it: ``09:30`` (its JSON key) → ``09:30-10:00``."""
    hours, minutes = map(int, start.split(":"))
    end = hours * 60 + minutes + SLOT_MINUTES
    return f"{start}-{end // 60:02d}:{end % 60:02d}"


def category_cell(measure: str, category: str) -> str:
    """A category as a CSV cell: a slot as its span, and any other text that a spreadsheet
    would read as a value (a number, a date …) or run as a formula prefixed with ``'``."""
    if measure == SLOTS and category:
        return slot_name(category)
    return text_cell(category)


def text_cell(text: str) -> str:
    """Text as a CSV cell a spreadsheet keeps as text: ``'`` before what it would read as a
    value or run as a formula."""
    return "'" + text if looks_like_a_value(text) else spreadsheet_safe(text)


def nothing_to_chart(report: Report) -> str:
    """What a chart with no bars says instead (the PDF's and the report window's)."""
    when = "on this day" if report.date_from == report.date_to else "in this period"
    return f"No calls {when}" if report.total_calls == 0 else f"None {when}"


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
    """``measure,category,calls``: one row per figure, the same shape as the funder summary
    (a slot is named by its span, ``09:30-10:00``, where the JSON has its start)."""
    yield ["measure", "category", "calls"]
    for key, value in report.as_json().items():
        if isinstance(value, dict):
            yield from ([key, category_cell(key, code), str(n)] for code, n in value.items())
        elif key not in ("from", "to"):
            yield [key, "", "" if value is None else str(value)]


def as_csv(report: Report) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [spreadsheet_safe(cell) for cell in row] for row in csv_rows(report))
    return buffer.getvalue()
