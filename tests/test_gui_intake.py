"""The worker's path through the app, driven by key presses on real widgets (offscreen Qt)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from sqlalchemy import text

from advice_desk.calls.drafts import Drafts
from advice_desk.calls.history import CallQuery
from advice_desk.calls.service import Calls
from advice_desk.gui.main_window import MainWindow
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.store.engine import open_store
from tests.factories import modules_loaded_by, opened_store
from tests.gui_support import focused_name, open_window, press, sign_in_with_keyboard, type_text
from tests.support import ANY_TIME, SUPERVISOR


@pytest.fixture
def window(qtbot, location, clock):
    return open_window(qtbot, location, clock)


def store_calls(location, clock):
    with opened_store(location, clock) as store:
        return Calls(store, SUPERVISOR, ANY_TIME).list(CallQuery())


def fill_call_with_keyboard(qtbot, window: MainWindow) -> None:
    """A grandparent with an SGO in Leeds asks about the Virtual School; advice given."""
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert focused_name() == "Caller type"
    type_text(qtbot, "Grand")
    press(qtbot, Qt.Key.Key_Tab)
    assert focused_name() == "Arrangement"
    type_text(qtbot, "Special")
    press(qtbot, Qt.Key.Key_Tab)
    assert focused_name() == "Local authority"
    type_text(qtbot, "Leeds")
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    assert focused_name() == "Topics"
    type_text(qtbot, "virtual sch")
    press(qtbot, Qt.Key.Key_Return)
    type_text(qtbot, "Pupil Premium Plus")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.keyClick(window, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)
    assert focused_name() == "Outcomes"
    type_text(qtbot, "Adv")
    press(qtbot, Qt.Key.Key_Space)
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    assert focused_name() == "Notes"
    type_text(qtbot, "Asked what the Virtual School can do for a 9-year-old.")


def test_a_call_is_logged_with_the_keyboard_alone(qtbot, window, location, clock):
    fill_call_with_keyboard(qtbot, window)
    clock.advance(timedelta(minutes=14))
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)

    rows = store_calls(location, clock)
    assert len(rows) == 1
    store = open_store(location, clock)
    call = Calls(store, SUPERVISOR, ANY_TIME).get(rows[0].id)
    store.close()
    d = call.details
    assert (d.caller_type, d.arrangement, d.local_authority) == ("grandparent", "sgo", "E08000035")
    assert d.topics == ("education.virtual-school", "education.pupil-premium-plus")
    assert d.outcomes == ("advice",)
    assert d.notes == "Asked what the Virtual School can do for a 9-year-old."
    assert d.ended_at - d.started_at == timedelta(minutes=14)
    assert window.history.data(window.history.index(0, 2)) == "Virtual School (Education)"
    assert not window.form.is_dirty


def test_a_saved_call_opens_for_editing_from_the_history(qtbot, window, location, clock):
    fill_call_with_keyboard(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)

    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert focused_name() == "Call history"
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.form.editing_call_id is not None)
    assert focused_name() == "Caller type"
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    press(qtbot, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, " Rang back with the Virtual School's number.")
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.form.editing_call_id is None)
    qtbot.waitUntil(lambda: not window.tasks.busy)

    rows = store_calls(location, clock)
    assert len(rows) == 1
    store = open_store(location, clock)
    notes = Calls(store, SUPERVISOR, ANY_TIME).get(rows[0].id).details.notes
    store.close()
    assert notes.endswith("for a 9-year-old. Rang back with the Virtual School's number.")
    assert window.statusBar().currentMessage() == f"Call {rows[0].id} updated."


def test_a_non_data_call_takes_one_key(qtbot, window, location, clock):
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)
    qtbot.keyClick(window, Qt.Key.Key_F7)
    qtbot.waitUntil(lambda: window.history.rowCount() == 2)
    assert sorted(r.kind for r in store_calls(location, clock)) == ["silent", "wrong-number"]
    assert window.history.data(window.history.index(0, 1)) in ("Silent call", "Wrong number")


def test_save_names_the_missing_fields_and_keeps_the_form(qtbot, window, location, clock):
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "Grand")
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.form.ui.error_label.isVisible())
    message = window.form.ui.error_label.text()
    assert "Arrangement: required" in message
    assert "Topics: choose at least one topic" in message
    assert "Outcomes: choose at least one outcome" in message
    assert focused_name() == "Arrangement"
    assert store_calls(location, clock) == []
    assert window.form.is_dirty


def test_personal_fields_are_off_until_the_caller_consents(qtbot, window):
    ui = window.form.ui
    assert not ui.caller_name_edit.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert focused_name() == "Consent to store details"
    type_text(qtbot, "Y")
    assert ui.caller_name_edit.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    type_text(qtbot, "Jo Bloggs")
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    press(qtbot, Qt.Key.Key_Up)
    assert ui.consent_combo.currentText() == "No"
    assert not ui.caller_name_edit.isEnabled()
    assert ui.caller_name_edit.text() == ""


def test_a_half_written_call_survives_a_crash(qtbot, location, clock):
    first = open_window(qtbot, location, clock)
    fill_call_with_keyboard(qtbot, first)
    store = open_store(location, clock)
    amy = get_or_create_user(store, "amy", clock)
    qtbot.waitUntil(lambda: Drafts(store, actor_of(amy), clock).load() is not None
                    and "Virtual School" in str(Drafts(store, actor_of(amy), clock).load().payload))
    # A crash: the window goes without closing, saving or discarding anything.
    first.desk = None
    first.tasks.shutdown()
    first.hide()

    second = open_window(qtbot, location, clock)
    qtbot.waitUntil(lambda: second.form.is_dirty)
    form = second.form.ui
    assert form.caller_type_combo.currentData() == "grandparent"
    assert form.local_authority_combo.currentText() == "Leeds"
    assert form.notes_edit.toPlainText().startswith("Asked what the Virtual School")
    assert form.topic_list.count() == 2
    assert "Recovered the call" in form.notice_label.text()
    qtbot.keyClick(second, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: second.history.rowCount() == 1)
    assert Drafts(store, actor_of(amy), clock).load() is None
    store.close()


def test_discarding_a_call_removes_its_draft(qtbot, window, location, clock):
    fill_call_with_keyboard(qtbot, window)
    window._save_draft()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: not window.form.is_dirty)  # a mnemonic click lands ~100 ms later
    qtbot.waitUntil(lambda: not window.tasks.busy)
    store = open_store(location, clock)
    with store.engine.connect() as connection:
        assert connection.execute(text("select count(*) from draft")).scalar() == 0
    store.close()


def test_every_control_has_an_accessible_name(window):
    unnamed = [
        f"{type(w).__name__} {w.objectName()}"
        for w in window.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.isVisibleTo(window)
        and w.isEnabled() and not w.accessibleName()
        and type(w).__name__ not in ("QScrollArea", "QSplitterHandle")
        and not w.objectName().startswith("qt_")
        and w.parent() is not None and type(w.parent()).__name__ not in ("QComboBox",
                                                                           "QAbstractSpinBox")
    ]
    assert unnamed == []


def test_the_window_paints_without_loading_the_database_layer():
    assert modules_loaded_by("import advice_desk.gui.main_window, advice_desk.gui.app",
                             ("sqlmodel", "sqlalchemy", "alembic")) == []


def test_a_recovered_call_waits_while_a_call_typed_before_sign_in_is_finished(
        qtbot, location, clock):
    first = open_window(qtbot, location, clock)
    fill_call_with_keyboard(qtbot, first)
    store = open_store(location, clock)
    amy = get_or_create_user(store, "amy", clock)
    qtbot.waitUntil(lambda: Drafts(store, actor_of(amy), clock).load() is not None
                    and "Virtual School" in str(Drafts(store, actor_of(amy), clock).load().payload))
    first.desk = None  # a crash, as above
    first.tasks.shutdown()
    first.hide()

    second = MainWindow(location, clock)
    qtbot.addWidget(second)
    second.show()
    qtbot.keyClicks(second.form.ui.notes_edit, "Typed while the store opened")
    second.open_store()
    sign_in_with_keyboard(qtbot, second, "amy")
    qtbot.waitUntil(lambda: second.save_action.isEnabled() and not second.tasks.busy)
    form = second.form.ui
    assert form.notes_edit.toPlainText() == "Typed while the store opened"
    assert "recovered" in form.notice_label.text()
    second._save_draft()  # autosave must not overwrite the recovered call
    qtbot.waitUntil(lambda: not second.tasks.busy)
    assert "Virtual School" in str(Drafts(store, actor_of(amy), clock).load().payload)

    second.discard_call()
    qtbot.waitUntil(lambda: not second.tasks.busy)
    assert form.notes_edit.toPlainText().startswith("Asked what the Virtual School")
    assert form.caller_type_combo.currentData() == "grandparent"
    assert "Virtual School" in str(Drafts(store, actor_of(amy), clock).load().payload)
    store.close()
