"""The funder export: counts per month that can never identify a caller (PRODUCT.md §6).

Every figure comes from :func:`advice_desk.report.compute_report` over one month (or the whole
range, for the total period), so the export and the supervisor's report always agree. Counts
then pass statistical disclosure control, as in official statistics: 1 to threshold-1 is
written ``<threshold``, every other count is rounded to the nearest 5, 0 stays 0; a total is
computed from the raw data, then rounded, never summed from rounded cells. Only measures that
are not about a person leave: no worker, no durations, no free text, no exact dates.
"""

from __future__ import annotations

import calendar
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from advice_desk import audit
from advice_desk.clock import Clock
from advice_desk.files import atomic_files, spreadsheet_safe
from advice_desk.permissions import Action, Actor, require
from advice_desk.report import Report, compute_report
from advice_desk.store import Store

DEFAULT_THRESHOLD = 5
ROUND_TO = 5
TOTAL = "total"
SUMMARY_FILE, DICTIONARY_FILE = "summary.csv", "data-dictionary.md"
SUMMARY_COLUMNS = ("period", "measure", "category", "calls")

# Measures that may leave, with what they count. Workers, durations, follow-ups and reviews
# stay inside the charity: they describe staff or casework, not the calls' population.
SINGLE_MEASURES = {
    "total_calls": "all calls, with content or not",
    "data_calls": "calls with content (a caller asked about something)",
    "non_data_calls": "silent calls, hang-ups, wrong numbers, abusive and test calls",
    "in_hours_calls": "calls that started while the line was open",
    "out_of_hours_calls": "calls that started while the line was closed",
    "safeguarding_calls": "calls with content flagged for safeguarding",
}
BREAKDOWNS = {
    "by_non_data_kind": "non-data calls by kind",
    "by_topic": "calls with content naming each top-level topic (a call counts once per topic)",
    "by_subtopic": "calls with content naming each subtopic",
    "by_caller_type": "calls with content by who called",
    "by_arrangement": "calls with content by the child's legal arrangement",
    "by_region": "calls with content by region (9 English regions and Wales)",
    "by_local_authority": "calls with content by local authority (GSS code)",
    "by_outcome": "calls with content by outcome (a call counts once per outcome)",
    "by_referral": "referrals by where the caller was referred",
    "by_slot": "calls in hours by 30-minute slot of UK time (start of the slot)",
}


def disclose(count: int, threshold: int = DEFAULT_THRESHOLD) -> str:
    """A count as it may be published: ``0``, ``<threshold``, or rounded to the nearest 5."""
    if count < 0:
        raise ValueError(f"a count cannot be negative: {count}")
    if count == 0:
        return "0"
    if count < threshold:
        return f"<{threshold}"
    return str(ROUND_TO * ((count + ROUND_TO // 2) // ROUND_TO))


def months(date_from: date, date_to: date) -> Iterator[tuple[str, date, date]]:
    """Each calendar month the range touches, clipped to the range: (``YYYY-MM``, first, last)."""
    year, month = date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        last_day = date(year, month, calendar.monthrange(year, month)[1])
        yield (f"{year:04d}-{month:02d}", max(date_from, date(year, month, 1)),
               min(date_to, last_day))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def summary_rows(report: Report, period: str, threshold: int) -> Iterator[tuple[str, ...]]:
    for measure in SINGLE_MEASURES:
        yield period, measure, "", disclose(getattr(report, measure), threshold)
    for measure in BREAKDOWNS:
        for category, count in sorted(getattr(report, measure).items()):
            yield period, measure, category, disclose(count, threshold)


@dataclass(frozen=True)
class ExportResult:
    files: tuple[Path, ...]
    periods: int


def export_funder_summary(store: Store, actor: Actor, date_from: date, date_to: date,
                          out_dir: Path, clock: Clock,
                          threshold: int = DEFAULT_THRESHOLD) -> ExportResult:
    """Write ``summary.csv`` and ``data-dictionary.md`` into ``out_dir``, each whole or not at
    all, and record the export in the audit trail."""
    require(actor, Action.EXPORT)
    if date_to < date_from:
        raise ValueError(f"the period ends ({date_to}) before it starts ({date_from})")
    if threshold < 1:
        raise ValueError(f"the disclosure threshold must be 1 or more, not {threshold}")
    periods = [(name, compute_report(store, actor, first, last))
               for name, first, last in months(date_from, date_to)]
    periods.append((TOTAL, compute_report(store, actor, date_from, date_to)))
    out_dir = Path(out_dir)
    summary, dictionary = out_dir / SUMMARY_FILE, out_dir / DICTIONARY_FILE
    # Both files are written under temporary names first: a failure in either leaves neither.
    with atomic_files(summary, dictionary) as (table, notes):
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(SUMMARY_COLUMNS)
        for name, report in periods:
            writer.writerows([spreadsheet_safe(cell) for cell in row]
                             for row in summary_rows(report, name, threshold))
        notes.write(data_dictionary(date_from, date_to, threshold))
    with store.write() as session:
        audit.record(session, clock, actor, "export", f"funder summary {date_from} to {date_to}",
                     {"files": [SUMMARY_FILE, DICTIONARY_FILE], "threshold": threshold})
    return ExportResult((summary, dictionary), len(periods))


def data_dictionary(date_from: date, date_to: date, threshold: int) -> str:
    measures = "\n".join(f"| `{name}` | {meaning} |" for name, meaning in
                         {**SINGLE_MEASURES, **BREAKDOWNS}.items())
    return f"""# Funder summary: data dictionary

Calls to the advice line from {date_from:%d %B %Y} to {date_to:%d %B %Y} (UK days).

## `{SUMMARY_FILE}`

| column | meaning |
| --- | --- |
| `period` | a calendar month `YYYY-MM` (clipped to the dates above), or `{TOTAL}` for all of them |
| `measure` | what is counted (below) |
| `category` | the code counted within a breakdown; empty for a single figure |
| `calls` | the count after disclosure control: `0`, `<{threshold}`, or a multiple of {ROUND_TO} |

| measure | counts |
| --- | --- |
{measures}

Codes are the app's stable codes: topics `parent.child` (PRODUCT.md §3), caller types,
arrangements, outcomes and referral targets (§2), regions by name, local authorities by GSS code.

## Disclosure control

- A count of 1 to {threshold - 1} is written `<{threshold}`; every other count is rounded to the
  nearest {ROUND_TO}; 0 stays `0`.
- The `{TOTAL}` period is counted from the calls themselves and then rounded: it is not the sum of
  the rounded months, and adding rounded cells will not give it.
- Nothing here names or describes a person: no caller details, no worker, no free text, no exact
  dates or times.
- Every text cell that a spreadsheet would read as a formula begins with `'`.
"""
