"""The supervisor's report for a day or a range: every figure of PRODUCT §5, from SQL aggregates.

A handful of GROUP BY queries over the calls of the period do the counting; Python only adds up
the groups they return (hundreds, not calls). Days are UK days and slots are 30-minute slots of
UK time, read from the stored ``local_date``/``local_minute`` of each call.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from advice_desk.calls.topics import topic_labels
from advice_desk.files import atomic_file
from advice_desk.people.manager import Manager
from advice_desk.people.permissions import Action, require
from advice_desk.reference import lists as reference
from advice_desk.reference.hours import HoursPolicy
from advice_desk.reports.figures import Report
from advice_desk.reports.output import labeller
from advice_desk.reports.pdf import build_pdf
from advice_desk.settings import hours_policy_in
from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic, User

SLOT_MINUTES = 30
UNKNOWN = "unknown"  # the category of a call that does not say
Condition = sa.ColumnElement[bool]  # which calls a query counts


class Reports(Manager):
    """The supervisor's report: its figures for a period, and the PDF of them."""

    def compute(self, date_from: date, date_to: date) -> Report:
        """Every figure for the UK days ``date_from`` to ``date_to``, both included."""
        require(self.actor, Action.REPORT)
        if date_to < date_from:
            raise ValueError(f"the period ends ({date_to}) before it starts ({date_from})")
        report = Report(date_from, date_to)
        # A withdrawn call (a non-data call logged by mistake) is kept but never counted.
        in_period = sa.and_(col(Call.local_date).between(date_from, date_to),
                            col(Call.withdrawn_at).is_(None))
        data = sa.and_(in_period, col(Call.kind) == "data")
        with self.store.read() as session:
            policy = hours_policy_in(session)
            _count_calls(session, report, in_period)
            _count_people(session, report, data)
            _count_topics(session, report, data)
            _count_outcomes(session, report, data)
            _count_slots(session, report, in_period, policy)
            _durations(session, report, data)
            report.follow_ups_due = session.exec(  # still to do: ticked-off ones are not due
                select(sa.func.count()).where(col(Call.follow_up_on).between(date_from, date_to),
                                              col(Call.follow_up_done_at).is_(None))).one()
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


def _count_calls(session: Session, report: Report, in_period: Condition) -> None:
    reviewed = col(Call.reviewed_at).is_not(None)
    grouped = (col(Call.kind), col(Call.in_hours), col(Call.caller_type), col(Call.arrangement),
               col(Call.worker_id), col(Call.safeguarding), reviewed)
    # More columns than sqlmodel's select() is typed for: SQLAlchemy's, run on the connection.
    rows = session.connection().execute(
        sa.select(*grouped, sa.func.count()).where(in_period).group_by(*grouped)).all()
    kinds: Counter[str] = Counter()
    callers: Counter[str] = Counter()
    arrangements: Counter[str] = Counter()
    workers: Counter[int] = Counter()
    for kind, in_hours, caller, arrangement, worker_id, safeguarding, was_reviewed, n in rows:
        report.total_calls += n
        kinds[kind] += n
        if in_hours:
            report.in_hours_calls += n
        else:
            report.out_of_hours_calls += n
        workers[worker_id] += n
        if kind != "data":
            continue
        callers[caller or UNKNOWN] += n  # never empty: a call with content needs both
        arrangements[arrangement or UNKNOWN] += n
        report.safeguarding_calls += n if safeguarding else 0
        report.unreviewed_calls += 0 if was_reviewed else n
    report.data_calls = kinds.pop("data", 0)
    report.non_data_calls = sum(kinds.values())
    report.by_non_data_kind = _sorted(kinds)
    report.by_caller_type = _sorted(callers)
    report.by_arrangement = _sorted(arrangements)
    report.by_worker = _sorted(_by_worker_name(session, workers))


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


def _count_people(session: Session, report: Report, data: Condition) -> None:
    authority = col(Call.local_authority)
    rows = session.exec(select(authority, sa.func.count()).where(data)
                        .group_by(authority)).all()
    authorities = reference.any_local_authority_by_code()  # retired: its region
    places: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    for code, n in rows:
        places[code or UNKNOWN] += n
        regions[authorities[code].region if code in authorities else UNKNOWN] += n
    report.by_local_authority = _sorted(places)
    report.by_region = _sorted(regions)


def _count_topics(session: Session, report: Report, data: Condition) -> None:
    """A call counts once under each topic it names, and once under each top-level topic."""
    code, call_id = col(CallTopic.topic_code), col(CallTopic.call_id)
    rows = session.exec(select(code, sa.func.count())
                        .select_from(Call).join(CallTopic, call_id == col(Call.id))
                        .where(data).group_by(code)).all()
    report.by_subtopic = _sorted(Counter({c: n for c, n in rows if "." in c}))
    # The top-level topic is the topic's parent, named in the topic table: portable SQL, where
    # cutting the code at its dot would need a string function each engine spells its own way.
    top = sa.func.coalesce(col(Topic.parent_code), col(Topic.code))
    report.by_topic = _sorted(Counter(dict(session.exec(
        select(top, sa.func.count(sa.distinct(call_id)))
        .select_from(Call).join(CallTopic, call_id == col(Call.id))
        .join(Topic, col(Topic.code) == code)
        .where(data).group_by(top)).all())))


def _count_outcomes(session: Session, report: Report, data: Condition) -> None:
    """A call counts once per outcome, however many places it was referred to.

    Neither query names an outcome in SQL: with an ``outcome = ...`` term SQLite would walk
    every referral ever made instead of the period's calls.
    """
    outcome, call_id = col(CallOutcome.outcome), col(CallOutcome.call_id)
    target = col(CallOutcome.referred_to)
    report.by_outcome = _sorted(Counter(dict(session.exec(
        select(outcome, sa.func.count(sa.distinct(call_id)))
        .select_from(Call).join(CallOutcome, call_id == col(Call.id)).where(data)
        .group_by(outcome)).all())))
    targets = session.exec(
        select(outcome, target, sa.func.count())
        .select_from(Call).join(CallOutcome, call_id == col(Call.id)).where(data)
        .group_by(outcome, target)).all()
    report.by_referral = _sorted(Counter(
        {target: n for outcome, target, n in targets if outcome == "referred" and target}))


def opening_slots(policy: HoursPolicy) -> list[int]:
    """The starts (minutes after midnight) of the 30-minute slots any session covers."""
    slots: set[int] = set()
    for session in policy.sessions:
        start = session.opens.hour * 60 + session.opens.minute
        end = session.closes.hour * 60 + session.closes.minute
        slots.update(range(start - start % SLOT_MINUTES, end, SLOT_MINUTES))
    return sorted(slots)


def _count_slots(session: Session, report: Report, in_period: Condition,
                 policy: HoursPolicy) -> None:
    slot = col(Call.local_minute) // SLOT_MINUTES * SLOT_MINUTES
    counts = dict(session.exec(
        select(slot, sa.func.count()).where(in_period, col(Call.in_hours).is_(True))
        .group_by(slot)).all())
    report.by_slot = {f"{m // 60:02d}:{m % 60:02d}": counts.get(m, 0)
                      for m in opening_slots(policy)}


def _durations(session: Session, report: Report, data: Condition) -> None:
    """Median and 90th percentile from a histogram of durations (nearest-rank method)."""
    duration = col(Call.duration_s)
    rows = session.exec(select(duration, sa.func.count()).where(data, duration.is_not(None))
                        .group_by(duration).order_by(duration)).all()
    histogram = [(seconds, n) for seconds, n in rows if seconds is not None]
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
