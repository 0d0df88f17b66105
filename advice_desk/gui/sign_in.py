"""Who is at the desk: the first supervisor on a new store, sign-in, and unlocking after idle.

The dialogs are opened with ``open()`` (window-modal, never blocking the event loop) and do
their store work on the store thread; the result arrives as a signal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QWidget

from advice_desk.gui import errors
from advice_desk.gui.forms import load_form
from advice_desk.gui.taskman import TaskManager

if TYPE_CHECKING:
    from advice_desk.desk import Desk


class _StoreDialog(QDialog):
    """A dialog whose one button runs a job on the store thread; ``done_with`` has its result."""

    done_with = Signal(object)

    def __init__(self, form: str, tasks: TaskManager, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ui = load_form(form, self)
        self.tasks = tasks
        self._busy = False

    def _run(self, job: Callable[[], Desk], message: QLabel, retry_in: QLineEdit) -> None:
        if self._busy:
            return
        self._busy = True
        message.setText(self.tr("Checking…"))

        def failed(error: BaseException) -> None:
            self._busy = False
            message.setText(errors.describe(error))
            retry_in.clear()
            retry_in.setFocus()

        def succeeded(desk: Desk) -> None:
            self._busy = False
            self.done_with.emit(desk)
            self.accept()

        self.tasks.run(job).success(succeeded).failure(failed)


class SignInDialog(_StoreDialog):
    """Sign in; with ``locked_as`` set, unlock the app for that user only (no way round it)."""

    def __init__(self, tasks: TaskManager, sign_in: Callable[[str, str], Desk],
                 parent: QWidget | None = None, locked_as: str | None = None) -> None:
        super().__init__("sign_in.ui", tasks, parent)
        self._sign_in = sign_in
        self.locked = locked_as is not None
        self.setWindowTitle(self.tr("Locked") if self.locked else self.tr("Sign in"))
        if locked_as is not None:
            self.ui.sign_in_intro.setText(self.tr(
                "Advice Desk was locked after a while without use. Your unsaved call is kept. "
                "Enter your password to go on."))
            self.ui.username_edit.setText(locked_as)
            self.ui.username_edit.setReadOnly(True)
            self.ui.password_edit.setFocus()
        self.ui.sign_in_button.clicked.connect(self._submit)
        self.ui.password_edit.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        username, password = self.ui.username_edit.text(), self.ui.password_edit.text()
        sign_in = self._sign_in
        self._run(lambda: sign_in(username, password), self.ui.sign_in_message,
                  self.ui.password_edit)

    def reject(self) -> None:
        if not self.locked:  # Escape at sign-in closes the app; a locked app stays locked
            super().reject()


class FirstSupervisorDialog(_StoreDialog):
    def __init__(self, tasks: TaskManager, create: Callable[[str, str, str], Desk],
                 parent: QWidget | None = None) -> None:
        super().__init__("first_supervisor.ui", tasks, parent)
        self.setWindowTitle(self.tr("The first supervisor"))
        self._create = create
        self.ui.create_button.clicked.connect(self._submit)

    def _submit(self) -> None:
        ui = self.ui
        if ui.new_password_edit.text() != ui.repeat_edit.text():
            ui.first_message.setText(self.tr("The two passwords are not the same."))
            ui.repeat_edit.clear()
            ui.repeat_edit.setFocus()
            return
        username, name, password = (ui.new_username_edit.text(), ui.display_name_edit.text(),
                                    ui.new_password_edit.text())
        create = self._create
        self._run(lambda: create(username, name, password), ui.first_message,
                  ui.new_password_edit)
