"""Two seats, one call: the edit of a call another desk changed since it was opened is refused,
and the form offers to reload it (Enter) or to keep editing (Esc)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from advice_desk.calls.history import CallQuery
from advice_desk.calls.service import Calls
from advice_desk.gui.main_window import MainWindow
from tests.factories import a_call, opened_store, signed_in
from tests.gui_support import open_first_history_call, open_window, press, type_text


@pytest.fixture
def window(qtbot, location, clock) -> MainWindow:
    window = open_window(qtbot, location, clock)
    with opened_store(location, clock) as store:
        Calls(store, signed_in(store, clock, "amy"), clock).log(a_call(clock, notes="Asked."))
    window.history.reload()
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)
    return window


def changed_on_another_desk(location, clock, notes: str) -> int:
    """Sam, at another PC, edits the call's notes."""
    clock.advance(timedelta(minutes=4))
    with opened_store(location, clock) as store:
        calls = Calls(store, signed_in(store, clock, "sam"), clock)
        stored = calls.get(calls.list(CallQuery())[0].id)
        calls.update(stored.id, replace(stored.details, notes=notes), version=stored.version)
        return stored.id


def the_offer(qtbot, window: MainWindow) -> QMessageBox:
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "call_changed_box") is not None)
    box = window.findChild(QMessageBox, "call_changed_box")
    qtbot.waitUntil(box.isVisible)
    return box


def save_an_edit_of_the_open_call(qtbot, window: MainWindow, location, clock) -> int:
    open_first_history_call(qtbot, window)
    call_id = changed_on_another_desk(location, clock, "Sam's note.")
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    press(qtbot, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, " Amy's note.")
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    return call_id


def stored_notes(location, clock, call_id: int) -> str | None:
    with opened_store(location, clock) as store:
        return Calls(store, signed_in(store, clock, "sam"), clock).get(call_id).details.notes


def test_a_refused_edit_says_who_changed_the_call_and_reloads_it_with_enter(
        qtbot, window, location, clock) -> None:
    call_id = save_an_edit_of_the_open_call(qtbot, window, location, clock)

    box = the_offer(qtbot, window)
    assert box.text() == (f"Call {call_id} was changed by Sam Supervisor at 10:19 on 23 Nov "
                          "2026 (UK time) since you opened it, so your edit was not saved.")
    buttons = {b.accessibleName(): b for b in box.findChildren(QPushButton)}
    assert set(buttons) == {"Reload", "Keep editing"}
    assert all(not b.visibleRegion().isEmpty() for b in buttons.values())
    assert box.defaultButton() is buttons["Reload"]
    assert stored_notes(location, clock, call_id) == "Sam's note."  # nothing of Amy's saved

    qtbot.keyClick(QApplication.focusWidget() or box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.form.ui.notes_edit.toPlainText() == "Sam's note.")
    assert window.form.editing_call_id == call_id and window.form.editing_version == 2
    assert not window.form.is_dirty
    assert window.statusBar().currentMessage() == f"Call {call_id} reloaded as it is now."


def test_keep_editing_keeps_what_was_typed_and_the_next_save_replaces_the_change(
        qtbot, window, location, clock) -> None:
    call_id = save_an_edit_of_the_open_call(qtbot, window, location, clock)
    box = the_offer(qtbot, window)

    qtbot.keyClick(QApplication.focusWidget() or box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert window.form.ui.notes_edit.toPlainText() == "Asked. Amy's note."
    assert window.form.editing_version == 2
    window.activateWindow()  # offscreen Qt gives it back to no window when the box closes
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.form.editing_call_id is None)
    assert stored_notes(location, clock, call_id) == "Asked. Amy's note."
