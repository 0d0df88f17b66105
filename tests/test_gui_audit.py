"""The supervisor's audit trail window: newest first, filtered by action, person and UK dates,
loading a page at a time, and read-only (offscreen Qt, real store, fixed clock)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import QDate, QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QWidget

from advice_desk.gui.audit_view import AuditWindow
from advice_desk.gui.paged_model import PAGE_SIZE
from advice_desk.people import accounts, audit
from advice_desk.people.audit import AuditTrail
from advice_desk.people.permissions import app_actor
from tests.factories import add_account, modules_loaded_by, uk
from tests.gui_support import unnamed_controls
from tests.support import ANY_TIME, PASSWORD


@pytest.fixture
def signed_in(store, clock, sam) -> None:
    """Sam signs in and adds Amy; Amy gets her password wrong once, then right: a minute
    apart, from 10:15 (GMT) on Monday 23 November 2026."""
    clock.advance(timedelta(minutes=1))
    accounts.sign_in(store, "sam", PASSWORD, clock)
    clock.advance(timedelta(minutes=1))
    add_account(store, clock, sam, "amy")
    clock.advance(timedelta(minutes=1))
    with pytest.raises(accounts.SignInError):
        accounts.sign_in(store, "amy", "not her password", clock)
    clock.advance(timedelta(minutes=1))
    accounts.sign_in(store, "amy", PASSWORD, clock)


def open_window(qtbot, tasks, store, sam, clock) -> AuditWindow:
    window = AuditWindow(tasks, AuditTrail(store, sam, ANY_TIME), clock)
    qtbot.addWidget(window)
    window.open()  # window-modal, never blocking
    wait_loaded(qtbot, window)
    return window


def wait_loaded(qtbot, window: AuditWindow) -> None:
    qtbot.waitUntil(lambda: not window.tasks.busy and not window.model.loading)


def table(window: AuditWindow) -> list[list[str]]:
    model = window.model
    return [[model.data(model.index(r, c)) for c in range(model.columnCount())]
            for r in range(model.rowCount())]


def test_the_trail_lists_sign_ins_and_users_newest_first(qtbot, store, clock, sam, signed_in,
                                                         tasks):
    window = open_window(qtbot, tasks, store, sam, clock)
    assert [window.model.headerData(c, Qt.Orientation.Horizontal)
            for c in range(window.model.columnCount())] == [
        "When", "Who", "What", "About", "Details"]
    assert table(window) == [
        ["Mon 23 Nov 2026 10:19:00", "Amy Adviser", "Sign in", "", ""],
        ["Mon 23 Nov 2026 10:18:00", "amy", "Sign in failed", "user amy", ""],
        ["Mon 23 Nov 2026 10:17:00", "Sam Supervisor", "User added", "user amy", "as a worker"],
        ["Mon 23 Nov 2026 10:16:00", "Sam Supervisor", "Sign in", "", ""],
        ["Mon 23 Nov 2026 10:15:00", "Sam Supervisor", "User added", "user sam",
         "made at the first start; as a supervisor"],
    ]
    assert window.ui.audit_status.text() == "5 events."
    assert window.ui.audit_from_date.date() == QDate(2026, 10, 25)  # the last 30 days
    assert window.ui.audit_to_date.date() == QDate(2026, 11, 23)


def test_what_the_app_did_itself_shows_its_whole_name(qtbot, store, clock, sam, tasks):
    window = open_window(qtbot, tasks, store, sam, clock)
    view = window.ui.audit_table
    name = app_actor().name  # retention at start-up is signed by the app
    assert view.columnWidth(1) > view.fontMetrics().horizontalAdvance(name) + 2 * 3


def test_the_times_are_uk_time(qtbot, store, clock, sam, tasks):
    clock.set(uk(2026, 7, 1, 10, 15))  # British Summer Time: 09:15 UTC
    accounts.sign_in(store, "sam", PASSWORD, clock)
    window = open_window(qtbot, tasks, store, sam, clock)
    assert window.model.row(0).at.hour == 9  # stored as UTC
    assert table(window)[0][:3] == ["Wed 01 Jul 2026 10:15:00", "Sam Supervisor", "Sign in"]
    assert window.ui.audit_to_date.date() == QDate(2026, 7, 1)


def test_filtering_by_action_narrows_the_rows(qtbot, store, clock, sam, signed_in, tasks):
    window = open_window(qtbot, tasks, store, sam, clock)
    combo = window.ui.action_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "All actions", "Sign in", "Sign in failed", "User added"]
    combo.setCurrentIndex(combo.findText("Sign in failed"))
    wait_loaded(qtbot, window)
    assert [row[1:4] for row in table(window)] == [["amy", "Sign in failed", "user amy"]]
    assert window.ui.audit_status.text() == "1 event."

    combo.setCurrentIndex(combo.findText("Sign in"))
    wait_loaded(qtbot, window)
    assert [row[1] for row in table(window)] == ["Amy Adviser", "Sam Supervisor"]
    combo.setCurrentIndex(0)
    wait_loaded(qtbot, window)
    assert len(table(window)) == 5


def test_filtering_by_person_narrows_the_rows(qtbot, store, clock, sam, signed_in, tasks):
    window = open_window(qtbot, tasks, store, sam, clock)
    qtbot.keyClicks(window.ui.person_edit, "Sam")
    qtbot.keyClick(window.ui.person_edit, Qt.Key.Key_Return)
    wait_loaded(qtbot, window)
    assert window.model.query.actor == "Sam"
    assert [row[1:3] for row in table(window)] == [
        ["Sam Supervisor", "User added"], ["Sam Supervisor", "Sign in"],
        ["Sam Supervisor", "User added"]]

    window.ui.person_edit.clear()
    qtbot.keyClicks(window.ui.person_edit, "Adviser")  # applied after a pause in typing
    qtbot.waitUntil(lambda: window.model.query.actor == "Adviser")
    wait_loaded(qtbot, window)
    assert [row[1:3] for row in table(window)] == [["Amy Adviser", "Sign in"]]


def test_a_date_range_without_events_shows_no_rows(qtbot, store, clock, sam, signed_in,
                                                   tasks):
    window = open_window(qtbot, tasks, store, sam, clock)
    window.ui.audit_from_date.setDate(QDate(2026, 1, 1))
    window.ui.audit_to_date.setDate(QDate(2026, 1, 31))
    qtbot.waitUntil(lambda: window.model.query.date_to == date(2026, 1, 31))
    wait_loaded(qtbot, window)
    assert window.model.rowCount() == 0
    assert window.ui.audit_status.text() == "No events match."

    window.ui.audit_to_date.setDate(QDate(2026, 11, 23))  # back to a range with the events
    qtbot.waitUntil(lambda: window.model.query.date_to == date(2026, 11, 23))
    wait_loaded(qtbot, window)
    assert window.model.rowCount() == 5


def test_more_than_a_page_loads_the_next_page_when_asked(qtbot, store, clock, sam, tasks):
    with store.write() as session:  # 250 events, a second apart, after sam was added
        for n in range(250):
            clock.advance(timedelta(seconds=1))
            audit.record(session, clock, sam, "call-edited", f"call {n}", {"fields": ["notes"]})
    window = open_window(qtbot, tasks, store, sam, clock)
    model = window.model
    assert model.rowCount() == PAGE_SIZE == 200
    assert model.canFetchMore(QModelIndex())
    assert window.ui.audit_status.text() == "The newest 200 events; scroll down for more."
    assert table(window)[0][3:] == ["call 249", "changed notes"]

    model.fetchMore(QModelIndex())
    qtbot.waitUntil(lambda: model.rowCount() == 251)
    wait_loaded(qtbot, window)
    assert not model.canFetchMore(QModelIndex())
    rows = table(window)
    assert [row[3] for row in rows[199:202]] == ["call 50", "call 49", "call 48"]
    assert rows[-1][2:4] == ["User added", "user sam"]  # the oldest comes last
    assert window.ui.audit_status.text() == "251 events."


def test_nothing_in_the_window_can_change_an_event(qtbot, store, clock, sam, signed_in,
                                                   tasks):
    window = open_window(qtbot, tasks, store, sam, clock)
    model, view = window.model, window.ui.audit_table
    index = model.index(0, 2)
    assert not model.flags(index) & Qt.ItemFlag.ItemIsEditable
    assert view.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    assert not model.setData(index, "sign-out")
    assert not model.removeRows(0, 1)
    assert model.data(index) == "Sign in"


def test_every_control_has_an_accessible_name(qtbot, store, clock, sam, tasks):
    window = open_window(qtbot, tasks, store, sam, clock)
    assert unnamed_controls(window) == []
    names = {w.accessibleName() for w in window.findChildren(QWidget)}
    assert {"From", "To", "Action", "Person", "Audit events", "Close"} <= names


def test_importing_the_window_does_not_load_the_database_layer():
    assert modules_loaded_by("import advice_desk.gui.audit_view", ("sqlmodel", "sqlalchemy")) == []


def test_details_read_as_words_not_debug_output(qtbot, store, clock, sam, tasks):
    """ "with note: True" and "fields: caller_name, notes" were what a supervisor read."""
    details = [("call-reviewed", {"with note": True}), ("call-reviewed", {"with note": False}),
               ("call-edited", {"fields": ["caller_name", "notes", "topics"]}),
               ("legal-hold", {"held": True}), ("legal-hold", {"held": False}),
               ("erasure", {"calls": 3, "held": 1, "by": "phone"}),
               ("retention", {"calls": 1, "months": 12}),
               ("export", {"files": ["summary.csv", "calls.csv"], "threshold": 5, "k": 5}),
               ("person-search", {"by": "name", "calls": 2}),
               ("repeat-caller-lookup", {"by": ["email", "phone"], "calls": 1}),
               ("call-corrected", {"from": "silent", "to": "hang-up"}),
               ("call-withdrawn", {"kind": "abusive"})]
    with store.write() as session:
        for action, detail in details:
            clock.advance(timedelta(seconds=1))
            audit.record(session, clock, sam, action, None, detail)
    window = open_window(qtbot, tasks, store, sam, clock)
    assert [row[4] for row in reversed(table(window))][1:] == [
        "with a review note", "without a review note",
        "changed caller name, notes and topics",
        "legal hold put on", "legal hold lifted",
        "personal details of 3 calls erased (found by phone); 1 call on legal hold kept",
        "personal details of 1 call erased (older than 12 months)",
        "files summary.csv and calls.csv; k-anonymity with k = 5; counts under 5 hidden",
        "2 calls found by name", "1 call found by email and phone",
        "changed from silent to hang-up", "withdrawn (logged as abusive)",
    ]
    assert not any("True" in row[4] or "_" in row[4] for row in table(window))
