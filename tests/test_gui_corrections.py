"""Correcting a non-data call from the history, and saving a recovered call once, by keyboard
on real windows (offscreen Qt)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from advice_desk.calls.drafts import Drafts
from advice_desk.calls.history import CallQuery
from advice_desk.calls.record import CALL_KEY
from advice_desk.calls.service import Calls
from advice_desk.gui.correct_call import CorrectCallDialog
from advice_desk.people.accounts import actor_of, get_or_create_user
from tests.factories import opened_store
from tests.gui_support import choose_first_history_row, focused_name, open_window, press
from tests.support import ANY_TIME, SUPERVISOR
from tests.test_gui_intake import fill_call_with_keyboard


def stored(location, clock):
    with opened_store(location, clock) as store:
        calls = Calls(store, SUPERVISOR, ANY_TIME)
        return [calls.get(row.id) for row in calls.list(CallQuery())]


def correct_first_row(qtbot, window) -> CorrectCallDialog:
    choose_first_history_row(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), CorrectCallDialog))
    dialog = QApplication.activeModalWidget()
    qtbot.waitUntil(lambda: focused_name() == "Change it to")
    assert dialog.ui.choice_list.visibleRegion().isEmpty() is False
    return dialog


def test_a_non_data_call_logged_by_mistake_is_withdrawn_by_keyboard(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    qtbot.keyClick(window, Qt.Key.Key_F8)  # "abusive", by mistake
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)
    dialog = correct_first_row(qtbot, window)
    choices = [dialog.ui.choice_list.item(i).text() for i in range(dialog.ui.choice_list.count())]
    assert choices[-1].startswith("Withdraw")
    assert "Abusive call (as logged)" in choices
    press(qtbot, Qt.Key.Key_End)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: stored(location, clock)[0].withdrawn_at is not None)
    qtbot.waitUntil(lambda: "withdrawn" in window.statusBar().currentMessage())
    assert stored(location, clock)[0].kind == "abusive"  # kept as logged, not counted
    flags = window.history.columnCount() - 1  # the history says so, in its Flags column
    qtbot.waitUntil(lambda: window.history.data(window.history.index(0, flags)) == "Withdrawn")


def test_a_non_data_call_is_corrected_to_another_kind_by_keyboard(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    qtbot.keyClick(window, Qt.Key.Key_F5)  # silent: it was a hang-up
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)
    dialog = correct_first_row(qtbot, window)
    assert dialog.ui.choice_list.currentItem().text() == "Hang-up"  # the first other kind
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: stored(location, clock)[0].kind == "hang-up")
    qtbot.waitUntil(lambda: window.history.data(window.history.index(0, 1)) == "Hang-up")


def test_a_call_with_content_is_not_corrected_but_edited(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    fill_call_with_keyboard(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)
    choose_first_history_row(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert "has content" in window.statusBar().currentMessage()
    assert QApplication.activeModalWidget() is None


def test_a_recovered_call_saved_in_two_windows_is_stored_once(qtbot, location, clock):
    first = open_window(qtbot, location, clock)
    fill_call_with_keyboard(qtbot, first)
    first._save_draft()
    qtbot.waitUntil(lambda: not first.tasks.busy)
    with opened_store(location, clock) as store:
        amy = actor_of(get_or_create_user(store, "amy", clock))
        draft = Drafts(store, amy, clock).load()
    assert draft is not None and draft.payload[CALL_KEY] == first.form.call_key
    first.desk = None  # a crash: the window goes without saving or discarding anything
    first.tasks.shutdown()
    first.hide()

    # Two copies of the app recover the same call, and both save it.
    copies = [open_window(qtbot, location, clock) for _ in range(2)]
    for window in copies:
        qtbot.waitUntil(lambda window=window: window.form.is_dirty)
        assert window.form.call_key == draft.payload[CALL_KEY]
    for window in copies:
        window.activateWindow()
        qtbot.waitUntil(lambda window=window: QApplication.activeWindow() is window)
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda window=window: not window.form.is_dirty)
        qtbot.waitUntil(lambda window=window: not window.tasks.busy)
    assert len(stored(location, clock)) == 1
    assert copies[0].form.call_key != copies[1].form.call_key  # each a fresh form again
    with opened_store(location, clock) as store:
        assert Drafts(store, amy, clock).load() is None
