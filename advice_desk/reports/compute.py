"""The supervisor's report for a day or a range: every figure of PRODUCT §5, from the rollup.

The figures engine (:mod:`advice_desk.figures.rollup`) keeps the calls of each UK day and month
by measure and category; a report adds up the rows of its period (a year: twelve months), never
the calls. Days are UK days and slots are 30-minute slots of UK time.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from advice_desk.calls.topics import topic_labels
from advice_desk.figures import rollup
from advice_desk.files import atomic_file
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, require
from advice_desk.reference import lists as reference
from advice_desk.reference.hours import HoursPolicy
from advice_desk.reports.figures import Report
from advice_desk.reports.output import labeller
from advice_desk.reports.pdf import build_pdf
from advice_desk.settings import hours_policy_in
from advice_desk.store.models import User

SLOT_MINUTES = 30
UNKNOWN = "unknown"  # the category of a call that does not say


class Reports(Manager):
    """The supervisor's report: its figures for a period, and the PDF of them."""

    def compute(self, date_from: date, date_to: date) -> Report:
        """Every figure for the UK days ``date_from`` to ``date_to``, both included."""
        require(self.actor, Action.REPORT)
        if date_to < date_from:
            raise ValueError(f"the period ends ({date_to}) before it starts ({date_from})")
        report = Report(date_from, date_to)
        with self.store.read() as session:
            policy = hours_policy_in(session)
            connection = session.connection()
            counts, histogram = rollup.read(connection, date_from, date_to)
            _fill(session, report, counts, policy)
            _durations(report, histogram)
        return report

    def for_period(self, date_from: date, date_to: date) -> tuple[Report, dict[str, str]]:
        """The figures for a period, with the labels of the topics they name."""
        report = self.compute(date_from, date_to)  # the permission is checked first
        return report, topic_labels(self.store)

    def save_pdf(self, report: Report, labels: dict[str, str], path: Path) -> None:
        """The report and its charts as a PDF file, written whole or not at all."""
        with atomic_file(path, "wb") as f:
            build_pdf(report, labeller(labels), f)


def _sorted(counter: Counter[str]) -> dict[str, int]:
    """Largest first, then by name: the order a reader scans."""
    return dict(sorted(((k, v) for k, v in counter.items() if v), key=lambda kv: (-kv[1], kv[0])))


def _fill(session: Session, report: Report, counts: rollup.Counts, policy: HoursPolicy
          ) -> None:
    """The report's counts from the rollup's sums over the period."""
    def of(measure: str) -> Counter[str]:
        return counts.get(measure, Counter())

    kinds = Counter(of(rollup.KIND))
    report.total_calls = sum(kinds.values())
    report.data_calls = kinds.pop("data", 0)
    report.non_data_calls = sum(kinds.values())
    report.by_non_data_kind = _sorted(kinds)
    report.in_hours_calls = of(rollup.IN_HOURS)[rollup.YES]
    report.out_of_hours_calls = of(rollup.IN_HOURS)[rollup.NO]
    report.by_caller_type = _sorted(of(rollup.CALLER_TYPE))
    report.by_arrangement = _sorted(of(rollup.ARRANGEMENT))
    report.safeguarding_calls = of(rollup.SAFEGUARDING)[rollup.YES]
    report.unreviewed_calls = of(rollup.UNREVIEWED)[rollup.YES]
    # Still to do: ticked-off follow-ups are not due.
    report.follow_ups_due = of(rollup.FOLLOW_UP_DUE)[rollup.YES]
    report.by_worker = _sorted(_by_worker_name(session, Counter(
        {int(worker): n for worker, n in of(rollup.WORKER).items()})))
    places = of(rollup.LOCAL_AUTHORITY)
    authorities = reference.any_local_authority_by_code()  # retired: its region
    regions: Counter[str] = Counter()
    for code, n in places.items():
        regions[authorities[code].region if code in authorities else UNKNOWN] += n
    report.by_local_authority = _sorted(places)
    report.by_region = _sorted(regions)
    report.by_subtopic = _sorted(Counter(
        {code: n for code, n in of(rollup.TOPIC).items() if "." in code}))
    report.by_topic = _sorted(of(rollup.TOP_TOPIC))
    report.by_outcome = _sorted(of(rollup.OUTCOME))
    report.by_referral = _sorted(of(rollup.REFERRAL))
    slots = of(rollup.SLOT)
    report.by_slot = {label: slots[label] for label in
                      (rollup.slot_of(m) for m in opening_slots(policy))}


def _by_worker_name(session: Session, counts: Counter[int]) -> Counter[str]:
    """Counts by the name people know a worker by; two workers who share a name are told
    apart by their user names, never added together."""
    users = {u.id: u for u in session.exec(select(User)).all()}
    shared = Counter(u.display_name for u in users.values())
    named: Counter[str] = Counter()
    for worker_id, n in counts.items():
        user = users.get(worker_id)
        if user is None:
            named[str(worker_id)] += n
        elif shared[user.display_name] > 1:
            named[f"{user.display_name} ({user.username})"] += n
        else:
            named[user.display_name] += n
    return named


def opening_slots(policy: HoursPolicy) -> list[int]:
    """The starts (minutes after midnight) of the 30-minute slots any session covers."""
    slots: set[int] = set()
    for session in policy.sessions:
        start = session.opens.hour * 60 + session.opens.minute
        end = session.closes.hour * 60 + session.closes.minute
        slots.update(range(start - start % SLOT_MINUTES, end, SLOT_MINUTES))
    return sorted(slots)


def _durations(report: Report, histogram: list[tuple[int, int]]) -> None:
    """Median and 90th percentile from the histogram of durations (nearest-rank method)."""
    total = sum(n for _, n in histogram)
    if not total:
        return
    report.duration_median_s = _nearest_rank(histogram, total, 50)
    report.duration_p90_s = _nearest_rank(histogram, total, 90)


def _nearest_rank(histogram: list[tuple[int, int]], total: int, percent: int) -> int:
    rank = max(1, -(-percent * total // 100))  # ceil(percent% of total), in whole numbers
    seen = 0
    for value, n in histogram:
        seen += n
        if seen >= rank:
            return value
    return histogram[-1][0]
