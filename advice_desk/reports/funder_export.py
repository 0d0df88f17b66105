"""The funder export: counts per month that can never identify a caller (PRODUCT.md §6).

Every figure comes from :meth:`advice_desk.reports.compute.Reports.compute` over one month (or
the whole range, for the total period), so the export and the supervisor's report always agree.
Counts then pass statistical disclosure control, as in official statistics: 1 to threshold-1 is
written ``<threshold``, every other count is rounded to the nearest 5, 0 stays 0; a total is
computed from the raw data, then rounded, never summed from rounded cells. Only measures that
are not about a person leave: no worker, no durations, no free text, no exact dates.
"""

from __future__ import annotations

import calendar
import contextlib
import csv
import errno
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from advice_desk.files import atomic_files, spreadsheet_safe
from advice_desk.paths import config_dir
from advice_desk.people import audit
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, require
from advice_desk.reports.compute import Reports
from advice_desk.reports.extract import COLUMNS as EXTRACT_COLUMNS
from advice_desk.reports.extract import (
    L_DIVERSITY,
    MAX_SUPPRESSED,
    QUASI_COLUMNS,
    ExtractCancelled,
    ExtractStats,
    load_secret,
    write_rows,
)
from advice_desk.reports.figures import Report
from advice_desk.reports.measures import exported
from advice_desk.reports.output import category_cell
from advice_desk.settings import EXPORT_K, EXPORT_THRESHOLD, Settings

ROUND_TO = 5
TOTAL = "total"
SUMMARY_FILE, DICTIONARY_FILE, ROWS_FILE = "summary.csv", "data-dictionary.md", "calls.csv"
SUMMARY_COLUMNS = ("period", "measure", "category", "calls")
KEY_FILE = "export-key"  # in the config folder: this computer's export key, never in the store


def disclose(count: int, threshold: int = EXPORT_THRESHOLD.default) -> str:
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
    for measure in exported():
        if measure.breakdown:
            for category, count in sorted(report.counts(measure.key).items()):
                yield (period, measure.key, category_cell(measure.key, category),
                       disclose(count, threshold))
        else:
            figure = report.figure(measure.key)
            assert figure is not None, "only durations may be missing, and they never leave"
            yield period, measure.key, "", disclose(figure, threshold)


class ExportCancelled(Exception):
    """The user cancelled; nothing was written."""


Progress = Callable[[int, int], None]  # (steps done, steps in all)


@dataclass(frozen=True)
class ExportResult:
    files: tuple[Path, ...]
    periods: int


@dataclass(frozen=True)
class ExportChoices:
    """How much an export may tell: the disclosure threshold of the summary, the k of the
    row-level file, and the key that hashes repeat callers in it (none: no row-level file)."""

    threshold: int = EXPORT_THRESHOLD.default
    k: int = EXPORT_K.default
    rows_secret: bytes | None = None


