"""The supervisor's page for users: who can sign in, adding a user, disabling or enabling one,
and setting a new password for one, all on the store thread.

The dialog takes the desk's :class:`~advice_desk.people.accounts.Users` (bound to the store, the
signed-in supervisor and the clock), never a store. The core enforces every rule (who may manage
users, password length, the last supervisor); the dialog shows its messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QHeaderView, QPushButton, QTableWidgetItem, QWidget

from advice_desk.gui import errors
from advice_desk.gui.forms import load_form, plain_label
from advice_desk.gui.taskman import TaskManager
from advice_desk.people.permissions import Role
from advice_desk.validation import ValidationError

if TYPE_CHECKING:  # accounts imports the database layer: not loaded before the window paints
    from advice_desk.people.accounts import Account, Users

COLUMNS = ("Name", "User name", "Role", "Status")
ROLES = tuple((role, role.label) for role in Role)
# The core names fields as in code; the person reads the labels of this dialog.
FIELD_LABELS = {"username": "User name", "display_name": "Full name", "password": "Password"}
T = TypeVar("T")


def error_text(error: BaseException) -> str:
    """An error as the supervisor reads it, in sentences; a field's problem after its label."""
    return errors.sentence(errors.describe(error, _labelled_problems))


def _labelled_problems(error: ValidationError) -> str:
    parts = []
    for problem in error.errors:
        label = FIELD_LABELS.get(problem.field)
        parts.append(f"{label}: {problem.message}" if label
                     else problem.message[:1].upper() + problem.message[1:])
    return ". ".join(parts) + "."


