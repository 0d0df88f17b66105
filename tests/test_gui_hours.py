"""Opening hours in the window: the status-bar indicator, the form's out-of-hours flag and the
supervisor's hours page, all under a fixed clock (no waiting for real time)."""

from __future__ import annotations

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimer
from PySide6.QtWidgets import QWidget

from advice_desk.gui.hours_dialog import HoursDialog
from advice_desk.gui.line_status import LineStatusLabel
from advice_desk.people.audit import AuditTrail
from advice_desk.people.permissions import Role
from advice_desk.reference.hours import default_policy
from advice_desk.settings import Settings
from advice_desk.store.engine import open_store
from tests.factories import uk
from tests.gui_support import open_window
from tests.support import ANY_TIME, SUPERVISOR


def test_the_indicator_says_when_the_line_closes_and_warns_ten_minutes_before(qtbot, clock):
    clock.set(uk("2026-11-23 12:48"))
    label = LineStatusLabel(clock, default_policy())
    qtbot.addWidget(label)
    assert label.text() == "Line open · closes 14:00 (in 1 h 12 min)"
    assert not label.warning

    clock.set(uk("2026-11-23 13:49"))
    label._timer.timeout.emit()  # what the armed timer does at the next minute
    assert not label.warning
    clock.set(uk("2026-11-23 13:50"))
    with qtbot.waitSignal(label.closing_soon) as warned:
        label._timer.timeout.emit()
    assert warned.args == [uk("2026-11-23 14:00")]
    assert label.warning
    assert label.text() == "Line open · closes 14:00 (in 10 min)"
    clock.set(uk("2026-11-23 13:55"))
    with qtbot.assertNotEmitted(label.closing_soon):
        label.refresh()  # one warning per opening

    clock.set(uk("2026-11-23 14:00"))
    label.refresh()
    assert label.text() == "Line closed · opens Tue 09:30"
    assert not label.warning


def test_the_indicator_names_the_bank_holiday_and_rearms_itself(qtbot, clock):
    clock.set(uk("2026-12-25 11:00:20"))
    label = LineStatusLabel(clock, default_policy())
    qtbot.addWidget(label)
    assert label.text() == "Closed today: Christmas Day · opens Tue 09:30"
    assert label._timer.isActive()
    assert label._timer.interval() == 40_000  # the next minute boundary


def test_the_form_shows_out_of_hours_while_the_start_is_outside_hours(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = window.form
    assert form.ui.hours_label.text() == "In hours"
    form.ui.started_edit.setDateTime(QDateTime(QDate(2026, 11, 20), QTime(18, 5)))
    assert form.ui.hours_label.text() == "Out of hours"
    assert form.out_of_hours
    assert window.line_status.text() == "Line open · closes 14:00 (in 3 h 45 min)"


def test_a_supervisor_changes_the_hours_and_the_window_follows(qtbot, location, clock):
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)

    def fill_in_dialog() -> None:
        dialog = window.findChild(HoursDialog)
        dialog.ui.monday_edit.setText("09:30–10:00")
        dialog.ui.closures_edit.setPlainText("2026-11-24 Staff training")
        dialog.accept()

    QTimer.singleShot(0, fill_in_dialog)
    window.edit_hours()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "Opening hours saved.")
    assert window.line_status.text() == "Line closed · opens Wed 09:30"
    store = open_store(location, clock)
    saved = Settings(store, SUPERVISOR, ANY_TIME).hours_policy()
    store.close()
    assert saved.closed_reason(uk("2026-11-24 10:00").date())[1] == "Staff training"
    assert not saved.is_open(uk("2026-11-23 10:15"))


def test_the_hours_page_refuses_overlapping_sessions_and_bad_dates(qtbot):
    dialog = HoursDialog(default_policy())
    qtbot.addWidget(dialog)
    dialog.ui.tuesday_edit.setText("09:00–12:00, 11:30–14:00")
    dialog.ui.wednesday_edit.setText("14:00–09:00")
    dialog.ui.closures_edit.setPlainText("24/12/2026 Christmas Eve")
    dialog.accept()
    message = dialog.ui.hours_error_label.text()
    assert dialog.result() != HoursDialog.DialogCode.Accepted
    assert dialog.policy is None
    assert "Tuesday: 09:00–12:00 overlaps 11:30–14:00" in message
    assert "Wednesday 14:00–09:00: the end must be after the start" in message
    assert "closure line 1" in message
    assert dialog.ui.hours_error_label.isVisibleTo(dialog)


def test_every_hours_page_control_has_an_accessible_name(qtbot):
    dialog = HoursDialog(default_policy())
    qtbot.addWidget(dialog)
    unnamed = [w.objectName() for w in dialog.findChildren(QWidget)
               if w.focusPolicy() != Qt.FocusPolicy.NoFocus and not w.accessibleName()
               and not w.objectName().startswith("qt_") and w.isVisibleTo(dialog)]
    assert unnamed == []


def test_a_change_of_hours_is_audited(qtbot, location, clock):
    from advice_desk.people import audit
    from tests.support import SUPERVISOR

    test_a_supervisor_changes_the_hours_and_the_window_follows(qtbot, location, clock)
    store = open_store(location, clock)
    (event,) = AuditTrail(store, SUPERVISOR, clock).events(
        audit.AuditQuery(action="settings-changed"))
    store.close()
    assert (event.actor, event.subject) == ("Sam Supervisor", "setting hours")
    assert audit.describe(event) == "changed closures and sessions"