class FunderExport(Manager):
    """The anonymised export for funders (supervisors only, audited)."""

    def choices(self, rows: bool, fresh_key: bool = False) -> ExportChoices:
        """The disclosure settings of the store and, with ``rows``, the export key of this
        computer, or a key made for this export alone (repeat callers then cannot be matched
        across exports)."""
        stored = Settings(self.store, self.actor, self.clock)
        threshold, k = stored.export_threshold(), stored.export_k()
        secret = None
        if rows:
            secret = secrets.token_bytes(32) if fresh_key else load_secret(config_dir() / KEY_FILE)
        return ExportChoices(threshold, k, secret)

    def write(self, date_from: date, date_to: date, out_dir: Path, choices: ExportChoices,
              progress: Progress | None = None,
              cancelled: Callable[[], bool] | None = None) -> ExportResult:
        """Write ``summary.csv``, ``data-dictionary.md`` and, given an export key in
        ``choices``, the row-level ``calls.csv`` into ``out_dir`` (made if it does not exist
        yet, and removed again if the export fails): all of them or none. The
        export is recorded in the audit trail. ``progress`` hears of each month counted;
        ``cancelled`` is asked between them, and a cancel raises :class:`ExportCancelled`
        before any file is written."""
        require(self.actor, Action.EXPORT)
        if date_to < date_from:
            raise ValueError(f"the period ends ({date_to}) before it starts ({date_from})")
        threshold, k, rows_secret = choices.threshold, choices.k, choices.rows_secret
        if threshold < 1:
            raise ValueError(f"the disclosure threshold must be 1 or more, not {threshold}")
        spans = [*months(date_from, date_to), (TOTAL, date_from, date_to)]
        steps = len(spans) + (1 if rows_secret is not None else 0)
        reports = Reports(self.store, self.actor, self.clock)
        periods = []
        for done, (name, first, last) in enumerate(spans):
            _stop_if(cancelled)
            periods.append((name, reports.compute(first, last)))
            if progress is not None:
                progress(done + 1, steps)
        names = [SUMMARY_FILE, DICTIONARY_FILE] + ([ROWS_FILE] if rows_secret is not None else [])
        paths = [Path(out_dir) / name for name in names]
        # Every file is written under a temporary name first: a failure in any leaves none.
        # The rows' file is written from the calls read as numbers; the dictionary, which
        # says how they were generalised, is written last.
        with made_folder(Path(out_dir)), atomic_files(*paths) as handles:
            _write_csv(handles[0], SUMMARY_COLUMNS,
                       (row for name, report in periods
                        for row in summary_rows(report, name, threshold)))
            stats: list[ExtractStats] = []
            if rows_secret is not None:
                _stop_if(cancelled)
                try:
                    stats.append(write_rows(handles[2], self.store, date_from, date_to,
                                            rows_secret, k, cancelled))
                except ExtractCancelled as stop:
                    raise ExportCancelled("the export was cancelled; nothing was written"
                                          ) from stop
                if progress is not None:
                    progress(steps, steps)
            handles[1].write(data_dictionary(date_from, date_to, threshold,
                                             k if rows_secret is not None else None,
                                             stats[0] if stats else None))
        with self.store.write() as session:
            audit.record(session, self.clock, self.actor, "export",
                         f"funder export {date_from} to {date_to}",
                         {"files": names, "threshold": threshold,
                          **({"k": k} if rows_secret is not None else {})})
        return ExportResult(tuple(paths), len(periods))


@contextlib.contextmanager
def made_folder(folder: Path) -> Iterator[None]:
    """The folder, made with its parents if it does not exist yet. Should the block fail,
    the folders made here are removed again if they are still empty, so a failed export
    leaves nothing behind; a folder that was there before is never removed."""
    made: list[Path] = []
    missing = folder
    while not missing.exists() and missing != missing.parent:
        made.append(missing)
        missing = missing.parent
    folder.mkdir(parents=True, exist_ok=True)
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
    try:
        yield
    except BaseException:
        for path in made:  # the deepest first
            with contextlib.suppress(OSError):
                path.rmdir()  # only if empty
        raise


