"""Every measure of the report, written once: the text, JSON, CSV and PDF outputs, the report
window and the funder export all read this list, so a title or a description has one home.

The list is in the order a supervisor reads the report: the single figures (their order is
also the order of the stored :class:`~advice_desk.reports.figures.Report`), then the
breakdowns. Only measures that are not about a person are exported to funders: no worker, no
durations, no follow-ups or reviews, which describe staff or casework rather than the calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Unit(Enum):
    """What a single figure counts, which decides how it is shown."""

    CALLS = "calls"
    SECONDS = "seconds"  # shown in minutes


class Codes(Enum):
    """The list whose labels name the categories of a breakdown; without one, the category is
    shown as it is stored (a region, a worker, a slot)."""

    TOPICS = "topics"
    CALLER_TYPES = "caller types"
    ARRANGEMENTS = "arrangements"
    OUTCOMES = "outcomes"
    REFERRAL_TARGETS = "referral targets"
    NON_DATA_KINDS = "non-data kinds"
    LOCAL_AUTHORITIES = "local authorities"


@dataclass(frozen=True)
class Chart:
    """A breakdown drawn as a bar chart, in the report window and the PDF alike."""

    title: str
    position: int  # charts are drawn in this order
    vertical: bool = False  # upright bars, for a breakdown read left to right (time of day)


@dataclass(frozen=True)
class Measure:
    key: str  # the attribute of Report, the JSON key and the CSV/export measure name
    title: str  # as the report shows it to people
    description: str  # what it counts, as the funders' data dictionary says it
    breakdown: bool = False  # counts by category (a dict) rather than one figure
    exported: bool = False  # may leave the charity in the funder export
    unit: Unit = Unit.CALLS
    codes: Codes | None = None
    chart: Chart | None = None


MEASURES: tuple[Measure, ...] = (
    Measure("total_calls", "Total calls", "all calls, with content or not", exported=True),
    Measure("data_calls", "Calls with content",
            "calls with content (a caller asked about something)", exported=True),
    Measure("non_data_calls", "Non-data calls",
            "silent calls, hang-ups, wrong numbers, abusive and test calls", exported=True),
    Measure("in_hours_calls", "In hours", "calls that started while the line was open",
            exported=True),
    Measure("out_of_hours_calls", "Out of hours", "calls that started while the line was closed",
            exported=True),
    Measure("duration_median_s", "Median duration", "median duration of calls with content",
            unit=Unit.SECONDS),
    Measure("duration_p90_s", "90th percentile duration",
            "90th percentile of the durations of calls with content", unit=Unit.SECONDS),
    Measure("follow_ups_due", "Follow-ups due",
            "follow-ups due on a day of the period and not yet done"),
    Measure("safeguarding_calls", "Safeguarding calls",
            "calls with content flagged for safeguarding", exported=True),
    Measure("unreviewed_calls", "Calls not yet reviewed",
            "calls with content a supervisor has not reviewed"),
    Measure("by_topic", "Calls by topic",
            "calls with content naming each top-level topic (a call counts once per topic)",
            breakdown=True, exported=True, codes=Codes.TOPICS,
            chart=Chart("Calls by topic", position=1)),
    Measure("by_subtopic", "Calls by subtopic", "calls with content naming each subtopic",
            breakdown=True, exported=True, codes=Codes.TOPICS),
    Measure("by_caller_type", "Calls by caller type", "calls with content by who called",
            breakdown=True, exported=True, codes=Codes.CALLER_TYPES),
    Measure("by_arrangement", "Calls by arrangement",
            "calls with content by the child's legal arrangement",
            breakdown=True, exported=True, codes=Codes.ARRANGEMENTS),
    Measure("by_region", "Calls by region",
            "calls with content by region (9 English regions and Wales)",
            breakdown=True, exported=True),
    Measure("by_local_authority", "Calls by local authority",
            "calls with content by local authority (GSS code)",
            breakdown=True, exported=True, codes=Codes.LOCAL_AUTHORITIES),
    Measure("by_outcome", "Calls by outcome",
            "calls with content by outcome (a call counts once per outcome)",
            breakdown=True, exported=True, codes=Codes.OUTCOMES,
            chart=Chart("Outcomes", position=3)),
    Measure("by_referral", "Referrals", "referrals by where the caller was referred",
            breakdown=True, exported=True, codes=Codes.REFERRAL_TARGETS),
    Measure("by_worker", "Calls by worker", "all calls by the worker who logged them",
            breakdown=True),
    Measure("by_slot", "Calls per 30 minutes of opening",
            "calls in hours by 30-minute slot of UK time (start of the slot)",
            breakdown=True, exported=True,
            chart=Chart("Calls per 30 minutes", position=2, vertical=True)),
    Measure("by_non_data_kind", "Non-data calls", "non-data calls by kind",
            breakdown=True, exported=True, codes=Codes.NON_DATA_KINDS),
)
NON_DATA_KINDS = "by_non_data_kind"


def single_figures() -> tuple[Measure, ...]:
    return tuple(m for m in MEASURES if not m.breakdown)


def breakdowns() -> tuple[Measure, ...]:
    return tuple(m for m in MEASURES if m.breakdown)


def charts() -> tuple[tuple[Measure, Chart], ...]:
    """The charted breakdowns with their charts, in the order they are drawn."""
    charted = [(m, m.chart) for m in MEASURES if m.chart is not None]
    return tuple(sorted(charted, key=lambda pair: pair[1].position))


def exported() -> tuple[Measure, ...]:
    """The measures that may leave, in the order of the export files: the single figures,
    then the kinds of non-data call (which complete those figures), then the breakdowns of
    the calls themselves."""
    allowed = [m for m in MEASURES if m.exported]
    return (tuple(m for m in allowed if not m.breakdown)
            + tuple(m for m in allowed if m.key == NON_DATA_KINDS)
            + tuple(m for m in allowed if m.breakdown and m.key != NON_DATA_KINDS))