class UsersDialog(QDialog):
    """Emits ``changed`` after each successful change and ``loaded`` after the list arrives."""

    changed = Signal()
    loaded = Signal()

    def __init__(self, tasks: TaskManager, users: Users,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Users"))
        self.resize(760, 680)  # eight users in view without a scroll bar
        self.ui = load_form("users_dialog.ui", self)
        self.tasks, self._users = tasks, users
        self.accounts: list[Account] = []
        self._busy = False
        self._select_next: int | None = None  # the user just added, once the list has them
        ui = self.ui
        ui.users_table.setHorizontalHeaderLabels([self.tr(c) for c in COLUMNS])
        ui.users_table.setAccessibleName(self.tr("Users"))
        ui.users_table.verticalHeader().hide()
        layout = ui.users_table.parentWidget().layout()
        if layout is not None:
            layout.setStretchFactor(ui.users_table, 1)  # extra height to the list, not a band
        for line in (ui.users_error, ui.users_status):  # a line each, kept while empty: a
            line.setMinimumHeight(line.fontMetrics().lineSpacing())  # message moves nothing
        header = ui.users_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        for role, label in ROLES:
            ui.role_combo.addItem(self.tr(label), role)
        for button in self.findChildren(QPushButton):  # Return in a field never closes the page
            button.setAutoDefault(False)
            button.setDefault(False)
        ui.button_box.rejected.connect(self.reject)
        ui.users_table.itemSelectionChanged.connect(self._selection_changed)
        ui.add_button.clicked.connect(self.add_user)
        ui.repeat_edit.returnPressed.connect(self.add_user)
        ui.toggle_active_button.clicked.connect(self.toggle_active)
        ui.reset_password_button.clicked.connect(self.reset_password)
        ui.reset_password_edit.returnPressed.connect(self.reset_password)
        self._selection_changed()
        self.refresh()

    # --- the list ---------------------------------------------------------------------------

    def refresh(self) -> None:
        self.tasks.run(self._users.accounts).success(self._show_accounts).failure(
            self._show_error)

    def _show_accounts(self, accounts: list[Account]) -> None:
        chosen = self.selected_account()
        chosen_id = self._select_next or (chosen.id if chosen is not None else None)
        self._select_next = None
        table = self.ui.users_table
        table.blockSignals(True)
        table.clearSelection()
        table.setRowCount(len(accounts))
        for row, account in enumerate(accounts):
            for column, text in enumerate(self._cells(account)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, account.id)
                table.setItem(row, column, item)
        self.accounts = list(accounts)
        table.blockSignals(False)
        if chosen_id is not None:
            self.select_user(chosen_id)
        self._selection_changed()
        self.loaded.emit()

    def _cells(self, account: Account) -> tuple[str, str, str, str]:
        role = dict(ROLES).get(account.role, str(account.role))
        status = self.tr("Active") if account.active else self.tr("Disabled")
        if not account.can_sign_in:
            status = self.tr("{0}, no password").format(status)
        return account.display_name, account.username, self.tr(role), status

    def select_user(self, user_id: int) -> None:
        for row, account in enumerate(self.accounts):
            if account.id == user_id:
                self.ui.users_table.selectRow(row)
                return

    def selected_account(self) -> Account | None:
        rows = self.ui.users_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.accounts):
            return None
        return self.accounts[rows[0].row()]

    def _selection_changed(self) -> None:
        account = self.selected_account()
        button = self.ui.toggle_active_button
        text = self.tr("&Enable") if account is not None and not account.active \
            else self.tr("&Disable")
        button.setText(text)
        button.setAccessibleName(plain_label(text))
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.selected_account() is not None and not self._busy
        self.ui.toggle_active_button.setEnabled(chosen)
        self.ui.reset_password_button.setEnabled(chosen)
        self.ui.add_button.setEnabled(not self._busy)

    # --- changes ----------------------------------------------------------------------------

    def _run(self, job: Callable[[], T], done: Callable[[T], str]) -> None:
        """Run a change on the store thread; on success say ``done(result)`` and reload."""
        if self._busy:
            return
        self._busy = True
        self._update_buttons()
        self.ui.users_error.clear()
        self.ui.users_status.setText(self.tr("Saving…"))

        def succeeded(result: T) -> None:
            self._busy = False
            self._update_buttons()
            self.ui.users_status.setText(done(result))
            self.changed.emit()
            self.refresh()

        def failed(error: BaseException) -> None:
            self._busy = False
            self._update_buttons()
            self.ui.users_status.clear()
            self._show_error(error)

        self.tasks.run(job).success(succeeded).failure(failed)

    def _show_error(self, error: BaseException) -> None:
        self.ui.users_status.clear()
        self.ui.users_error.setText(error_text(error))

    def _refuse(self, message: str, field: QWidget) -> None:
        self.ui.users_status.clear()
        self.ui.users_error.setText(message)
        field.setFocus(Qt.FocusReason.OtherFocusReason)

    def add_user(self) -> None:
        ui = self.ui
        if self._busy:
            return
        if ui.new_password_edit.text() != ui.repeat_edit.text():
            ui.repeat_edit.clear()
            self._refuse(self.tr("The two passwords are not the same."), ui.repeat_edit)
            return
        username, name = ui.new_username_edit.text().strip(), ui.display_name_edit.text().strip()
        role, password = ui.role_combo.currentData(), ui.new_password_edit.text()
        add = self._users.add

        def added(user_id: int) -> str:
            for field in (ui.new_username_edit, ui.display_name_edit, ui.new_password_edit,
                          ui.repeat_edit):
                field.clear()
            ui.role_combo.setCurrentIndex(0)
            self._select_next = user_id
            return self.tr("Added {0} ({1}).").format(name, username)

        self._run(lambda: add(username, name, role, password), added)

    def toggle_active(self) -> None:
        account = self.selected_account()
        if account is None or self._busy:
            return
        active, set_active = not account.active, self._users.set_active
        message = (self.tr("Enabled {0}: they can sign in again.") if active
                   else self.tr("Disabled {0}: they cannot sign in."))
        self._run(lambda: set_active(account.id, active),
                  lambda _: message.format(account.display_name))

    def reset_password(self) -> None:
        account = self.selected_account()
        if self._busy:
            return
        if account is None:
            self._refuse(self.tr("Choose a user in the list first."), self.ui.users_table)
            return
        password, reset = self.ui.reset_password_edit.text(), self._users.reset_password

        def done(_: None) -> str:
            self.ui.reset_password_edit.clear()
            return self.tr("New password set for {0}.").format(account.display_name)

        self._run(lambda: reset(account.id, password), done)
