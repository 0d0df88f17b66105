"""The supervisor's report for a day or a range: every figure of PRODUCT §5, from SQL aggregates.

A handful of GROUP BY queries over the calls of the period do the counting; Python only adds up
the groups they return (hundreds, not calls). Days are UK days and slots are 30-minute slots of
UK time, read from the stored ``local_date``/``local_minute`` of each call.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from advice_desk.people.permissions import Action, Actor, require
from advice_desk.reference import lists as reference
from advice_desk.reference.hours import HoursPolicy
from advice_desk.settings import hours_policy_in
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, CallOutcome, CallTopic, User

SLOT_MINUTES = 30


@dataclass
class Report:
    date_from: date
    date_to: date
    total_calls: int = 0
    data_calls: int = 0
    non_data_calls: int = 0
    in_hours_calls: int = 0
    out_of_hours_calls: int = 0
    by_non_data_kind: dict[str, int] = field(default_factory=dict)
    by_topic: dict[str, int] = field(default_factory=dict)
    by_subtopic: dict[str, int] = field(default_factory=dict)
    by_caller_type: dict[str, int] = field(default_factory=dict)
    by_arrangement: dict[str, int] = field(default_factory=dict)
    by_local_authority: dict[str, int] = field(default_factory=dict)
    by_region: dict[str, int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_referral: dict[str, int] = field(default_factory=dict)
    by_worker: dict[str, int] = field(default_factory=dict)
    by_slot: dict[str, int] = field(default_factory=dict)
    duration_median_s: int | None = None
    duration_p90_s: int | None = None
    follow_ups_due: int = 0
    safeguarding_calls: int = 0
    unreviewed_calls: int = 0

    def as_json(self) -> dict[str, Any]:
        data = {name: value for name, value in vars(self).items()
                if name not in ("date_from", "date_to")}
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), **data}


def compute_report(store: Store, actor: Actor, date_from: date, date_to: date) -> Report:
    """Every figure for the UK days ``date_from`` to ``date_to``, both included."""
    require(actor, Action.REPORT)
    if date_to < date_from:
        raise ValueError(f"the period ends ({date_to}) before it starts ({date_from})")
    report = Report(date_from, date_to)
    in_period = col(Call.local_date).between(date_from, date_to)
    data = sa.and_(in_period, Call.kind == "data")
    with store.read() as session:
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


def _sorted(counter: Counter[str]) -> dict[str, int]:
    """Largest first, then by name: the order a reader scans."""
    return dict(sorted(((k, v) for k, v in counter.items() if v), key=lambda kv: (-kv[1], kv[0])))


def _count_calls(session: Session, report: Report, in_period: Any) -> None:
    reviewed = col(Call.reviewed_at).is_not(None)
    rows = session.exec(
        select(Call.kind, Call.in_hours, Call.caller_type, Call.arrangement, Call.worker_id,
               Call.safeguarding, reviewed, sa.func.count())
        .where(in_period)
        .group_by(Call.kind, Call.in_hours, Call.caller_type, Call.arrangement, Call.worker_id,
                  Call.safeguarding, reviewed)).all()
    kinds, callers, arrangements, workers = Counter(), Counter(), Counter(), Counter()
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
        callers[caller] += n
        arrangements[arrangement] += n
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


def _count_people(session: Session, report: Report, data: Any) -> None:
    rows = session.exec(select(Call.local_authority, sa.func.count()).where(data)
                        .group_by(Call.local_authority)).all()
    authorities = reference.local_authority_by_code()
    places, regions = Counter(), Counter()
    for code, n in rows:
        places[code or "unknown"] += n
        regions[authorities[code].region if code in authorities else "unknown"] += n
    report.by_local_authority = _sorted(places)
    report.by_region = _sorted(regions)


def _count_topics(session: Session, report: Report, data: Any) -> None:
    """A call counts once under each topic it names, and once under each top-level topic."""
    rows = session.exec(select(CallTopic.topic_code, sa.func.count())
                        .select_from(Call).join(CallTopic, col(CallTopic.call_id) == Call.id)
                        .where(data).group_by(CallTopic.topic_code)).all()
    report.by_subtopic = _sorted(Counter({code: n for code, n in rows if "." in code}))
    top = sa.case((col(CallTopic.topic_code).contains("."),
                   sa.func.substr(CallTopic.topic_code, 1,
                                  sa.func.instr(CallTopic.topic_code, ".") - 1)),
                  else_=CallTopic.topic_code)
    report.by_topic = _sorted(Counter(dict(session.exec(
        select(top, sa.func.count(sa.distinct(CallTopic.call_id)))
        .select_from(Call).join(CallTopic, col(CallTopic.call_id) == Call.id)
        .where(data).group_by(top)).all())))


def _count_outcomes(session: Session, report: Report, data: Any) -> None:
    """A call counts once per outcome, however many places it was referred to.

    Neither query names an outcome in SQL: with an ``outcome = ...`` term SQLite would walk
    every referral ever made instead of the period's calls.
    """
    def outcomes_of_calls(*columns: Any) -> Any:
        return (select(*columns).select_from(Call)
                .join(CallOutcome, col(CallOutcome.call_id) == Call.id).where(data))

    report.by_outcome = _sorted(Counter(dict(session.exec(
        outcomes_of_calls(CallOutcome.outcome, sa.func.count(sa.distinct(CallOutcome.call_id)))
        .group_by(CallOutcome.outcome)).all())))
    targets = session.exec(
        outcomes_of_calls(CallOutcome.outcome, CallOutcome.referred_to, sa.func.count())
        .group_by(CallOutcome.outcome, CallOutcome.referred_to)).all()
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


def _count_slots(session: Session, report: Report, in_period: Any, policy: HoursPolicy) -> None:
    slot = col(Call.local_minute) // SLOT_MINUTES * SLOT_MINUTES
    counts = dict(session.exec(
        select(slot, sa.func.count()).where(in_period, col(Call.in_hours).is_(True))
        .group_by(slot)).all())
    report.by_slot = {f"{m // 60:02d}:{m % 60:02d}": counts.get(m, 0)
                      for m in opening_slots(policy)}


def _durations(session: Session, report: Report, data: Any) -> None:
    """Median and 90th percentile from a histogram of durations (nearest-rank method)."""
    histogram = session.exec(
        select(Call.duration_s, sa.func.count())
        .where(data, col(Call.duration_s).is_not(None))
        .group_by(Call.duration_s).order_by(Call.duration_s)).all()
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
