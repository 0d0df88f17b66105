"""The call form as a worker sees it on a 1366x768 screen: every field without scrolling."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QWidget

from tests.gui_support import (
    focused,
    focused_name,
    open_first_history_call,
    open_window,
    press,
    type_text,
)

SMALL_SCREEN = (1366, 768)


@pytest.fixture
def window(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    window.resize(*SMALL_SCREEN)
    qtbot.waitUntil(lambda: window.size().toTuple() == SMALL_SCREEN)
    QApplication.processEvents()
    return window


def fully_shown(widget: QWidget) -> bool:
    """On screen whole: not scrolled away, not cut off by the edge of the form."""
    return widget.isVisible() and widget.visibleRegion().boundingRect() == QRect(
        0, 0, widget.width(), widget.height())


def back_to_the_window(qtbot, window) -> None:
    """The offscreen platform makes each window it shows the active one, a popup list of
    matches too, and does so later, from the event queue: let that pass and take it back."""
    QApplication.processEvents()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def in_view(widget: QWidget) -> bool:
    """Shown whole, or (a field taller than the window) its full width and a good part."""
    shown = widget.visibleRegion().boundingRect()
    return fully_shown(widget) or (shown.width() == widget.width()
                                   and shown.height() >= min(widget.height(), 60))


def form_fields(window) -> list[QWidget]:
    """Everything on the form a worker can reach with Tab or a shortcut."""
    return [w for w in window.form.findChildren(QWidget)
            if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.accessibleName()
            and w.isVisibleTo(window.form)]


def test_every_field_notes_and_save_are_on_screen_without_scrolling(window):
    fields = form_fields(window)
    names = {w.accessibleName() for w in fields}
    assert {"Started", "Duration", "Channel", "Direction", "Caller type", "Arrangement",
            "Local authority", "Number of children", "0–4", "18+", "First-time caller",
            "How they heard of us", "Topics", "Chosen topics", "Outcomes", "Referred to",
            "Safeguarding concern", "Follow-up needed", "Follow-up by", "Follow-up note",
            "Consent to store details", "Name", "Phone", "Email", "Postcode", "Notes",
            "Save call", "Discard"} <= names
    assert [w.accessibleName() for w in fields if not fully_shown(w)] == []
    scroll = window.form.ui.scroll_area
    assert scroll.verticalScrollBar().maximum() == 0
    assert scroll.horizontalScrollBar().maximum() == 0
    assert window.form.ui.notes_edit.height() >= 3 * window.form.fontMetrics().height()


def test_a_field_that_gets_the_focus_is_scrolled_into_view(qtbot, window):
    window.resize(1366, 560)  # a smaller window: the form scrolls
    qtbot.waitUntil(lambda: window.form.ui.scroll_area.verticalScrollBar().maximum() > 0)
    ui = window.form.ui
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert focused_name() == "Consent to store details"
    assert fully_shown(focused())
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    assert focused_name() == "Caller type"
    assert fully_shown(ui.caller_type_combo)
    seen = []
    for _ in range(40):  # Tab through the whole form: each field is in view as it is reached
        press(qtbot, Qt.Key.Key_Tab)
        seen.append(focused_name())
        assert in_view(focused()), focused_name()
        if focused_name() == "Save call":
            break
    assert {"Follow-up needed", "Consent to store details", "Notes", "Save call"} <= set(seen)
    assert not ui.mode_label.visibleRegion().isEmpty()  # the header never scrolls away


def test_opening_a_call_from_the_history_shows_the_forms_header(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "Grand")
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "Special")
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    type_text(qtbot, "virtual sch")
    press(qtbot, Qt.Key.Key_Return)
    back_to_the_window(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)
    type_text(qtbot, "Adv")
    press(qtbot, Qt.Key.Key_Space)
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    type_text(qtbot, "Asked about the Virtual School.")
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)

    open_first_history_call(qtbot, window)
    header = window.form.ui.mode_label
    assert header.text() == f"Editing call {window.form.editing_call_id}"
    assert fully_shown(header)
    assert fully_shown(window.form.ui.notes_edit)


def test_with_the_earlier_calls_open_every_field_is_on_screen_and_the_calls_readable(
        qtbot, window, location, clock):
    """Ctrl+P opens the earlier calls in the place of the history: the form keeps its width,
    and each earlier call (a supervisor's, with the caller and the notes) reads in full."""
    from tests.test_gui_people import NOTE, _earlier_calls

    _earlier_calls(location, clock, [("Jo Example", "07700 900123")])
    ui = window.form.ui
    ui.consent_combo.setCurrentIndex(1)
    ui.caller_phone_edit.setFocus()
    type_text(qtbot, "07700900123")
    panel = window.callers_panel
    qtbot.waitUntil(lambda: panel.found is not None and panel.found.count == 1)
    assert panel.hint.isVisible()  # "1 earlier call — Ctrl+P" under the email: no wider
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()
    assert panel.isVisible()
    assert [w.accessibleName() for w in form_fields(window) if not fully_shown(w)] == []
    scroll = ui.scroll_area
    assert scroll.verticalScrollBar().maximum() == 0
    assert scroll.horizontalScrollBar().maximum() == 0
    listed = panel.list
    assert fully_shown(listed) and listed.width() >= 500
    item = listed.item(0)
    lines = item.text().splitlines()
    assert NOTE not in item.text()  # a worker's: no notes
    metrics = listed.fontMetrics()
    shown = listed.visualItemRect(item)
    assert max(metrics.horizontalAdvance(line) for line in lines) <= shown.width()
    assert shown.height() >= len(lines) * metrics.height()
    assert listed.horizontalScrollBar().maximum() == 0
    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert not panel.isVisible() and focused_name() == "Call history"


def test_the_chosen_topics_read_in_full_and_an_age_band_shows_all_it_holds(qtbot, window):
    ui = window.form.ui
    ui.topic_edit.setFocus()
    for typed in ("allowances (kin", "virtual sch"):
        type_text(qtbot, typed)
        press(qtbot, Qt.Key.Key_Return)
        back_to_the_window(qtbot, window)
        ui.topic_edit.setFocus()
    chosen = ui.topic_list
    assert chosen.count() == 2
    QApplication.processEvents()
    assert chosen.width() >= 180  # the width of the form's column, not a 90 px strip
    metrics = chosen.fontMetrics()
    for row in range(chosen.count()):
        item = chosen.item(row)
        cell = chosen.visualItemRect(item)
        assert chosen.viewport().rect().contains(cell), item.text()
        assert item.toolTip() == item.text()
        # What is drawn: the text elided in the middle, its start and end kept.
        drawn = metrics.elidedText(item.text(), Qt.TextElideMode.ElideMiddle, cell.width() - 8)
        assert drawn[:8] == item.text()[:8] and drawn[-7:] == item.text()[-7:], drawn
    assert chosen.item(0).text().endswith("— primary")
    assert chosen.horizontalScrollBar().maximum() == 0
    assert fully_shown(chosen)

    band = ui.band_0_4_spin
    band.setFocus()
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "999999")
    shown = band.lineEdit()
    assert shown.text() == band.text() == "99"  # all the box holds, whole
    assert shown.fontMetrics().horizontalAdvance(shown.text()) < shown.width()
    assert "0–4" in window.form.marked_fields()
