"""Live desks (issue 13): what another seat saves shows in this window's history, review list
and follow-ups within 3 seconds, without a reload (no model reset: the scroll, the selection and
the note being typed stay); the status bar counts the signed-in seats on a server."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QApplication

from advice_desk.calls.service import Calls
from advice_desk.gui.follow_ups import FollowUpsDialog
from advice_desk.paths import resolve_location
from advice_desk.people.permissions import Role
from tests.factories import a_call, opened_store, signed_in
from tests.gui_support import open_window

WITHIN_MS = 3_000  # the promise: the other seat's call within 3 seconds


def _log_elsewhere(location, clock, username: str, **changes) -> int:
    """A call saved through a store of its own, as another PC (or a CLI import) saves it."""
    with opened_store(location, clock) as store:
        actor = signed_in(store, clock, username)
        return Calls(store, actor, clock).log(a_call(clock, **changes))


def _ids(model) -> list[int]:
    return [model.call_id(row) for row in range(model.rowCount())]


def _resets(model) -> list[int]:
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    return resets


def test_a_call_saved_elsewhere_joins_the_history_without_a_reload(qtbot, location, clock):
    window = open_window(qtbot, location, clock, "sam", Role.SUPERVISOR)
    first = _log_elsewhere(location, clock, "sam")
    qtbot.waitUntil(lambda: _ids(window.history) == [first], timeout=WITHIN_MS)
    view = window.ui.history_view
    started = view.fontMetrics().horizontalAdvance(window.history.data(window.history.index(0, 0)))
    qtbot.waitUntil(lambda: view.columnWidth(0) > started)  # not "Mon 23 N…" in an empty table
    view.selectRow(0)
    resets = _resets(window.history)
    second = _log_elsewhere(location, clock, "sam", notes="a later call")
    qtbot.waitUntil(lambda: _ids(window.history) == [second, first], timeout=WITHIN_MS)
    assert resets == []  # rows inserted, not the model reloaded
    assert [window.history.call_id(i.row()) for i in view.selectionModel().selectedRows()] \
        == [first]  # the selection stayed on the call the worker had chosen
    qtbot.waitUntil(lambda: window.ui.history_total.text() == "2 calls", timeout=WITHIN_MS)
    assert not window.seats_label.isVisible()  # one PC: no seats to count


def test_the_follow_ups_list_shows_a_follow_up_promised_elsewhere(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    window.open_follow_ups()
    dialog = window.findChild(FollowUpsDialog)
    tree = dialog.ui.follow_ups_tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 3)
    assert tree.topLevelItem(1).childCount() == 0
    _log_elsewhere(location, clock, "amy", follow_up_on=date(2026, 11, 23),
                   follow_up_note="Ring back")
    qtbot.waitUntil(lambda: tree.topLevelItem(1).childCount() == 1, timeout=WITHIN_MS)
    assert tree.topLevelItem(1).child(0).text(4) == "Ring back"


def _seat(qtbot, location, clock, username: str):
    window = open_window(qtbot, location, clock, username, Role.SUPERVISOR)
    window.resize(1366, 768)
    return window


def _save_at(window, clock, **changes) -> int:
    """A call saved by the seat's own desk on its store thread, as its form saves one."""
    desk = window.desk
    return window.tasks.run_now(lambda: desk.calls.log(a_call(clock, **changes)))


