"""The supervisor's tools reached from the main window, and what changes when they are used."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from advice_desk.calls.service import Calls
from advice_desk.gui.taxonomy_dialog import TaxonomyDialog
from advice_desk.people.accounts import actor_of
from advice_desk.people.permissions import Role
from tests.factories import a_call, uk
from tests.gui_support import open_window
from tests.support import ANY_TIME, SUPERVISOR


def test_a_topic_added_by_a_supervisor_can_be_chosen_at_once(qtbot, location, clock):
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    window.topics_action.trigger()
    dialog = window.findChild(TaxonomyDialog)
    qtbot.waitUntil(lambda: dialog.loaded)
    label = next(w for w in dialog.findChildren(type(window.form.ui.topic_edit))
                 if w.accessibleName() == "Label")
    label.setText("Kinship allowance appeals")
    add = next(b for b in dialog.findChildren(QPushButton) if b.accessibleName() == "Add topic")
    with qtbot.waitSignal(dialog.changed):
        add.click()
    qtbot.waitUntil(lambda: window.ui.topic_filter_combo.findText(
        "Kinship allowance appeals") >= 0)
    window.form.ui.topic_edit.setText("allowance appeals")
    window.form._add_typed_topic()
    assert window.form.read_details(lenient=True).topics == ("kinship-allowance-appeals",)


def test_a_worker_has_no_supervisor_tools(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    for action in window.supervisor_actions:
        assert not action.isEnabled()
    window.edit_topics()
    assert window.findChild(TaxonomyDialog) is None


def test_the_users_and_audit_windows_open_from_the_supervisor_menu(qtbot, location, clock):
    from advice_desk.gui.audit_view import AuditWindow
    from advice_desk.gui.users_dialog import UsersDialog

    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    window.users_action.trigger()
    users = window.findChild(UsersDialog)
    qtbot.waitUntil(lambda: users.isVisible())
    window.audit_action.trigger()
    trail = window.findChild(AuditWindow)
    qtbot.waitUntil(lambda: trail.model.rowCount() > 0)
    actions = {trail.model.data(trail.model.index(row, 2))
               for row in range(trail.model.rowCount())}
    assert "Sign in" in actions


def test_the_funder_export_runs_off_the_gui_thread_and_a_cancel_writes_nothing(
        qtbot, location, clock, tmp_path):
    import threading

    from advice_desk.gui.export_dialog import ExportDialog

    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    window.export_action.trigger()
    dialog = window.findChild(ExportDialog)
    out = tmp_path / "out"
    out.mkdir()
    dialog.ui.export_folder_edit.setText(str(out))

    gate = threading.Event()  # hold the store thread so the cancel surely comes first
    window.tasks.run(gate.wait)
    dialog.start()
    dialog.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not dialog.running)
    assert "cancelled" in dialog.ui.export_status.text()
    assert list(out.iterdir()) == []

    dialog.ui.export_rows_check.setChecked(True)
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running)
    assert sorted(p.name for p in out.iterdir()) == ["calls.csv", "data-dictionary.md",
                                                    "summary.csv"]
    progress = dialog.ui.export_progress
    assert progress.value() == progress.maximum() > 0
    assert dialog.ui.export_status.text().startswith("Written to")
    # An export done has nothing left to cancel: the button says Close, and closes.
    close = dialog.ui.export_cancel_button
    assert (close.text(), close.accessibleName(), close.isEnabled()) == ("&Close", "Close", True)
    assert dialog.ui.export_start_button.isEnabled()
    close.click()
    assert not dialog.isVisible()


def test_the_export_button_reads_cancel_only_while_the_export_runs(qtbot, location, clock,
                                                                   tmp_path):
    import threading

    from advice_desk.gui.export_dialog import ExportDialog

    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    window.export_action.trigger()
    dialog = window.findChild(ExportDialog)
    button = dialog.ui.export_cancel_button
    assert (button.text(), button.isEnabled()) == ("&Close", True)
    dialog.ui.export_folder_edit.setText(str(tmp_path))
    gate = threading.Event()
    window.tasks.run(gate.wait)
    dialog.start()
    assert (button.text(), button.accessibleName()) == ("&Cancel", "Cancel")
    assert not dialog.ui.export_start_button.isEnabled()
    gate.set()
    qtbot.waitUntil(lambda: not dialog.running)
    assert button.text() == "&Close"


def test_a_supervisor_changes_the_settings_in_a_dialog(qtbot, location, clock):
    from datetime import timedelta

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLineEdit, QSpinBox

    from advice_desk.gui.settings_dialog import SettingsDialog
    from advice_desk.settings import Settings
    from tests.factories import opened_store
    from tests.gui_support import unnamed_controls

    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    assert window.settings_action in window.supervisor_menu.actions()
    window.settings_action.trigger()
    dialog = window.findChild(SettingsDialog)
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled())
    assert unnamed_controls(dialog) == []
    edits = [*dialog.findChildren(QLineEdit), *dialog.findChildren(QSpinBox)]
    fields = {w.accessibleName(): w for w in edits if w.accessibleName()}
    assert set(fields) >= {"Helpline's name", "Keep personal details for",
                           "Disclosure threshold", "k (k-anonymity)", "Lock after no use for"}
    retention = fields["Keep personal details for"]
    assert (retention.value(), retention.minimum(), retention.suffix()) == (12, 1, " months")
    assert retention.toolTip() == "Default: 12; from 1 to 240"
    assert fields["k (k-anonymity)"].minimum() == 3  # k = 1 would turn k-anonymity off
    assert fields["Disclosure threshold"].minimum() == 3
    assert fields["k (k-anonymity)"].toolTip() == "Default: 5; from 3 to 1000"
    retention.setFocus()
    retention.selectAll()
    qtbot.keyClicks(retention, "1")  # one month, said so as it is typed
    assert (retention.value(), retention.text()) == (1, "1 month")
    qtbot.keyClicks(retention, "8")
    assert (retention.value(), retention.text()) == (18, "18 months")
    fields["Lock after no use for"].setValue(3)
    fields["Helpline's name"].setText("Kinship Line")
    with qtbot.waitSignal(dialog.saved):
        qtbot.keyClick(dialog.save_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.windowTitle() == "Advice Desk — Kinship Line")
    assert window.idle_watch.limit == timedelta(minutes=3)
    assert not dialog.isVisible()
    with opened_store(location, clock) as store:
        settings = Settings(store, window.desk.actor, clock)
        assert settings.retention_months() == 18

    # A bad value is refused by the core and said in the dialog; nothing is saved.
    window.settings_action.trigger()
    dialog = next(d for d in window.findChildren(SettingsDialog) if d.isVisible())
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled())
    dialog.ui.helpline_name_edit.setText("   ")
    dialog.save()
    qtbot.waitUntil(lambda: "cannot be empty" in dialog.ui.settings_message.text())
    assert dialog.ui.settings_message.text() == "The helpline's name cannot be empty."
    assert dialog.focusWidget() is dialog.ui.helpline_name_edit
    assert dialog.isVisible()
    assert window.windowTitle() == "Advice Desk — Kinship Line"


def test_a_worker_has_no_settings(qtbot, location, clock):
    from advice_desk.gui.settings_dialog import SettingsDialog

    window = open_window(qtbot, location, clock)
    assert not window.settings_action.isEnabled()
    window.edit_settings()
    assert window.findChild(SettingsDialog) is None


def test_retention_runs_when_the_app_starts(qtbot, location, clock):

    from advice_desk.people.accounts import get_or_create_user
    from advice_desk.store.engine import open_store

    old = uk(2025, 9, 1, 10, 0)  # fourteen months before the clock
    store = open_store(location, clock)
    amy = get_or_create_user(store, "amy", clock)
    call_id = Calls(store, actor_of(amy), clock).log(
        a_call(old, 300, topics=("legal",), consent_to_store_details=True,
               caller_name="Jo Example", notes="Old notes"))
    store.close()
    window = open_window(qtbot, location, clock)
    qtbot.waitUntil(lambda: "retention" in window.statusBar().currentMessage())
    store = open_store(location, clock)
    details = Calls(store, SUPERVISOR, ANY_TIME).get(call_id).details
    store.close()
    assert (details.caller_name, details.notes, details.caller_type) == (None, None,
                                                                         "grandparent")
