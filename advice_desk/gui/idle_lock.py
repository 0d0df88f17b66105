"""Noticing that nobody has touched the app for a while, so it can lock itself.

An application-wide event filter notes the time of every key press and mouse action (from the
clock it is given); a timer asks every few seconds whether the limit has passed. Tests move the
clock and call :meth:`IdleWatch.check` instead of waiting.
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from advice_desk.clock import Clock

CHECK_EVERY_MS = 5_000
ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
            QEvent.Type.Wheel, QEvent.Type.TouchBegin}


class IdleWatch(QObject):
    idle = Signal()

    def __init__(self, clock: Clock, limit: timedelta, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.limit = limit
        self._last_activity = clock.now()
        self._armed = False
        self._timer = QTimer(self, interval=CHECK_EVERY_MS)
        self._timer.timeout.connect(self.check)
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)

    def start(self) -> None:
        """Watch from now on (after each sign-in or unlock)."""
        self._last_activity = self.clock.now()
        self._armed = True
        self._timer.start()

    def stop(self) -> None:
        self._armed = False
        self._timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY:
            self._last_activity = self.clock.now()
        return False

    def check(self) -> None:
        if self._armed and self.clock.now() - self._last_activity >= self.limit:
            self.stop()
            self.idle.emit()
