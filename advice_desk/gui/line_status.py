"""The status-bar indicator that always says whether the line is open.

It refreshes itself at each minute boundary (a single-shot timer, re-armed on every refresh),
and turns amber with a one-off notice ten minutes before closing. Time comes from the clock it
is given, so tests set the clock and call :meth:`LineStatusLabel.refresh`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QCoreApplication, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from advice_desk.clock import Clock
from advice_desk.reference.hours import HoursPolicy, describe_status

WARNING_BEFORE_CLOSING = timedelta(minutes=10)
WARNING_STYLE = "background: #f9a825; color: black; font-weight: bold; padding: 0 6px"


def _translate(text: str) -> str:
    return QCoreApplication.translate("LineStatus", text)


class LineStatusLabel(QLabel):
    """Emits ``closing_soon(closes_at)`` once per opening, ten minutes before it ends."""

    closing_soon = Signal(datetime)

    def __init__(self, clock: Clock, policy: HoursPolicy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.policy = policy
        self.setAccessibleName(self.tr("Line status"))
        self._warned_for: datetime | None = None
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.refresh)
        self.refresh()

    def set_policy(self, policy: HoursPolicy) -> None:
        self.policy = policy
        self.refresh()

    @property
    def warning(self) -> bool:
        return self.styleSheet() == WARNING_STYLE

    def refresh(self) -> None:
        at = self.clock.now()
        status = self.policy.status(at)
        text = describe_status(status, at, self.policy, _translate)
        self.setText(text)
        self.setAccessibleDescription(text)
        closes_at = status.closes_at
        closing_soon = closes_at is not None and closes_at - at <= WARNING_BEFORE_CLOSING
        self.setStyleSheet(WARNING_STYLE if closing_soon else "")
        if closing_soon and self._warned_for != closes_at:
            self._warned_for = closes_at
            self.closing_soon.emit(closes_at)
        seconds_into_minute = at.second + at.microsecond / 1e6
        self._timer.start(max(1000, int((60 - seconds_into_minute) * 1000)))
