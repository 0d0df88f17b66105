"""What the call history asks for and what it shows: plain data, no database.

The GUI builds a :class:`CallQuery` and pages through :class:`CallSummary` rows before (and
without) knowing how the store answers; :class:`advice_desk.calls.service.Calls` answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class CallQuery:
    """Which calls the history shows, and in what order. Dates are UK calendar days."""

    date_from: date | None = None
    date_to: date | None = None
    topic: str | None = None  # a top-level code also matches its subtopics
    worker_id: int | None = None
    unreviewed_only: bool = False
    safeguarding_only: bool = False
    started_after: datetime | None = None  # an instant: how far back a worker may look
    text: str = ""  # words the notes and caller name must hold (advice_desk.calls.search)
    sort: str = "started_at"
    descending: bool = True


@dataclass(frozen=True)
class CallSummary:
    """One row of the call history."""

    id: int
    started_at: datetime
    kind: str
    worker: str
    caller_type: str | None
    primary_topic: str | None
    outcomes: str
    duration_s: int | None
    safeguarding: bool
    follow_up_on: date | None
    reviewed: bool = False
    withdrawn: bool = False
