"""The worker's path through the app, driven by key presses on real widgets (offscreen Qt)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import text

from advice_desk.calls.drafts import Drafts
from advice_desk.calls.history import CallQuery
from advice_desk.calls.service import Calls
from advice_desk.gui.main_window import MainWindow
from advice_desk.gui.wheel_guard import install_wheel_guard
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.store.engine import open_store
from advice_desk.validation import ValidationError
from tests.factories import modules_loaded_by, opened_store
from tests.gui_support import (
    focused_name,
    open_first_history_call,
    open_window,
    press,
    sign_in_with_keyboard,
    type_text,
)
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

    open_first_history_call(qtbot, window)
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
                             ("sqlmodel", "sqlalchemy", "alembic", "holidays", "reportlab",
                              "PySide6.QtCharts", "multiprocessing")) == []


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


# --- topics by keyboard ----------------------------------------------------------------------

def key_as_typed(qtbot, window: MainWindow, key: Qt.Key,
                 modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed on the keyboard: through the window system, so Qt hands it to the open
    list of matches (a popup) as it would for a person, not straight to the focused field."""
    QTest.keyClick(window.windowHandle(), key, modifier)


def type_as_typed(qtbot, window: MainWindow, text: str) -> None:
    for char in text:
        QTest.keyClick(window.windowHandle(), ord(char))  # QTest's char overload


def chosen_topics(window: MainWindow) -> list[str]:
    lst = window.form.ui.topic_list
    return [lst.item(i).text() for i in range(lst.count())]


def offered_topics() -> list[str]:
    """The matches in the list that opens under the field as a topic is typed."""
    popup = QApplication.activePopupWidget()
    assert popup is not None and popup.isVisible()
    model = popup.model()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def go_to_topics(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    assert focused_name() == "Topics"


def test_down_and_enter_add_the_highlighted_topic_and_clear_the_field(qtbot, window):
    go_to_topics(qtbot, window)
    type_as_typed(qtbot, window, "allow")
    matches = offered_topics()
    assert len(matches) == 2
    key_as_typed(qtbot, window, Qt.Key.Key_Down)
    key_as_typed(qtbot, window, Qt.Key.Key_Down)
    key_as_typed(qtbot, window, Qt.Key.Key_Return)
    assert chosen_topics(window) == [f"{matches[1]} — primary"]
    assert window.form.ui.topic_edit.text() == ""
    assert focused_name() == "Topics"
    # The next topic typed starts afresh, not after the last one's label.
    type_as_typed(qtbot, window, "virtual sch")
    key_as_typed(qtbot, window, Qt.Key.Key_Return)
    assert window.form.read_details(lenient=True).topics == (
        "financial.benefits", "education.virtual-school")
    assert window.form.ui.topic_edit.text() == ""


def test_enter_on_two_matches_adds_the_first(qtbot, window):
    go_to_topics(qtbot, window)
    type_as_typed(qtbot, window, "allow")
    first = offered_topics()[0]
    key_as_typed(qtbot, window, Qt.Key.Key_Return)
    assert chosen_topics(window) == [f"{first} — primary"]
    assert window.form.read_details(lenient=True).topics == ("financial.allowances",)
    assert window.form.ui.topic_edit.text() == ""
    assert not window.form.ui.error_label.isVisible()


def test_backspace_on_an_empty_field_removes_the_last_topic(qtbot, window):
    go_to_topics(qtbot, window)
    for typed in ("virtual sch", "Pupil Premium Plus", "means test"):
        type_as_typed(qtbot, window, typed)
        key_as_typed(qtbot, window, Qt.Key.Key_Return)
    assert window.form.read_details(lenient=True).topics == (
        "education.virtual-school", "education.pupil-premium-plus", "financial.means-test")
    type_as_typed(qtbot, window, "x")
    key_as_typed(qtbot, window, Qt.Key.Key_Backspace)  # deletes the x, not a topic
    assert len(chosen_topics(window)) == 3
    key_as_typed(qtbot, window, Qt.Key.Key_Backspace)
    assert window.form.read_details(lenient=True).topics == (
        "education.virtual-school", "education.pupil-premium-plus")
    assert chosen_topics(window)[0].endswith("— primary")  # the first added stays primary


# --- no wheel accidents --------------------------------------------------------------------

def wheel(widget: QWidget, steps: int = -1) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(widget.rect().center())), QPoint(),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_changes_a_combo_or_spin_box_only_when_it_has_the_focus(qtbot, location,
                                                                           clock):
    install_wheel_guard(QApplication.instance())
    window = open_window(qtbot, location, clock)
    ui = window.form.ui
    combo, spin = ui.arrangement_combo, ui.children_spin
    combo.setCurrentIndex(1)
    ui.notes_edit.setFocus()
    qtbot.waitUntil(ui.notes_edit.hasFocus)
    assert combo.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel gives no focus
    assert spin.focusPolicy() == Qt.FocusPolicy.StrongFocus
    wheel(combo)
    wheel(spin, 1)
    wheel(ui.local_authority_combo.lineEdit())
    assert combo.currentIndex() == 1
    assert spin.value() == 0
    assert ui.notes_edit.hasFocus()

    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    wheel(combo)
    assert combo.currentIndex() == 2
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    wheel(spin, 1)
    assert spin.value() == 1


# --- errors are marked -----------------------------------------------------------------------

