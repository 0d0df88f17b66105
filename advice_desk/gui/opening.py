"""Opening the store after the window has painted, and asking who is at the desk.

The store opens on the store thread while the worker can already start typing. A new store
asks for its first supervisor, any other for a sign-in; closing that dialog closes the app, as
there is nothing to do for nobody. Once someone has signed in, ``signed_in(desk)`` says who,
and the retention policy erases what has been kept long enough (at every start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox

from advice_desk.clock import Clock
from advice_desk.gui import errors
from advice_desk.gui.sign_in import FirstSupervisorDialog, SignInDialog
from advice_desk.gui.taskman import TaskManager
from advice_desk.paths import Location

if TYPE_CHECKING:
    from advice_desk.desk import Desk, Reception


def _open_reception(location: Location, clock: Clock) -> tuple[Reception, bool]:
    # Imported here, on the store thread, after the first paint: SQLModel is slow to import.
    from advice_desk.desk import open_reception

    reception = open_reception(location, clock)
    return reception, reception.needs_first_supervisor()


class DeskOpening(QObject):
    """The way from a painted window to a signed-in desk; ``dialog`` is the question shown."""

    signed_in = Signal(object)  # the Desk of whoever signed in

    def __init__(self, tasks: TaskManager, location: Location, clock: Clock,
                 window: QMainWindow) -> None:
        super().__init__(window)
        self.tasks, self.location, self.clock, self.window = tasks, location, clock, window
        self.reception: Reception | None = None
        self.dialog: SignInDialog | FirstSupervisorDialog | None = None

    def start(self) -> None:
        location, clock = self.location, self.clock
        self.tasks.run(lambda: _open_reception(location, clock)).success(
            self._opened).failure(self._failed)

    def _opened(self, opened: tuple[Reception, bool]) -> None:
        self.reception, needs_supervisor = opened
        if needs_supervisor:
            dialog: SignInDialog | FirstSupervisorDialog = FirstSupervisorDialog(
                self.tasks, self.reception.create_first_supervisor, self.window)
            message = self.tr("Create the first supervisor.")
        else:
            dialog = SignInDialog(self.tasks, self.reception.sign_in, self.window)
            message = self.tr("Sign in to log calls.")
        dialog.rejected.connect(self.window.close)
        dialog.done_with.connect(self._signed_in)
        self.window.statusBar().showMessage(message)
        self.dialog = dialog
        dialog.open()

    def sign_in_again(self) -> None:
        """After a sign-out: the sign-in dialog again, on the store already open."""
        if self.reception is not None:
            self._opened((self.reception, False))

    def _signed_in(self, desk: Desk) -> None:
        self.dialog = None
        self.signed_in.emit(desk)
        assert self.reception is not None
        self.tasks.run(self.reception.apply_retention).success(self._retention_done)

    def _retention_done(self, erased: int) -> None:
        if erased:
            self.window.statusBar().showMessage(self.tr(
                "The personal details of {0} old calls were erased, as the retention policy "
                "asks.").format(erased), 10_000)

    def _failed(self, error: BaseException) -> None:
        self.window.statusBar().showMessage(self.tr("The store could not be opened."))
        box = QMessageBox(QMessageBox.Icon.Critical, self.tr("Advice Desk cannot open its store"),
                          errors.describe(error), QMessageBox.StandardButton.Ok, self.window)
        box.open()

    def close(self) -> None:
        if self.reception is not None:
            self.reception.close()