def test_two_seats_on_a_server_see_each_others_calls(qtbot, postgres_url, tmp_path, clock):
    location = resolve_location(tmp_path / "data", postgres_url)
    seat_a = _seat(qtbot, location, clock, "sam")
    seat_b = _seat(qtbot, location, clock, "sue")
    for seat in (seat_a, seat_b):
        qtbot.waitUntil(lambda seat=seat: seat.seats_label.text() == "2 seats signed in",
                        timeout=WITHIN_MS)
        assert seat.seats_label.isVisible()
        assert seat.seats_label.accessibleName() == "2 seats signed in"
    resets = _resets(seat_b.history)
    from_a = _save_at(seat_a, clock)
    qtbot.waitUntil(lambda: _ids(seat_b.history) == [from_a], timeout=WITHIN_MS)
    from_b = _save_at(seat_b, clock, notes="from b")
    qtbot.waitUntil(lambda: _ids(seat_a.history) == [from_b, from_a], timeout=WITHIN_MS)
    assert resets == []

    # B reviews: the call A reviews elsewhere leaves B's "Not yet reviewed" list, the call B
    # is reading stays shown with its note as typed.
    seat_b.open_review()
    review = seat_b.review_window
    qtbot.waitUntil(lambda: review.model.rowCount() == 2 and review.current is not None)
    shown = review.current.id
    review.ui.review_note_edit.setPlainText("half typed")
    other = from_a if shown == from_b else from_b
    seat_a.tasks.run_now(lambda: seat_a.desk.review.call(other, "done at A"))
    qtbot.waitUntil(lambda: _ids(review.model) == [shown], timeout=WITHIN_MS)
    assert review.current.id == shown
    assert review.ui.review_note_edit.toPlainText() == "half typed"
    newest = _save_at(seat_a, clock)
    qtbot.waitUntil(lambda: _ids(review.model) == [newest, shown], timeout=WITHIN_MS)
    assert review.current.id == shown

    seat_a.lock()  # a locked seat is not counted
    qtbot.waitUntil(lambda: seat_b.seats_label.text() == "1 seat signed in", timeout=WITHIN_MS)
    QApplication.processEvents()


def test_a_review_elsewhere_repaints_a_row_held_past_the_first_page(qtbot, location, clock):
    from advice_desk.calls.call_rows import log_calls
    from advice_desk.calls.review import Review
    from advice_desk.gui.paged_model import PAGE_SIZE

    window = open_window(qtbot, location, clock, "sam", Role.SUPERVISOR)
    with opened_store(location, clock) as store:
        sam = signed_in(store, clock, "sam")
        log_calls(store, [a_call(clock) for _ in range(PAGE_SIZE + 50)], sam.id, clock)
    model = window.history
    qtbot.waitUntil(lambda: model.rowCount() == PAGE_SIZE, timeout=WITHIN_MS)
    view = window.ui.history_view
    view.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == PAGE_SIZE + 50)
    deep = model.call_id(PAGE_SIZE + 30)
    resets, repainted = _resets(model), []
    model.dataChanged.connect(lambda top, bottom: repainted.append((top.row(), bottom.row())))
    with opened_store(location, clock) as store:
        Review(store, signed_in(store, clock, "sam"), clock).call(deep, "")
    flags = model.index(PAGE_SIZE + 30, 6)
    qtbot.waitUntil(lambda: model.data(flags) == "Reviewed", timeout=WITHIN_MS)
    assert resets == [] and model.rowCount() == PAGE_SIZE + 50
    assert repainted == [(PAGE_SIZE + 30, PAGE_SIZE + 30)]  # that row only, the rest as it was


def test_the_listener_comes_back_after_losing_its_connection(qtbot, postgres_server,
                                                            postgres_url, tmp_path, clock):
    from sqlalchemy.engine import make_url

    from advice_desk.gui.live import RETRY_S
    from advice_desk.store.changes import SEAT_NAME

    location = resolve_location(tmp_path / "data", postgres_url)
    seat = _seat(qtbot, location, clock, "sam")
    qtbot.waitUntil(lambda: seat.seats_label.text() == "1 seat signed in", timeout=WITHIN_MS)
    database = make_url(postgres_url).database
    with postgres_server.connect(database) as admin:  # the server drops the seat's connection
        ended = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND application_name = %s",
                              (SEAT_NAME,)).fetchall()
    assert ended == [(True,)]
    saved = _log_elsewhere(location, clock, "sam")  # while the listener is away
    qtbot.waitUntil(lambda: saved in _ids(seat.history),
                    timeout=int((RETRY_S + 1.0) * 1000) + WITHIN_MS)
    qtbot.waitUntil(lambda: seat.seats_label.text() == "1 seat signed in", timeout=WITHIN_MS)