def test_ctrl_enter_on_an_empty_form_marks_the_fields_and_shows_the_banner(qtbot, window):
    ui = window.form.ui
    ui.save_button.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: ui.error_label.isVisible())
    assert not ui.error_label.visibleRegion().isEmpty()
    assert "Caller type: required" in ui.error_label.text()
    marked = window.form.marked_fields()
    assert {"Caller type", "Arrangement", "Topics", "Outcomes"} <= set(marked)
    assert ui.caller_type_combo.property("invalid") is True
    assert ui.caller_type_combo.accessibleDescription() == "required"
    assert focused_name() == marked[0] == "Caller type"
    assert not ui.caller_type_combo.visibleRegion().isEmpty()
    assert ui.caller_type_label.property("invalid") is True  # its label is red too
    # A number typed wrong afterwards joins the problems named; it does not replace them.
    ui.duration_spin.setFocus()
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "2000")
    assert {"Caller type", "Duration"} <= set(window.form.marked_fields())
    assert "Caller type: required" in ui.error_label.text()
    assert "Duration: 2000" in ui.error_label.text()
    # Once the problems are gone, so are the marks.
    press(qtbot, Qt.Key.Key_Backspace)
    window.form.show_errors([])
    assert window.form.marked_fields() == []
    assert ui.caller_type_combo.property("invalid") is False
    assert ui.caller_type_combo.accessibleDescription() == ""


# --- numbers mean what they say --------------------------------------------------------------

def test_a_duration_past_twelve_hours_is_shown_as_typed_and_refused(qtbot, window, location,
                                                                   clock):
    fill_call_with_keyboard(qtbot, window)
    ui = window.form.ui
    ui.duration_spin.setFocus()
    qtbot.waitUntil(ui.duration_spin.hasFocus)
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "2000")
    assert ui.duration_spin.value() == 2000  # not 200
    assert window.form.marked_fields() == ["Duration"]
    assert "Duration: 2000 is not whole minutes from 0 to 720" in ui.error_label.text()
    assert "720" in ui.duration_spin.toolTip()
    assert focused_name() == "Duration"  # the warning does not take the cursor away
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert store_calls(location, clock) == []
    press(qtbot, Qt.Key.Key_Backspace)
    assert ui.duration_spin.value() == 200
    assert window.form.marked_fields() == []
    assert not ui.error_label.isVisible()


def test_letters_and_signs_in_a_number_are_said_not_silently_dropped(qtbot, window):
    ui = window.form.ui
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    assert focused_name() == "Number of children"
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "abc-1.5e3")
    assert ui.children_spin.value() != 15
    assert window.form.marked_fields() == ["Number of children"]
    assert ("Number of children: “abc-1.5e3” is not a whole number from 0 to 20"
            in ui.error_label.text())  # as typed, not "153 is not…"
    with pytest.raises(ValidationError) as raised:
        window.form.read_details()
    assert [e.field for e in raised.value.errors] == ["children_count"]

    ui.band_11_15_spin.setFocus()
    qtbot.waitUntil(ui.band_11_15_spin.hasFocus)
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "999999")
    assert ui.band_11_15_spin.value() == 99  # the box takes two digits, and says so
    assert ui.band_11_15_spin.text() == "99"
    assert "11–15" in window.form.marked_fields()
    assert "11–15: “999999” is not a whole number from 0 to 20" in ui.error_label.text()
    assert len(window.form.read_details(lenient=True).children_age_bands) <= 21  # a draft


def _lightest_and_darkest(widget) -> tuple[int, int]:
    image = widget.grab().toImage()
    values = [image.pixelColor(x, y).lightness()
              for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)]
    return max(values), min(values)


def test_a_palette_switched_while_the_desk_is_open_is_followed(qtbot, window):
    """A desk left open all day: the system turns dark after the form has shown a problem.
    The fields and the headings follow (no light box left, no dark text on dark)."""
    from PySide6.QtGui import QColor, QPalette

    ui = window.form.ui
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: ui.error_label.isVisible())  # the form's marks are drawn
    app = QApplication.instance()
    before = app.palette()
    dark = QPalette(before)
    for role, colour in ((QPalette.ColorRole.Window, "#202124"),
                         (QPalette.ColorRole.Base, "#2b2c2f"),
                         (QPalette.ColorRole.Button, "#303134"),
                         (QPalette.ColorRole.WindowText, "#e8eaed"),
                         (QPalette.ColorRole.ButtonText, "#e8eaed"),
                         (QPalette.ColorRole.Text, "#e8eaed")):
        dark.setColor(role, QColor(colour))
    try:
        app.setPalette(dark)
        QApplication.processEvents()
        for heading in (ui.mode_label, window.ui.history_title):
            lightest, darkest = _lightest_and_darkest(heading)
            assert darkest < 60 and lightest > 180, heading.text()  # light text on dark
        middle = ui.notes_edit.viewport()
        lightest, _ = _lightest_and_darkest(middle)
        assert lightest < 100  # an empty dark box, not a light one
        assert ui.caller_name_edit.palette().color(QPalette.ColorRole.Base) == QColor("#2b2c2f")
    finally:
        app.setPalette(before)
        QApplication.processEvents()


def test_a_follow_up_is_first_offered_a_week_on_or_the_next_day_the_line_opens(
        qtbot, location):
    from datetime import date

    from PySide6.QtWidgets import QDateEdit

    from advice_desk.clock import FixedClock
    from advice_desk.gui.dates import from_qdate
    from tests.factories import uk

    before_christmas = FixedClock(uk(2026, 12, 18, 10))  # a Friday: a week on is Christmas Day
    window = open_window(qtbot, location, before_christmas)
    (due,) = [edit for edit in window.form.findChildren(QDateEdit)
              if edit.accessibleName() == "Follow-up by"]
    qtbot.waitUntil(lambda: from_qdate(due.date()) != date(2026, 12, 25))
    # Christmas, the weekend, the bank holiday for Boxing Day: the Tuesday after
    assert from_qdate(due.date()) == date(2026, 12, 29)
    assert not window.form.is_dirty  # nobody has typed: no call has begun
