"""The status-bar line that says when the database server cannot be reached, and the store-thread
side of working on meanwhile (:mod:`advice_desk.calls.offline`).

The window saves calls, its draft and non-data calls through :meth:`ServerStatus.run`, which
hands the job to the store thread with the person's :class:`~advice_desk.calls.offline.Offline`
keeper and then asks it how things stand: the line appears when the server is found gone (by
one of these jobs or by any other failing one: the store thread says so), and a probe goes to
the server every few seconds, on the store thread, until it answers; the calls kept meanwhile
are then sent and the line clears.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow

from advice_desk.gui import errors
from advice_desk.gui.taskman import Op, TaskManager
from advice_desk.people.permissions import AccountDisabled

if TYPE_CHECKING:
    from advice_desk.calls.offline import Offline, State
    from advice_desk.calls.topic_views import TopicChoice
    from advice_desk.clock import Clock
    from advice_desk.desk import Desk
    from advice_desk.paths import Location

T = TypeVar("T")
PROBE_MS = 3000  # how often a gone server is asked whether it is back
# A server that does not answer at all (its PC off) is given up after this many seconds rather
# than the system's two minutes, so the store thread is not held up; PGCONNECT_TIMEOUT set by
# whoever runs the app wins.
CONNECT_TIMEOUT_S = "5"
WARNING_STYLE = "background: #f9a825; color: black; font-weight: bold; padding: 0 6px"


class ServerStatus(QObject):
    """Emits ``sent(n)`` when calls kept on this PC have been stored (the history reloads),
    and ``refused`` while the server has refused one of them (the window puts it back in the
    form when the form is free)."""

    sent = Signal(int)
    refused = Signal()

    def __init__(self, tasks: TaskManager, window: QMainWindow) -> None:
        super().__init__(window)
        self.tasks = tasks
        self.label = QLabel(window)
        self.label.setAccessibleName(self.tr("Server status"))
        self.label.setStyleSheet(WARNING_STYLE)
        self.label.hide()
        window.statusBar().addPermanentWidget(self.label)
        self.offline: Offline | None = None
        self._desk: Desk | None = None
        self._kept = 0  # calls kept on this PC when last told, refused ones included
        self._probing = False
        self._timer = QTimer(self, interval=PROBE_MS)
        self._timer.timeout.connect(self.probe)
        tasks.server_lost.connect(self._lost)

    @property
    def text(self) -> str:
        return self.label.text() if self.label.isVisible() else ""

    def attach(self, desk: Desk, location: Location, clock: Clock) -> None:
        """At sign-in: the keeper of this person's work for this store."""
        from advice_desk.calls.offline import Offline

        os.environ.setdefault("PGCONNECT_TIMEOUT", CONNECT_TIMEOUT_S)
        assert desk.actor.id is not None, "a signed-in person's"
        self.offline, self._desk = Offline(location, desk.actor.id, clock), desk
        self.tasks.keeps_work_offline = True

    def set_topics(self, topics: list[TopicChoice]) -> None:
        """The active topics, which a call kept on this PC is checked against."""
        if self.offline is not None:
            self.offline.topics = frozenset(t.code for t in topics if not t.retired)

    def detach(self) -> None:
        """At sign-out: the next person's work is theirs (what this one kept here waits for
        their next sign-in)."""
        self._timer.stop()
        self.offline = self._desk = None
        self._kept = 0
        self._show(None)

    def run(self, job: Callable[[Offline], T]) -> Op[T]:
        """``job`` on the store thread with the keeper; then the line says how things stand."""
        offline = self.offline
        assert offline is not None, "signed in"
        op = self.tasks.run(lambda: job(offline))
        self.refresh()
        return op

    def refresh(self) -> None:
        offline = self.offline
        if offline is not None:
            self.tasks.run(offline.state).success(lambda state: self._told(offline, state))

    def probe(self) -> None:
        """Is the server back? If so the kept calls go (on the store thread)."""
        offline, desk = self.offline, self._desk
        if offline is None or desk is None or self._probing:
            return
        self._probing = True
        self.tasks.run(lambda: offline.reconnect(desk)).success(
            lambda state: self._probed(offline, state)).failure(self._probe_failed)

    def _probed(self, offline: Offline, state: State) -> None:
        self._probing = False
        self._told(offline, state)

    def _told(self, offline: Offline, state: State) -> None:
        if offline is self.offline:  # not the state of whoever signed out meanwhile
            self._show(state)

    def _probe_failed(self, error: BaseException) -> None:
        """Said once: the probes stop until the server is found gone again."""
        self._probing = False
        self._timer.stop()
        if not isinstance(error, AccountDisabled):  # the window locks itself
            errors.show_failure(self.label, error)

    def _lost(self) -> None:
        if self.offline is not None:
            self.offline.reachable = False
            self.refresh()

    def _show(self, state: State | None) -> None:
        kept = 0 if state is None else state.waiting + len(state.refused)
        if state is not None and kept < self._kept:
            self.sent.emit(self._kept - kept)  # only a call stored leaves the outbox
        self._kept = kept
        if state is None:
            self.label.hide()
            return
        if not state.reachable:
            text = self.tr("Server cannot be reached: calls are kept on this PC and sent "
                           "later")
            if state.waiting:
                text += self.tr(" ({0} kept)").format(state.waiting)
        elif state.refused:
            text = (self.tr("The server refused a call kept on this PC: {0}").format(
                state.refused[0]) if len(state.refused) == 1 else
                self.tr("The server refused {0} calls kept on this PC: {1}").format(
                    len(state.refused), state.refused[0]))
        else:
            text = ""
        if state.reachable and not state.waiting:
            self._timer.stop()
        elif not self._timer.isActive():
            self._timer.start()
        self.label.setText(text)
        self.label.setAccessibleDescription(text)
        self.label.setToolTip(self.tr(
            "The database server cannot be reached. Go on logging calls: each one is kept on "
            "this PC and sent, once, as soon as the server answers again.")
            if not state.reachable else text)
        self.label.setVisible(bool(text))
        if state.refused:
            self.refused.emit()
