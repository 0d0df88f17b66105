"""Reviewing calls and ticking off follow-ups in the window (offscreen Qt, real store)."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from advice_desk.calls.service import Calls
from advice_desk.gui.follow_ups import FollowUpsDialog
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.people.permissions import Role
from advice_desk.privacy.personal_data import PersonalData
from advice_desk.store.engine import open_store
from tests.factories import a_call, uk
from tests.gui_support import make_account, open_window, type_text
from tests.support import ANY_TIME, SUPERVISOR


def seed(location, clock, follow_up_on: date | None = None) -> list[int]:
    make_account(location, clock)  # sam and amy
    store = open_store(location, clock)
    amy = get_or_create_user(store, "amy", clock)
    start = uk(2026, 11, 23, 9, 45)
    ids = [Calls(store, actor_of(amy), clock).log(a_call(
        start, 300, arrangement="informal", topics=("family.siblings",), safeguarding=n == 1,
        notes=f"Call number {n}", follow_up_on=follow_up_on,
        follow_up_note="Send the sibling contact leaflet" if follow_up_on else None))
        for n in range(2)]
    store.close()
    return ids


def test_a_supervisor_reviews_the_calls_still_to_review(qtbot, location, clock):
    first, second = seed(location, clock)
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    qtbot.keyClick(window, Qt.Key.Key_R,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    review = window.review_window
    qtbot.waitUntil(lambda: review.model.rowCount() == 2)

    review.ui.review_view.setFocus()
    review.ui.review_view.selectRow(0)
    qtbot.waitUntil(lambda: review.current is not None)
    assert "Call number 1" in review.ui.call_details_view.toPlainText()
    review.ui.review_note_edit.setFocus()
    type_text(qtbot, "Safeguarding handled well.")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: review.model.rowCount() == 1)
    assert review.ui.review_status.text() == f"Call {second} marked reviewed."

    review.ui.review_show_combo.setCurrentIndex(1)  # safeguarding
    qtbot.waitUntil(lambda: review.model.rowCount() == 1 and review.model.call_id(0) == second)
    store = open_store(location, clock)
    assert Calls(store, SUPERVISOR, ANY_TIME).get(
        second).review_note == "Safeguarding handled well."
    assert Calls(store, SUPERVISOR, ANY_TIME).get(first).reviewed_at is None
    store.close()


def test_a_worker_ticks_off_a_follow_up(qtbot, location, clock):
    calls = seed(location, clock, follow_up_on=date(2026, 11, 23))
    window = open_window(qtbot, location, clock)
    assert not window.review_action.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(FollowUpsDialog)
    tree = dialog.ui.follow_ups_tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 3
                    and tree.topLevelItem(1).childCount() == 2)
    assert tree.topLevelItem(1).text(0) == "Due today (2)"
    item = tree.topLevelItem(1).child(0)
    assert item.text(4) == "Send the sibling contact leaflet"
    assert item.text(0) == "Mon 23 Nov 2026"  # with its year: an old one never reads as new
    ticked = int(item.text(1))
    tree.setFocus()
    tree.setCurrentItem(item)
    qtbot.keyClick(tree, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: tree.topLevelItem(1).childCount() == 1)
    store = open_store(location, clock)
    with store.engine.connect() as connection:
        done = connection.execute(sa.text(
            "select id from call where follow_up_done_at is not null")).scalars().all()
    store.close()
    assert done == [ticked] and ticked in calls


def test_what_to_do_shows_without_scrolling_sideways_in_a_narrow_window(qtbot, location,
                                                                         clock):
    """A long topic gives way (cut short, whole in its tooltip) so that the promise shows."""
    make_account(location, clock)
    store = open_store(location, clock)
    amy = get_or_create_user(store, "amy", clock)
    Calls(store, actor_of(amy), clock).log(a_call(
        uk(2026, 11, 23, 9, 45), 300, topics=("financial.allowances",),
        follow_up_on=date(2026, 11, 23),
        follow_up_note="Ring back with the kinship allowance rates for Leeds"))
    store.close()
    window = open_window(qtbot, location, clock)
    qtbot.keyClick(window, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(FollowUpsDialog)
    tree = dialog.ui.follow_ups_tree
    qtbot.waitUntil(lambda: tree.topLevelItem(1) is not None
                    and tree.topLevelItem(1).childCount() == 1)
    dialog.resize(700, 460)
    qtbot.waitUntil(lambda: dialog.width() == 700)
    item = tree.topLevelItem(1).child(0)
    assert item.toolTip(3) == item.text(3) == (
        "Allowances (kinship, SGO, fostering) (Financial support)")
    assert item.toolTip(4) == item.text(4)
    viewport = tree.viewport().width()
    shown = viewport - tree.header().sectionViewportPosition(4)
    assert shown >= 240, f"'What to do' shows {shown} px of {viewport}"
    assert not tree.horizontalScrollBar().isVisible()


def open_review(qtbot, location, clock):
    ids = seed(location, clock)
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    qtbot.keyClick(window, Qt.Key.Key_R,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    review = window.review_window
    qtbot.waitUntil(lambda: review.model.rowCount() == 2)
    return window, review, ids


def test_down_and_up_in_the_list_change_the_shown_call(qtbot, location, clock):
    _, review, _ = open_review(qtbot, location, clock)
    view = review.ui.review_view
    view.setFocus()  # the list's outline goes to its first row: that call is shown
    qtbot.waitUntil(lambda: review.current is not None)
    first = review.current.id
    assert first == review.model.call_id(0)
    assert view.selectionModel().isRowSelected(0)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: review.current.id == review.model.call_id(1))
    assert f"Call {review.model.call_id(1)}" in review.ui.call_details_view.toPlainText()
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: review.current.id == first)


def test_the_status_line_sits_at_the_bottom_and_the_list_takes_the_height(qtbot, location,
                                                                          clock):
    _, review, _ = open_review(qtbot, location, clock)
    review.showNormal()
    review.resize(1366, 768)
    qtbot.waitUntil(lambda: review.height() == 768)
    status = review.ui.review_status
    bottom = status.mapTo(review, status.rect().bottomLeft()).y()
    assert bottom >= 768 - 12
    splitter = review.ui.review_splitter
    assert splitter.height() >= 768 - 100  # no empty band between the list and the status
    for widget in (review.ui.review_view, review.ui.call_details_view,
                   review.ui.mark_reviewed_button, review.ui.legal_hold_check):
        assert not widget.visibleRegion().isEmpty(), widget.objectName()


def test_esc_and_ctrl_w_close_the_review(qtbot, location, clock):
    window, review, _ = open_review(qtbot, location, clock)
    qtbot.waitUntil(lambda: review.isActiveWindow())
    qtbot.keyClick(review.ui.review_view, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not review.isVisible())
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow())
    qtbot.keyClick(window, Qt.Key.Key_R,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: review.isVisible() and review.isActiveWindow())
    qtbot.keyClick(review.ui.review_view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not review.isVisible())


def _hold_events(location, clock) -> list[tuple[str, str, str]]:
    store = open_store(location, clock)
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text(
            "select actor, subject, detail from audit_event where action = 'legal-hold' "
            "order by id")).all()
    store.close()
    return [tuple(r) for r in rows]


def test_a_supervisor_puts_the_shown_call_on_legal_hold_and_lifts_it(qtbot, location, clock):
    _, review, _ = open_review(qtbot, location, clock)
    view = review.ui.review_view
    view.setFocus()
    view.selectRow(0)
    qtbot.waitUntil(lambda: review.current is not None)
    call_id = review.current.id
    check = review.ui.legal_hold_check
    assert check.accessibleName() == "On legal hold"
    qtbot.waitUntil(lambda: check.isEnabled())
    assert not check.isChecked()
    assert "on legal hold" not in review.ui.call_details_view.toPlainText()

    qtbot.keyClick(view, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)  # the mnemonic
    qtbot.waitUntil(lambda: review.held and check.isEnabled())
    assert check.isChecked()
    assert f"Call {call_id} — on legal hold" in review.ui.call_details_view.toPlainText()
    assert review.ui.review_status.text().startswith(f"Call {call_id} is on legal hold")
    store = open_store(location, clock)
    assert PersonalData(store, SUPERVISOR, ANY_TIME).held_calls([call_id]) == [call_id]
    store.close()

    check.setFocus()
    qtbot.keyClick(check, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not review.held and check.isEnabled())
    assert "on legal hold" not in review.ui.call_details_view.toPlainText()
    events = _hold_events(location, clock)
    assert [(e[0], e[1]) for e in events] == [("Sam Supervisor", f"call {call_id}")] * 2
    assert [json.loads(e[2])["held"] for e in events] == [True, False]


def test_a_call_changed_elsewhere_since_it_was_shown_is_not_marked_reviewed(qtbot, location,
                                                                             clock):
    _, review, _ = open_review(qtbot, location, clock)
    qtbot.waitUntil(lambda: review.current is not None)
    call_id = review.current.id
    store = open_store(location, clock)  # another seat puts the call on hold meanwhile
    PersonalData(store, SUPERVISOR, ANY_TIME).set_legal_hold(call_id, True)
    store.close()
    review.ui.review_note_edit.setFocus()
    qtbot.keyClick(review.ui.review_note_edit, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "since you opened it" in review.ui.review_status.text())
    assert review.ui.review_status.text().startswith(f"call {call_id} was changed")
    qtbot.waitUntil(lambda: review.held)  # shown again as it is now
    store = open_store(location, clock)
    reviewed = store.engine.connect().execute(
        sa.text("SELECT reviewed_at FROM call WHERE id = :id"), {"id": call_id}).scalar()
    store.close()
    assert reviewed is None


def test_the_review_opens_on_the_first_call_and_moves_on_after_marking_it(qtbot, location,
                                                                          clock):
    _, review, (first, second) = open_review(qtbot, location, clock)
    qtbot.waitUntil(lambda: review.current is not None)
    shown = review.current.id
    assert shown == review.model.call_id(0)
    assert f"Call {shown}" in review.ui.call_details_view.toPlainText()
    assert all(review.ui.review_view.columnWidth(c) <= 260
               for c in range(review.model.columnCount()))
    review.ui.review_note_edit.setFocus()
    qtbot.keyClick(review.ui.review_note_edit, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: review.model.rowCount() == 1)
    qtbot.waitUntil(lambda: review.current is not None and review.current.id != shown)
    assert review.current.id == ({first, second} - {shown}).pop()


def test_the_review_list_fits_1366_and_its_arrow_points_down_for_newest_first(
        qtbot, location, clock):
    """As in the history: the arrow reads "newest first", and Duration, Worker and Flags are
    on screen whole, without a horizontal scroll bar."""
    from tests.test_gui_history import _arrow_points_down

    seed(location, clock, follow_up_on=date(2026, 11, 30))
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    window.review_action.trigger()
    review = window.review_window
    review.showNormal()
    review.resize(1366, 768)
    qtbot.waitUntil(lambda: review.model.rowCount() == 2 and review.height() == 768)
    QApplication.processEvents()
    view = review.ui.review_view
    header = view.horizontalHeader()
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert review.model.query.descending
    assert _arrow_points_down(header, 0)
    assert view.horizontalScrollBar().maximum() == 0
    shown = view.viewport().visibleRegion().boundingRect()
    metrics = view.fontMetrics()
    for column in (0, 1, 4, 5, 6):  # the date, caller, duration, worker and flags in full
        cell = view.visualRect(review.model.index(1, column))
        assert shown.contains(cell), column
        text = review.model.data(review.model.index(1, column))
        assert metrics.horizontalAdvance(text) + 6 <= cell.width(), (column, text)


def test_a_call_reads_the_same_number_of_minutes_in_the_history_review_and_details(
        qtbot, location, clock):
    """21 min 40 s: the form takes whole minutes, and every window shows 21."""
    make_account(location, clock)
    store = open_store(location, clock)
    amy = get_or_create_user(store, "amy", clock)
    Calls(store, actor_of(amy), clock).log(a_call(uk(2026, 11, 23, 9, 45),
                                                  21 * 60 + 40))
    store.close()
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)
    assert window.history.data(window.history.index(0, 4)) == "21 min"
    window.review_action.trigger()
    review = window.review_window
    qtbot.waitUntil(lambda: review.current is not None)
    assert review.model.data(review.model.index(0, 4)) == "21 min"
    details = review.ui.call_details_view.toPlainText()
    assert "21 min" in details and "22 min" not in details
