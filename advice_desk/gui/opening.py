"""Opening the store after the window has painted, and asking who is at the desk.

The store opens on the store thread while the worker can already start typing; opening runs
SQLite's quick check (about a second on a million calls), and as the store thread does one job
at a time, nothing can be saved before it has passed. A new store asks for its first
supervisor, any other for a sign-in; closing that dialog closes the app, as there is nothing to
do for nobody. Once someone has signed in, ``signed_in(desk)`` says who, and the retention
policy erases what has been kept long enough (at every start).

Once a day the full integrity check runs on a thread of its own (with its own read-only
connection, so saves never wait for it). A store that cannot be opened (damaged, read-only, on
a network drive, not a store), or fails the full check, stops the desk: ``stopped`` asks the
window to close the form, so nobody types a call that cannot be saved, and a message says why
and what to do (which backup to restore).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox

from advice_desk.clock import Clock
from advice_desk.gui import errors
from advice_desk.gui.sign_in import FirstSupervisorDialog, SignInDialog
from advice_desk.gui.taskman import TaskManager
from advice_desk.paths import Location
from advice_desk.store.errors import Notice

if TYPE_CHECKING:
    from advice_desk.desk import Desk, Reception
    from advice_desk.store.integrity import CheckResult, FullCheck

FULL_CHECK_POLL_MS = 3600 * 1000  # while the app runs, hourly: is the daily full check due?


def is_read_only(error: BaseException) -> bool:
    from advice_desk.store.errors import StoreReadOnly

    return isinstance(error, StoreReadOnly)


def _open_reception(location: Location, clock: Clock) -> tuple[Reception, bool]:
    # Imported here, on the store thread, after the first paint: SQLModel is slow to import.
    from advice_desk.desk import open_reception

    reception = open_reception(location, clock)
    return reception, reception.needs_first_supervisor()


class DeskOpening(QObject):
    """The way from a painted window to a signed-in desk; ``dialog`` is the question shown."""

    signed_in = Signal(object)  # the Desk of whoever signed in
    stopped = Signal()  # the store cannot be used: nothing more may be typed or saved

    def __init__(self, tasks: TaskManager, location: Location, clock: Clock,
                 window: QMainWindow) -> None:
        super().__init__(window)
        self.tasks, self.location, self.clock, self.window = tasks, location, clock, window
        self.reception: Reception | None = None
        self.dialog: SignInDialog | FirstSupervisorDialog | None = None
        self.failure: QMessageBox | None = None
        self.is_stopped = False
        # The daily full check's own thread: the store thread's saves never wait for it.
        self.checks = TaskManager(window)
        self._full_check: FullCheck | None = None
        self._checking = False
        # An app left running for days checks its store daily too.
        self.check_timer = QTimer(self, interval=FULL_CHECK_POLL_MS)
        self.check_timer.timeout.connect(self._start_full_check)

    def start(self) -> None:
        location, clock = self.location, self.clock
        self.tasks.run(lambda: _open_reception(location, clock)).success(
            self._opened).failure(self._failed)

    def _opened(self, opened: tuple[Reception, bool]) -> None:
        self.reception, needs_supervisor = opened
        self._start_full_check()
        if needs_supervisor:
            dialog: SignInDialog | FirstSupervisorDialog = FirstSupervisorDialog(
                self.tasks, self.reception.create_first_supervisor, self.window)
            message = self.tr("Create the first supervisor.")
        else:
            dialog = SignInDialog(self.tasks, self.reception.sign_in, self.window)
            message = self.tr("Sign in to log calls.")
        dialog.rejected.connect(self.window.close)
        dialog.done_with.connect(self._signed_in)
        notices = [self._notice_text(notice) for notice in self.reception.store.notices]
        self.reception.store.notices.clear()  # said once
        self.window.statusBar().showMessage(" ".join([*notices, message]))
        self.dialog = dialog
        dialog.open()

    def sign_in_again(self) -> None:
        """After a sign-out: the sign-in dialog again, on the store already open."""
        if self.reception is not None:
            self._opened((self.reception, False))

    def _signed_in(self, desk: Desk) -> None:
        self.dialog = None
        if self.is_stopped:  # the full check failed while the dialog was open
            return
        self.signed_in.emit(desk)
        assert self.reception is not None
        self.tasks.run(self.reception.apply_retention).success(self._retention_done)

    def _retention_done(self, erased: int) -> None:
        if erased:
            self.window.statusBar().showMessage(self.tr(
                "The personal details of {0} old calls were erased, as the retention policy "
                "asks.").format(erased), 10_000)

    def _notice_text(self, notice: Notice) -> str:
        if notice == Notice.MODES_TIGHTENED:
            return self.tr("The store's files could be read by other accounts on this PC; "
                           "they are now readable by this account alone.")
        return str(notice)

    def _failed(self, error: BaseException) -> None:
        if is_read_only(error):
            status = self.tr("The store is read-only for this account: calls cannot be saved.")
        else:
            status = self.tr("The store could not be opened: calls cannot be saved.")
        self._stop(self.tr("Advice Desk cannot open its store"), status,
                   errors.sentence(errors.describe(error)))

    def _start_full_check(self) -> None:
        """The full check, when it is due (on its own thread); not while one runs, while the
        store is closed (a restore) or once the desk has stopped."""
        self.check_timer.start()
        if self._checking or self.is_stopped or self.reception is None:
            return
        from advice_desk.store.integrity import FullCheck

        self._checking = True
        check = self._full_check = FullCheck(self.location, self.clock)
        location = self.location

        def run() -> tuple[CheckResult | None, str]:
            from advice_desk.store.integrity import damaged

            result = check.run_if_due()
            if result is None or result.ok:
                return result, ""
            return result, str(damaged(location, result.problems))

        self.checks.run(run).success(self._full_check_done).failure(self._full_check_failed)

    def _full_check_done(self, done: tuple[CheckResult | None, str]) -> None:
        self._checking = False
        result, text = done
        if result is None or result.ok:
            return
        self.found_damaged(text)

    def _full_check_failed(self, error: BaseException) -> None:
        """The check could not read the file (a full disk, a read-only folder): said, and
        tried again at the next round."""
        self._checking = False
        self.window.statusBar().showMessage(self.tr("The daily check of the store could not "
                                                    "run: {0}").format(errors.describe(error)))

    def found_damaged(self, text: str) -> None:
        """The store is damaged (found by the daily check or by a backup): the desk stops."""
        if self.is_stopped:
            return
        self._stop(self.tr("Advice Desk found its store damaged"),
                   self.tr("The store is damaged: calls cannot be saved."),
                   errors.sentence(text))

    def _stop(self, title: str, status: str, text: str) -> None:
        """The desk can do nothing more with this store: say why, and close the form."""
        self.is_stopped = True
        self.stopped.emit()
        self.window.statusBar().showMessage(status)
        box = self.failure = QMessageBox(QMessageBox.Icon.Critical, title, text,
                                         QMessageBox.StandardButton.Ok, self.window)
        box.setAccessibleName(title)
        # The restore command it names can be copied into a terminal.
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()

    def close(self) -> None:
        self.check_timer.stop()
        if self._full_check is not None:
            self._full_check.cancel()
        self.checks.shutdown()
        if self.reception is not None:
            self.reception.close()
