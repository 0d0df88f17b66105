"""Noticing that nobody has touched the app for a while, and locking it until they come back.

An application-wide event filter notes the time of every key press and mouse action (from the
clock it is given); a timer asks every few seconds whether the limit has passed. Tests move the
clock and call :meth:`IdleWatch.check` instead of waiting. :class:`ScreenLock` hides every
window of the app (calls' data) until the person who was signed in gives their password again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from advice_desk.clock import Clock
from advice_desk.gui.sign_in import SignInDialog
from advice_desk.gui.taskman import TaskManager

if TYPE_CHECKING:
    from advice_desk.desk import Desk

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
        self._watching = False

    def start(self) -> None:
        """Watch from now on (after each sign-in or unlock)."""
        if not self._watching:  # not before: it sees every event, the window's building too
            app = QApplication.instance()
            assert app is not None
            app.installEventFilter(self)
            self._watching = True
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


class ScreenLock(QObject):
    """Emits ``unlocked`` when the same person has signed in again; ``dialog`` asks them."""

    unlocked = Signal()

    def __init__(self, tasks: TaskManager, window: QMainWindow) -> None:
        super().__init__(window)
        self.tasks, self.window = tasks, window
        self.dialog: SignInDialog | None = None
        self._hidden: list[QWidget] = []

    @property
    def locked(self) -> bool:
        return self.dialog is not None

    def lock(self, desk: Desk) -> None:
        """Hide what the window shows and the app's other windows (reports, reviews,
        follow-ups): calls' data, for nobody's eyes while the desk is left."""
        windows = [w for w in self.window.findChildren(QWidget) if w.isWindow() and w.isVisible()]
        self._hidden = [w for w in (self.window.centralWidget(), *windows) if w is not None]
        for widget in self._hidden:
            widget.hide()
        def unlock(username: str, password: str) -> Desk:
            desk.users.unlock(username, password)
            return desk

        self.dialog = SignInDialog(self.tasks, unlock, self.window,
                                   locked_as=desk.actor.username)
        self.dialog.done_with.connect(self._unlocked)
        self.dialog.open()

    def _unlocked(self, _: Desk) -> None:
        self.dialog = None
        for widget in self._hidden:
            widget.show()
        self._hidden = []
        self.unlocked.emit()
