"""Reviewing calls and ticking off follow-ups in the window (offscreen Qt, real store)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from advice_desk.calls.service import Calls
from advice_desk.clock import UK
from advice_desk.gui.follow_ups import FollowUpsDialog
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.people.permissions import Role
from advice_desk.store.engine import open_store
from tests.factories import a_call
from tests.gui_support import make_account, open_window, type_text
from tests.support import ANY_TIME, SUPERVISOR


def seed(location, clock, follow_up_on: date | None = None) -> list[int]:
    make_account(location, clock)  # sam and amy
    store = open_store(location, clock)
    amy = get_or_create_user(store, "amy", clock)
    start = datetime(2026, 11, 23, 9, 45, tzinfo=UK)
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
