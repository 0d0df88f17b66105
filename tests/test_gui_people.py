"""People in the window: the earlier calls of a repeat caller beside the form, and a
supervisor's *A person's data* (a part of a name, a list to tick, only ticked calls saved or
erased)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from sqlmodel import select

from advice_desk.calls.service import Calls
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.people.permissions import Role
from advice_desk.store.engine import open_store
from advice_desk.store.models import AuditEvent, Call
from tests.factories import a_call, uk
from tests.gui_support import focused_name, open_window, press, type_text

START = uk(2026, 11, 23, 9, 40)
NOTE = "Allowance stopped after the SGO was made"


def _earlier_calls(location, clock, people: list[tuple[str, str]]) -> list[int]:
    """Calls taken by bob ("Bob Adviser"), one for each (name, phone), with notes."""
    store = open_store(location, clock)
    try:
        bob = get_or_create_user(store, "bob", clock, display_name="Bob Adviser")
        return [Calls(store, actor_of(bob), clock).log(
            a_call(START, 300, topics=("legal",), consent_to_store_details=True,
                   caller_name=name, caller_phone=phone, notes=NOTE))
            for name, phone in people]
    finally:
        store.close()


def _audit(location, clock, action: str) -> list[AuditEvent]:
    store = open_store(location, clock)
    try:
        with store.read() as session:
            return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))
    finally:
        store.close()


def _cells(table) -> list[list[str]]:
    return [[table.item(row, column).text() for column in range(table.columnCount())]
            for row in range(table.rowCount())]


def _headers(table) -> list[str]:
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]


def _entries(panel) -> list[str]:
    return [panel.list.item(row).text() for row in range(panel.list.count())]


# --- repeat callers ----------------------------------------------------------------------

def _type_the_callers_number(qtbot, window, phone: str) -> None:
    form = window.form
    form.ui.consent_combo.setFocus()
    form.ui.consent_combo.setCurrentIndex(1)  # Yes: the caller agrees to store details
    form.ui.caller_phone_edit.setFocus()
    type_text(qtbot, phone)


def test_a_worker_types_a_known_number_and_sees_the_earlier_calls_without_notes_or_names(
        qtbot, location, clock):
    _earlier_calls(location, clock, [("Jo Example", "07700 900123"),
                                     ("Jo Example", "+44 7700 900123"),
                                     ("Brian Other", "07700 900999")])
    window = open_window(qtbot, location, clock)
    panel = window.callers_panel
    assert not panel.isVisible() and not panel.hint.isVisible()
    _type_the_callers_number(qtbot, window, "07700900123")
    qtbot.waitUntil(lambda: panel.hint.isVisible())
    assert panel.hint.text() == "2 earlier calls — Ctrl+P"
    assert not panel.hint.visibleRegion().isEmpty()

    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert panel.isVisible()
    assert focused_name() == "Earlier calls of this caller"
    assert not panel.list.visibleRegion().isEmpty() and panel.list.width() >= 300
    rows = _entries(panel)
    assert rows == ["Mon 23 Nov 2026 09:40 — Legal matters\nAdvice given"] * 2
    text = repr(rows)
    for secret in (NOTE, "Jo Example", "Bob Adviser", "07700"):
        assert secret not in text, secret

    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert not panel.isVisible()
    assert focused_name() == window.form.ui.caller_phone_edit.accessibleName()
    (event,) = _audit(location, clock, "repeat-caller-lookup")
    assert "900123" not in (event.detail or "")


def test_a_supervisor_sees_everything_of_the_earlier_calls(qtbot, location, clock):
    _earlier_calls(location, clock, [("Jo Example", "07700 900123")])
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    panel = window.callers_panel
    _type_the_callers_number(qtbot, window, "+44 7700 900123")
    qtbot.waitUntil(lambda: panel.hint.text() == "1 earlier call — Ctrl+P")
    window.callers_action.trigger()
    (row,) = _entries(panel)
    assert row.splitlines()[2:] == ["Taken by Bob Adviser · caller Jo Example · 07700 900123",
                                    f"Notes: {NOTE}"]


def test_no_lookup_without_consent_and_a_changed_number_hides_the_hint(
        qtbot, location, clock):
    _earlier_calls(location, clock, [("Jo Example", "07700 900123")])
    window = open_window(qtbot, location, clock)
    panel = window.callers_panel
    _type_the_callers_number(qtbot, window, "07700900123")
    qtbot.waitUntil(lambda: panel.hint.isVisible())
    press(qtbot, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: not panel.hint.isVisible())
    window.form.ui.consent_combo.setCurrentIndex(0)  # No: the details are cleared
    lookups = panel.lookups
    panel.look_up()
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert panel.lookups == lookups and panel.found is None


# --- a person's data ---------------------------------------------------------------------

def _people_dialog(qtbot, location, clock):
    from advice_desk.gui.people_dialog import PeopleDialog

    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    window.people_action.trigger()
    dialog = window.findChild(PeopleDialog)
    qtbot.waitUntil(lambda: dialog.isVisible())
    return window, dialog


def test_a_part_of_a_name_lists_two_people_and_only_the_ticked_calls_are_saved_and_erased(
        qtbot, location, clock, tmp_path):
    example, other = _earlier_calls(location, clock, [("Margaret Example", "07700 900123"),
                                                      ("Margaret Other", "07700 900999")])
    _window, dialog = _people_dialog(qtbot, location, clock)
    qtbot.keyClicks(dialog.ui.people_value_edit, "margaret")
    qtbot.keyClick(dialog.ui.people_value_edit, Qt.Key.Key_Return)
    table = dialog.ui.people_calls_table
    qtbot.waitUntil(lambda: dialog.ui.people_result.text() != "")
    assert table.rowCount() == 2, dialog.ui.people_result.text()
    assert [row[1:3] for row in _cells(table)] == [["Margaret Example", "07700 900123"],
                                                   ["Margaret Other", "07700 900999"]]
    assert _headers(table)[:3] == ["Date", "Name", "Phone"]
    assert dialog.ticked() == []  # nothing until the supervisor ticks
    assert not dialog.ui.people_save_button.isEnabled()
    assert not dialog.ui.people_erase_button.isEnabled()
    assert not table.visibleRegion().isEmpty()

    table.setCurrentCell(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_Space)  # tick Margaret Example's call
    assert dialog.ticked() == [example]
    assert dialog.ui.people_result.text().startswith("2 calls found, 1 ticked.")
    saved = tmp_path / "margaret.md"
    dialog.save_to(saved)
    qtbot.waitUntil(lambda: saved.exists())
    text = saved.read_text("utf-8")
    assert "Margaret Example" in text and "Margaret Other" not in text

    dialog.erase()
    qtbot.waitUntil(lambda: dialog.ui.people_result.text() == "Erased the details of 1 calls.")
    store = open_store(location, clock)
    try:
        with store.read() as session:
            assert session.get(Call, example).caller_name is None
            assert session.get(Call, other).caller_name == "Margaret Other"
    finally:
        store.close()
    dialog.find_calls()
    qtbot.waitUntil(lambda: [row[1] for row in _cells(table)] == ["Margaret Other"])
    events = _audit(location, clock, "person-search")
    assert len(events) == 2
    assert all("margaret" not in (e.detail or "").lower() for e in events)
    assert [json.loads(e.detail or "")["calls"] for e in events] == [2, 1]


def test_a_phone_number_in_any_format_lists_the_persons_calls_to_tick(
        qtbot, location, clock, tmp_path):
    _earlier_calls(location, clock, [("Jo Example", "07700 900123"),
                                     ("Jo Example", "+44 7700 900123")])
    _window, dialog = _people_dialog(qtbot, location, clock)
    dialog.ui.people_by_combo.setCurrentIndex(1)  # phone
    dialog.ui.people_value_edit.setText("07700900123")
    dialog.find_calls()
    qtbot.waitUntil(lambda: len(dialog.found) == 2)
    dialog.ui.people_tick_all_button.click()
    assert len(dialog.ticked()) == 2
    dialog.erase()
    qtbot.waitUntil(lambda: dialog.ui.people_result.text() == "Erased the details of 2 calls.")
    dialog.find_calls()
    qtbot.waitUntil(lambda: dialog.ui.people_result.text().startswith("0 calls found"))
