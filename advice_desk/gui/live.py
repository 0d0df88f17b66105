"""Live desks: what other seats save shows here within a second or two, and the status bar says
how many seats are signed in.

A :class:`LiveDesk` runs the store's :class:`~advice_desk.store.changes.ChangeListener` on a
thread of its own (not the store thread, which it would block, and never touching a widget):
the changes it hears cross to the GUI thread as a Qt signal, where a burst (an import of 20,000
calls commits many times) is folded into one ``changed`` at most every :data:`FOLD_MS`; the
history, the review list and the follow-ups then bring the rows they hold up to date
(:meth:`advice_desk.gui.paged_model.PagedTableModel.refresh`), never reloading them whole.

When the server cannot be reached the thread tries again every :data:`RETRY_S` seconds, and
once it is back says everything may have changed (what was committed meanwhile was not heard).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

if TYPE_CHECKING:
    from advice_desk.store.changes import Change, ChangeListener
    from advice_desk.store.engine import Store

FOLD_MS = 250  # changes heard within this of the first are shown together
WAIT_S = 1.0  # each turn of the listening thread: how soon a sign-in or a stop is seen
SEATS_EVERY_S = 2.0
RETRY_S = 2.0


class LiveDesk(QObject):
    """Emits ``changed`` (the folded :class:`Change`) on the GUI thread after other seats'
    commits, and ``seats_changed`` (a count, or None on SQLite) when the signed-in seats of
    the database change."""

    changed = Signal(object)
    seats_changed = Signal(object)
    _heard = Signal(object)  # from the listening thread
    _counted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._listener: ChangeListener | None = None
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self._folded: set[str] = set()
        self._unknown = False  # a change heard without its tables (SQLite, a reconnection)
        self._timer = QTimer(self, singleShot=True, interval=FOLD_MS)
        self._timer.timeout.connect(self._emit)
        self._heard.connect(self._fold)
        self._counted.connect(self.seats_changed)

    def start(self, store: Store) -> None:
        """Listen to ``store`` (once; a later call for the same store does nothing)."""
        if self._store is store:
            return
        self.stop()
        from advice_desk.store.changes import ChangeListener

        self._store = store
        listener = self._listener = ChangeListener(store)
        self._thread = threading.Thread(target=self._listen, args=(listener,),
                                        name="advice-desk-live", daemon=True)
        self._thread.start()

    def sign_in(self) -> None:
        if self._listener is not None:
            self._listener.sign_in()

    def sign_out(self) -> None:
        if self._listener is not None:
            self._listener.sign_out()

    def stop(self) -> None:
        """Stop listening; the thread's connection (and so its seat) closes within a second."""
        listener, thread = self._listener, self._thread
        self._listener = self._thread = self._store = None
        self._timer.stop()
        if listener is not None:
            listener.stop()
        if thread is not None:
            thread.join(timeout=2 * WAIT_S)

    # --- the listening thread: no widget, no store session ---------------------------------

    def _listen(self, listener: ChangeListener) -> None:
        from advice_desk.store.changes import Change

        seats: int | None = -1
        next_count = 0.0
        lost = False
        while not listener.stopped:
            try:
                if lost:
                    listener.open()
                    self._heard.emit(Change())  # what was committed meanwhile went unheard
                    lost = False
                change = listener.wait(WAIT_S)
                if change is not None:
                    self._heard.emit(change)
                if change is not None or time.monotonic() >= next_count:
                    counted = listener.seats()
                    next_count = time.monotonic() + SEATS_EVERY_S
                    if counted != seats:
                        seats = counted
                        self._counted.emit(counted)
            except Exception:  # the server went away: try again, quietly
                listener.close()
                lost = True
                if seats is not None and seats >= 0:
                    seats = -1
                    self._counted.emit(None)
                listener.rest(RETRY_S)
        listener.close()

    # --- the GUI thread ---------------------------------------------------------------------

    def _fold(self, change: Change) -> None:
        if self._listener is None:
            return  # heard just before a stop
        if change.tables:
            self._folded |= change.tables
        else:
            self._unknown = True
        if not self._timer.isActive():
            self._timer.start()

    def _emit(self) -> None:
        from advice_desk.store.changes import Change

        change = Change(frozenset() if self._unknown else frozenset(self._folded))
        self._folded, self._unknown = set(), False
        self.changed.emit(change)


class SeatsLabel(QLabel):
    """The status bar's "3 seats signed in" (nothing on SQLite: one PC)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hide()

    def show_seats(self, seats: int | None) -> None:
        if seats is None or seats < 1:
            self.clear()
            self.hide()
            return
        text = (self.tr("1 seat signed in") if seats == 1 else
                self.tr("{0} seats signed in").format(seats))
        self.setText(text)
        self.setAccessibleName(text)
        self.show()
