"""The supervisor's users page: adding, disabling, enabling and resetting users by typing and
clicking, on a real store through the store thread (offscreen Qt, fixed clock)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from advice_desk.gui.taskman import TaskManager
from advice_desk.gui.users_dialog import UsersDialog
from advice_desk.people import accounts
from advice_desk.people.accounts import Users, get_or_create_user
from advice_desk.people.permissions import Role
from tests.factories import add_account, modules_loaded_by
from tests.gui_support import unnamed_controls
from tests.support import ANY_TIME, PASSWORD


def open_dialog(qtbot, tasks, store, sam, clock) -> UsersDialog:
    dialog = UsersDialog(tasks, Users(store, sam, clock))
    qtbot.addWidget(dialog)
    dialog.open()  # window-modal, never blocking
    wait_idle(qtbot, tasks)
    return dialog


def wait_idle(qtbot, tasks: TaskManager) -> None:
    qtbot.waitUntil(lambda: not tasks.busy)


def rows(dialog: UsersDialog) -> list[list[str]]:
    table = dialog.ui.users_table
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def fill_new_user(qtbot, dialog, username: str, name: str, password: str,
                  repeat: str | None = None) -> None:
    ui = dialog.ui
    qtbot.keyClicks(ui.new_username_edit, username)
    qtbot.keyClicks(ui.display_name_edit, name)
    qtbot.keyClicks(ui.new_password_edit, password)
    qtbot.keyClicks(ui.repeat_edit, password if repeat is None else repeat)


def user_id(store, sam, username: str) -> int:
    return {a.username: a.id for a in Users(store, sam, ANY_TIME).accounts()}[username]


def test_a_message_moves_no_button(qtbot, store, clock, sam, tasks):
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    qtbot.waitExposed(dialog)
    buttons = (dialog.ui.add_button, dialog.ui.toggle_active_button)

    def places() -> list[tuple[int, int]]:
        return [b.mapTo(dialog, b.rect().topLeft()).toTuple() for b in buttons]

    before = places()
    fill_new_user(qtbot, dialog, "amy", "Amy Adviser", "short")
    click(qtbot, dialog.ui.add_button)
    wait_idle(qtbot, tasks)
    qtbot.waitUntil(lambda: dialog.ui.users_error.text() != "")
    QApplication.processEvents()  # the layout it asked for
    assert places() == before


def test_a_supervisor_adds_a_worker_by_typing(qtbot, store, clock, sam, tasks):
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    assert rows(dialog) == [["Sam Supervisor", "sam", "Supervisor", "Active"]]
    fill_new_user(qtbot, dialog, "amy", "Amy Adviser", PASSWORD)
    assert dialog.ui.role_combo.currentText() == "Worker"
    with qtbot.waitSignal(dialog.changed):
        click(qtbot, dialog.ui.add_button)
    wait_idle(qtbot, tasks)

    assert dialog.ui.users_status.text() == "Added Amy Adviser (amy)."
    assert dialog.ui.users_error.text() == ""
    assert rows(dialog) == [["Amy Adviser", "amy", "Worker", "Active"],
                            ["Sam Supervisor", "sam", "Supervisor", "Active"]]
    assert dialog.selected_account().username == "amy"  # the new user is selected
    assert [dialog.ui.new_username_edit.text(), dialog.ui.new_password_edit.text(),
            dialog.ui.repeat_edit.text()] == ["", "", ""]
    amy = accounts.sign_in(store, "amy", PASSWORD, clock)
    assert amy.role is Role.WORKER and amy.name == "Amy Adviser"


def test_a_supervisor_is_added_with_the_role_chosen(qtbot, store, clock, sam, tasks):
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    fill_new_user(qtbot, dialog, "sue", "Sue Second", PASSWORD)
    dialog.ui.role_combo.setCurrentIndex(dialog.ui.role_combo.findData(Role.SUPERVISOR))
    qtbot.keyClick(dialog.ui.repeat_edit, Qt.Key.Key_Return)  # Return adds, too
    qtbot.waitUntil(lambda: dialog.ui.users_status.text().startswith("Added"))
    assert accounts.sign_in(store, "sue", PASSWORD, clock).is_supervisor


def test_mismatched_passwords_are_refused(qtbot, store, clock, sam, tasks):
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    fill_new_user(qtbot, dialog, "amy", "Amy Adviser", PASSWORD, repeat=PASSWORD + "!")
    with qtbot.assertNotEmitted(dialog.changed):
        click(qtbot, dialog.ui.add_button)
        wait_idle(qtbot, tasks)
    assert dialog.ui.users_error.text() == "The two passwords are not the same."
    assert dialog.ui.repeat_edit.text() == ""
    assert dialog.ui.new_username_edit.text() == "amy"  # the rest is kept to try again
    assert [a.username for a in Users(store, sam, ANY_TIME).accounts()] == ["sam"]


def test_a_too_short_password_is_refused_with_the_cores_message(qtbot, store, clock, sam,
                                                                 tasks):
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    fill_new_user(qtbot, dialog, "amy", "Amy Adviser", "short")
    with qtbot.assertNotEmitted(dialog.changed):
        click(qtbot, dialog.ui.add_button)
        wait_idle(qtbot, tasks)
    assert dialog.ui.users_error.text() == "Password: use at least 8 characters."
    assert dialog.ui.users_status.text() == ""
    assert dialog.ui.add_button.isEnabled()
    assert [a.username for a in Users(store, sam, ANY_TIME).accounts()] == ["sam"]


def test_a_user_is_disabled_and_enabled_again(qtbot, store, clock, sam, tasks):
    amy_id = add_account(store, clock, sam, "amy")
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    button = dialog.ui.toggle_active_button
    assert not button.isEnabled()  # nobody chosen yet
    dialog.select_user(amy_id)
    assert (button.text(), button.accessibleName()) == ("&Disable", "Disable")

    with qtbot.waitSignal(dialog.changed):
        click(qtbot, button)
    wait_idle(qtbot, tasks)
    assert dialog.ui.users_status.text() == "Disabled Amy Adviser: they cannot sign in."
    assert rows(dialog)[0] == ["Amy Adviser", "amy", "Worker", "Disabled"]
    assert dialog.selected_account().id == amy_id  # still chosen after the reload
    assert (button.text(), button.accessibleName()) == ("&Enable", "Enable")
    with pytest.raises(accounts.SignInError):
        accounts.sign_in(store, "amy", PASSWORD, clock)

    with qtbot.waitSignal(dialog.changed):
        click(qtbot, button)
    wait_idle(qtbot, tasks)
    assert dialog.ui.users_status.text() == "Enabled Amy Adviser: they can sign in again."
    assert rows(dialog)[0][3] == "Active"
    assert button.text() == "&Disable"
    assert accounts.sign_in(store, "amy", PASSWORD, clock).id == amy_id


def test_the_button_follows_the_selection(qtbot, store, clock, sam, tasks):
    amy_id = add_account(store, clock, sam, "amy")
    Users(store, sam, clock).set_active(amy_id, False)
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    dialog.select_user(amy_id)
    assert dialog.ui.toggle_active_button.text() == "&Enable"
    dialog.select_user(sam.id)
    assert dialog.ui.toggle_active_button.text() == "&Disable"


def test_a_reset_password_lets_the_user_sign_in_with_it(qtbot, store, clock, sam, tasks):
    amy_id = add_account(store, clock, sam, "amy")
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    dialog.select_user(amy_id)
    qtbot.keyClicks(dialog.ui.reset_password_edit, "a brand new secret")
    with qtbot.waitSignal(dialog.changed):
        click(qtbot, dialog.ui.reset_password_button)
    wait_idle(qtbot, tasks)
    assert dialog.ui.users_status.text() == "New password set for Amy Adviser."
    assert dialog.ui.reset_password_edit.text() == ""
    assert accounts.sign_in(store, "amy", "a brand new secret", clock).id == amy_id
    with pytest.raises(accounts.SignInError):
        accounts.sign_in(store, "amy", PASSWORD, clock)


def test_a_short_reset_password_is_refused(qtbot, store, clock, sam, tasks):
    amy_id = add_account(store, clock, sam, "amy")
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    dialog.select_user(amy_id)
    qtbot.keyClicks(dialog.ui.reset_password_edit, "short")
    qtbot.keyClick(dialog.ui.reset_password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.ui.users_error.text() != "")
    assert dialog.ui.users_error.text() == "Password: use at least 8 characters."
    assert dialog.isVisible()  # Return never closes the page
    assert accounts.sign_in(store, "amy", PASSWORD, clock).id == amy_id


def test_the_last_supervisor_cannot_be_disabled(qtbot, store, clock, sam, tasks):
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    dialog.select_user(sam.id)
    with qtbot.assertNotEmitted(dialog.changed):
        click(qtbot, dialog.ui.toggle_active_button)
        qtbot.waitUntil(lambda: dialog.ui.users_error.text() != "")
    assert dialog.ui.users_error.text() == "The last supervisor cannot be disabled."
    assert rows(dialog)[0][3] == "Active"
    assert accounts.sign_in(store, "sam", PASSWORD, clock).id == sam.id


def test_accounts_without_a_password_are_marked(qtbot, store, clock, sam, tasks):
    get_or_create_user(store, "imported", clock, display_name="Imported calls")
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    assert rows(dialog)[0] == ["Imported calls", "imported", "Worker", "Active, no password"]


def test_every_control_has_an_accessible_name(qtbot, store, clock, sam, tasks):
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    dialog.select_user(sam.id)
    assert unnamed_controls(dialog) == []
    names = {w.accessibleName() for w in dialog.findChildren(QWidget)}
    assert {"Users", "User name", "Full name", "Role", "Password", "Repeat password",
            "Add user", "Disable", "New password", "Reset password", "Close"} <= names


def test_importing_the_page_does_not_load_the_database_layer():
    assert modules_loaded_by("import advice_desk.gui.users_dialog",
                             ("sqlmodel", "sqlalchemy", "argon2")) == []


def test_seven_users_are_all_shown_with_no_empty_band_below(qtbot, store, clock, sam, tasks):
    for name in ("amy", "bob", "cat", "dan", "eve", "fay"):
        add_account(store, clock, sam, name)
    dialog = open_dialog(qtbot, tasks, store, sam, clock)
    table = dialog.ui.users_table
    qtbot.waitUntil(lambda: table.rowCount() == 7)
    QApplication.processEvents()
    assert table.verticalScrollBar().maximum() == 0  # not 6½ rows and a scroll bar
    last = table.visualItemRect(table.item(6, 0))
    assert table.viewport().rect().contains(last)


def test_a_persons_data_has_room_for_a_whole_phone_number(qtbot, location, clock):
    from tests.test_gui_people import _people_dialog

    _, dialog = _people_dialog(qtbot, location, clock)
    table = dialog.ui.people_calls_table
    needed = table.fontMetrics().horizontalAdvance("+44 7700 900123")
    assert table.columnWidth(2) > needed and table.columnWidth(3) > needed
