"""The supervisor's tools reached from the main window, and what changes when they are used."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from advice_desk.calls.service import Calls
from advice_desk.gui.taxonomy_dialog import TaxonomyDialog
from advice_desk.people.accounts import actor_of
from advice_desk.people.permissions import Role
from tests.factories import a_call
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
    assert "sign-in" in actions


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


def test_retention_runs_when_the_app_starts(qtbot, location, clock):
    from datetime import datetime

    from advice_desk.clock import UK
    from advice_desk.people.accounts import get_or_create_user
    from advice_desk.store.engine import open_store

    old = datetime(2025, 9, 1, 10, 0, tzinfo=UK)  # fourteen months before the clock
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
