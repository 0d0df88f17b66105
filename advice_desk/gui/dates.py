"""Dates, times and durations as every window shows them, and dates between Python and Qt's
date widgets: written once, so a call reads the same in the history, Review, Call details,
Follow-ups and the Earlier calls panel."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QCoreApplication, QDate

from advice_desk.clock import to_uk


def to_qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def from_qdate(qdate: QDate) -> date:
    return date(qdate.year(), qdate.month(), qdate.day())


def shown_date(day: date, this_year: int | None = None) -> str:
    """A day with its weekday and year, "Tue 01 Dec 2026": a call or follow-up from last
    December never reads like one from this week. A narrow column passes ``this_year``: a
    day of this year is then shown without it ("Tue 01 Dec")."""
    return f"{day:%a %d %b}" if day.year == this_year else f"{day:%a %d %b %Y}"


def shown_date_time(at: datetime, this_year: int | None = None) -> str:
    """A moment (stored in UTC) as London's date and time, "Tue 01 Dec 2026 14:22" (without
    the year when it is ``this_year``)."""
    local = to_uk(at)
    return f"{shown_date(local.date(), this_year)} {local:%H:%M}"


def short_date(day: date, this_year: int | None = None) -> str:
    """A day in a few characters, "05 Dec" this year and "05 Dec 2025" before."""
    return f"{day:%d %b}" if day.year == this_year else f"{day:%d %b %Y}"


def whole_minutes(seconds: float) -> int:
    """A duration in the whole minutes the form takes and shows: 21 min 40 s is 21 min."""
    return int(seconds) // 60


def minutes_text(seconds: float | None) -> str:
    """A duration as shown everywhere ("21 min"), or "" when there is none."""
    if seconds is None:
        return ""
    return QCoreApplication.translate("dates", "{0} min").format(whole_minutes(seconds))