def _stop_if(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise ExportCancelled("the export was cancelled; nothing was written")


def _write_csv(f: IO[str], header: tuple[str, ...], rows: Iterable[Iterable[str]]) -> None:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(header)
    safe: dict[str, str] = {}  # cells repeat a few category texts: each is made safe once

    def made_safe(cell: str) -> str:
        done = safe.get(cell)
        if done is None:
            done = spreadsheet_safe(cell)
            if len(safe) < 100_000:
                safe[cell] = done
        return done

    writer.writerows([made_safe(cell) for cell in row] for row in rows)


def data_dictionary(date_from: date, date_to: date, threshold: int, k: int | None,
                    stats: ExtractStats | None = None) -> str:
    measures = "\n".join(f"| `{m.key}` | {m.description} |" for m in exported())
    return f"""# Funder summary: data dictionary

Calls to the advice line from {date_from:%d %B %Y} to {date_to:%d %B %Y} (UK days).

## `{SUMMARY_FILE}`

| column | meaning |
| --- | --- |
| `period` | a calendar month `YYYY-MM` (clipped to the dates above), or `{TOTAL}` for all of them |
| `measure` | what is counted (below) |
| `category` | the code counted within a breakdown (a slot as `09:30-10:00`); empty for a figure |
| `calls` | the count after disclosure control: `0`, `<{threshold}`, or a multiple of {ROUND_TO} |

| measure | counts |
| --- | --- |
{measures}

Codes are the app's stable codes: topics `parent.child` (PRODUCT.md §3), caller types,
arrangements, outcomes and referral targets (§2), regions by name, local authorities by GSS code.
A retired code split between authorities (Cumbria E10000006, Northamptonshire E10000021, Dorset
county E10000009) keeps its own row: which successor those callers live in is not known.

## Disclosure control

- A count of 1 to {threshold - 1} is written `<{threshold}`; every other count is rounded to the
  nearest {ROUND_TO}; 0 stays `0`.
- The `{TOTAL}` period is counted from the calls themselves and then rounded: it is not the sum of
  the rounded months, and adding rounded cells will not give it.
- Nothing here names or describes a person: no caller details, no worker, no free text, no exact
  dates or times.
- Every text cell that a spreadsheet would read as a formula, or as a number, date, time,
  percentage or boolean (a code such as `2025`), begins with `'`; the app's own categories
  never need it.
""" + ("" if k is None else _rows_dictionary(k, stats))


_ROWS_MEANING = {
    "month": "month of the call (UK time), `YYYY-MM`; `YYYY-Qn` when written by quarter",
    "weekday": "day of the week, `Mon` … `Sun`, or `weekday` / `weekend`",
    "in_hours": "`yes` if the line was open when the call started",
    "duration_band": "how long the call lasted, in bands",
    "caller_type": "who called: a code as in the summary, or its family",
    "arrangement": "the child's living arrangement: a code as in the summary, or its group",
    "region": "an English region or Wales, or the nation",
    "topics": "top-level topic codes, `;`-separated",
    "outcomes": "outcome codes, `;`-separated",
    "repeat_caller": "`yes` if the caller calls more than once in this file, `no`, `unknown`",
    "children_band": "how many children the call was about, in bands",
}


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0.0%"


def _rows_dictionary(k: int, stats: ExtractStats | None) -> str:
    quasi = "`, `".join(QUASI_COLUMNS)
    text = f"""
## `{ROWS_FILE}`

One row per call with content; coarse fields only. A repeat caller is recognised by a keyed
hash of their phone number or email (the key is kept outside the store); the number itself
never leaves. `unknown`: not recorded.

The quasi-identifying columns, which together could point at a caller, are `{quasi}`
(`in_hours` too: it follows from the start time). Every combination of them appears at least
k = {k} times, and the calls of each combination have at least {L_DIVERSITY} different sets of
topics (distinct l-diversity, l = {L_DIVERSITY}). To get there each of these columns is written
at one level of detail for every row (a full-domain recoding: months, or quarters; days, or
weekday / weekend; …), chosen to lose the least detail (the loss metric of Iyengar, as in ARX:
a value standing for g of a column's n values loses (g - 1)/(n - 1); `*` loses all), the month
kept whole whenever any choice allows it. Calls of combinations that still fail are left out,
at most {MAX_SUPPRESSED:.0%} of them (each counts as losing its whole row), so this file may hold
fewer calls than the summary counts.
"""
    if stats is None:
        return text
    levels = stats.levels()
    lines = []
    for column in EXTRACT_COLUMNS:
        if column in QUASI_COLUMNS:
            h = stats.hierarchies[QUASI_COLUMNS.index(column)]
            values = ", ".join(f"`{v}`" for v in dict.fromkeys(h.levels[levels[column]].values()))
            lines.append(f"| `{column}` | {_ROWS_MEANING[column]}: {values} | "
                         f"{_percent(stats.generalised[column], stats.rows)} | "
                         f"{_percent(stats.starred[column], stats.rows)} |")
        else:
            lines.append(f"| `{column}` | {_ROWS_MEANING[column]} | not generalised | |")
    table = "\n".join(lines)
    seen = stats.rows + stats.left_out
    return text + f"""
| column | meaning and values written | rows generalised | rows `*` |
| --- | --- | --- | --- |
{table}

In this file: {stats.rows} calls; {stats.left_out} of the {seen} calls of the period left out
({_percent(stats.left_out, seen)}). What holds, counted on the rows written: every combination
appears at least {stats.smallest_class} times (k = {stats.smallest_class}), and has at least
{stats.fewest_topic_sets} different topic sets (l = {stats.fewest_topic_sets}).
""" + ("" if stats.choice.exhaustive else """
The search for the least loss stopped at its work limit (a long, busy period): the levels
above are the best it met, every rule above holds, but a choice losing less may exist.
""")
