"""Supervisor › Backups…: the copies listed (UK time, size, calls), a copy made now, and a
restore that signs everyone out, swaps the store and signs in again on the restored one; and
the automatic backup after sign-in, off the GUI thread."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from advice_desk.calls.service import Calls
from advice_desk.gui import errors
from advice_desk.gui.backups_dialog import BackupsDialog
from advice_desk.people.audit import AuditQuery, describe
from advice_desk.people.permissions import Role
from tests.factories import a_call, opened_store, signed_in
from tests.gui_support import (
    focused_name,
    open_window,
    press,
    sign_in_with_keyboard,
    unnamed_controls,
)


def _log_calls(location, clock, count: int) -> None:
    with opened_store(location, clock) as store:
        calls = Calls(store, signed_in(store, clock, "sam"), clock)
        for _ in range(count):
            calls.log(a_call(clock))


def _open_dialog(qtbot, window) -> BackupsDialog:
    window.backups_action.trigger()
    dialog = window.findChild(BackupsDialog)
    qtbot.waitUntil(lambda: dialog is not None and dialog.loaded)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    return dialog


def test_the_backups_window_lists_the_copies_and_restores_one(qtbot, location, clock):
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    folder = location.backup_dir
    # The automatic backup after sign-in, on the backup thread.
    qtbot.waitUntil(lambda: list(folder.glob("backup-*.sqlite3")) != [])
    qtbot.waitUntil(lambda: not window.auto_backups.tasks.busy)
    assert window.backups_action in window.supervisor_menu.actions()
    clock.advance(timedelta(days=1))
    _log_calls(location, clock, 2)

    dialog = _open_dialog(qtbot, window)
    window.resize(1366, 768)
    assert unnamed_controls(dialog) == []
    assert dialog.table.rowCount() == 1
    qtbot.mouseClick(dialog.backup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2 and dialog.backup_button.isEnabled())
    table = dialog.table
    rows = [[table.item(r, c).text() for c in range(4)] for r in range(2)]
    assert rows[0][0] == "Tue 24 Nov 2026 10:15" and rows[0][1:] == ["Backup", rows[0][2], "2"]
    assert rows[1][0] == "Mon 23 Nov 2026 10:15" and rows[1][3] == "0"
    assert rows[0][2].endswith("KB")
    for widget in (table, dialog.backup_button, dialog.restore_button, dialog.close_button):
        assert not widget.visibleRegion().isEmpty()

    # By keyboard: the list has the focus, Down picks Monday's copy, Alt+R asks to restore.
    assert focused_name() == "Backups"
    press(qtbot, Qt.Key.Key_Down)
    assert dialog.selected().calls == 0
    press(qtbot, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: dialog.confirmation is not None)  # a mnemonic clicks after a beat
    box = dialog.confirmation
    qtbot.waitUntil(lambda: box.isVisible())
    assert "Mon 23 Nov 2026 10:15 (0 calls)" in box.text()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    box.button(QMessageBox.StandardButton.Yes).click()

    # Signed out, restored, and asked to sign in again on the restored store.
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None)
    qtbot.waitUntil(lambda: "Restored 0 calls" in window.statusBar().currentMessage())
    assert window.desk is None
    sign_in_with_keyboard(qtbot, window, "sam")
    qtbot.waitUntil(lambda: window.save_action.isEnabled())
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert window.history.rowCount() == 0
    assert len(list(folder.glob("before-restore-*.sqlite3"))) == 1
    restores = window.tasks.run_now(lambda: window.desk.audit.events(AuditQuery(
        action="store-restored")))
    assert [(event.actor, describe(event)) for event in restores] == [
        ("Sam Supervisor", "0 calls in the copy restored")]
    QApplication.processEvents()


def test_a_refused_restore_leaves_the_store_and_says_why(qtbot, location, clock):
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    qtbot.waitUntil(lambda: list(location.backup_dir.glob("backup-*.sqlite3")) != [])
    qtbot.waitUntil(lambda: not window.auto_backups.tasks.busy)
    _log_calls(location, clock, 1)
    dialog = _open_dialog(qtbot, window)
    copy = dialog.selected()
    copy.path.write_bytes(b"not a database at all")
    dialog.confirm_restore()
    dialog.confirmation.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: "was not restored" in window.statusBar().currentMessage())
    assert "not an Advice Desk store" in window.statusBar().currentMessage()
    (warning,) = [box for box in window.findChildren(QMessageBox)
                  if box.isVisible() and "was not restored" in box.text()]
    warning.button(QMessageBox.StandardButton.Ok).click()
    sign_in_with_keyboard(qtbot, window, "sam")
    qtbot.waitUntil(lambda: window.save_action.isEnabled())
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert window.history.rowCount() == 1


def test_a_restored_copy_whose_audit_tail_cannot_be_checked_says_so(qtbot, location, clock):
    """A copy without its sealed audit anchor (an older version's) is restored, and the window
    says what the command line says: the tail of its trail cannot be checked."""
    from advice_desk.backups.anchors import UNCHECKED

    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    qtbot.waitUntil(lambda: list(location.backup_dir.glob("backup-*.sqlite3")) != [])
    qtbot.waitUntil(lambda: not window.auto_backups.tasks.busy)
    dialog = _open_dialog(qtbot, window)
    copy = dialog.selected()
    with sqlite3.connect(copy.path) as connection:
        connection.execute("DROP TABLE backup_anchor")  # as copies of earlier builds are
    connection.close()
    dialog.confirm_restore()
    dialog.confirmation.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: "Restored 0 calls" in window.statusBar().currentMessage())

    def notes() -> list[QMessageBox]:
        return [box for box in window.findChildren(QMessageBox)
                if box.isVisible() and "cannot be checked" in box.text()]

    qtbot.waitUntil(lambda: len(notes()) == 1)
    (note,) = notes()
    assert note.text() == f"Restored 0 calls from the copy.\n\n{errors.sentence(UNCHECKED)}"
    assert note.icon() == QMessageBox.Icon.Information
    note.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window.sign_in_dialog)
    sign_in_with_keyboard(qtbot, window, "sam")
    qtbot.waitUntil(lambda: window.save_action.isEnabled())
    qtbot.waitUntil(lambda: not window.tasks.busy)


def test_a_copy_that_finds_the_store_damaged_stops_the_desk(qtbot, location, clock):
    from advice_desk.store import integrity
    from tests.test_opening import break_an_index

    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    qtbot.waitUntil(lambda: integrity.last_full_check(location) is not None)
    qtbot.waitUntil(lambda: list(location.backup_dir.glob("backup-*.sqlite3")) != [])
    qtbot.waitUntil(lambda: not window.auto_backups.tasks.busy)
    _log_calls(location, clock, 5)
    break_an_index(location.sqlite_file)  # the opening's checks have passed: only a copy sees it
    dialog = _open_dialog(qtbot, window)
    qtbot.mouseClick(dialog.backup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.opening.failure is not None
                    and window.opening.failure.isVisible())
    box = window.opening.failure
    assert box.accessibleName() == "Advice Desk found its store damaged"
    assert box.text().startswith(f"The store {location.sqlite_file} is damaged")
    assert "ix_call_follow_up_on" in box.text()
    assert window.statusBar().currentMessage() == "The store is damaged: calls cannot be saved."
    assert not window.form.isEnabled() and not window.save_action.isEnabled()
    assert not any(d.isVisible() for d in window.findChildren(BackupsDialog))  # closed


def test_a_failed_backup_says_its_reason_not_an_unexpected_fault(qtbot, location, clock):
    from advice_desk.backups.copies import BackupError
    from advice_desk.gui import errors

    refusal = BackupError("cannot copy advice-desk.sqlite3: the disk is full; free some space "
                          "on that disk, then try again")
    assert errors.describe(refusal) == str(refusal)
    window = open_window(qtbot, location, clock)
    window.auto_backups._failed(refusal)
    assert window.statusBar().currentMessage() == f"The automatic backup failed: {refusal}"
