"""The call history as a person reads it (issue 10): the time of each call, the column names,
the sort arrow, the total that follows the filters, and the search box (Ctrl+K)."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QLineEdit, QTableView

from advice_desk.calls.service import Calls
from advice_desk.people.permissions import Role
from tests.factories import a_call, opened_store, signed_in
from tests.gui_support import focused, focused_name, make_account, open_window, press, type_text

NOTE = "Grandmother asked about the kinship allowance"


def _log(location, clock, username: str, notes: str | None, **changes) -> int:
    with opened_store(location, clock) as store:
        actor = signed_in(store, clock, username)
        return Calls(store, actor, clock).log(a_call(clock, notes=notes, **changes))


def _window(qtbot, location, clock, calls: list[str | None], username: str = "amy",
            role: Role = Role.WORKER):
    make_account(location, clock, username, role)
    for notes in calls:
        _log(location, clock, username, notes)
    window = open_window(qtbot, location, clock, username, role)
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.history.rowCount() == len(calls))
    return window


def _view(window) -> QTableView:
    return next(v for v in window.findChildren(QTableView) if v.accessibleName() == "Call history")


def _search_box(window) -> QLineEdit:
    return next(e for e in window.findChildren(QLineEdit) if e.accessibleName() == "Search")


def _total(window) -> QLabel:
    return next(label for label in window.findChildren(QLabel)
                if label.accessibleName() == "Calls shown")


def test_the_started_column_shows_the_date_and_the_time_in_full(qtbot, location, clock):
    window = _window(qtbot, location, clock, [NOTE])
    view = _view(window)
    started = window.history.index(0, 0)
    start = clock.now() - timedelta(minutes=20)  # a_call's start: 09:55 on Monday 23 November
    assert start.strftime("%H:%M") == "09:55"
    assert window.history.data(started) == "Mon 23 Nov 09:55"
    # Wide enough for its text: not clipped to "Mon 23 Nov 0…".
    text_width = view.fontMetrics().horizontalAdvance("Mon 23 Nov 09:55")
    assert view.columnWidth(0) > text_width
    assert not view.visualRect(started).isEmpty()
    assert view.viewport().visibleRegion().contains(view.visualRect(started).center())


def test_spare_width_goes_to_the_topic_and_outcomes_not_the_flags(qtbot, location, clock):
    window = _window(qtbot, location, clock, [NOTE])
    view = _view(window)
    window.ui.splitter.setSizes([500, 860])
    qtbot.waitUntil(lambda: view.columnWidth(2) > view.columnWidth(6))
    header = view.horizontalHeader()
    assert header.sectionResizeMode(2) == QHeaderView.ResizeMode.Stretch
    assert header.sectionResizeMode(3) == QHeaderView.ResizeMode.Stretch
    assert header.sectionResizeMode(6) != QHeaderView.ResizeMode.Stretch
    assert not header.stretchLastSection()


def test_the_caller_column_is_headed_caller(qtbot, location, clock):
    window = _window(qtbot, location, clock, [NOTE])
    headers = [window.history.headerData(c, Qt.Orientation.Horizontal)
               for c in range(window.history.columnCount())]
    assert headers[1] == "Caller"
    assert window.history.data(window.history.index(0, 1)) == "Grandparent"


def _arrow_points_down(header: QHeaderView, section: int) -> bool:
    """Read the arrow as drawn: a triangle pointing down is widest at its top."""
    image = header.grab().toImage()
    left = header.sectionViewportPosition(section)
    right = left + header.sectionSize(section)
    text = QColor(header.palette().buttonText().color())
    spans = []
    for y in range(image.height()):  # the arrow is drawn at the right end of the section
        dark = [x for x in range(max(left, right - 30), right - 1)
                if abs(image.pixelColor(x, y).lightness() - text.lightness()) < 128]
        if dark:
            spans.append(len(dark))
    assert len(spans) >= 3, "no sort arrow drawn"
    return spans[0] > spans[-1]


def test_the_sort_arrow_points_down_for_newest_first(qtbot, location, clock):
    window = _window(qtbot, location, clock, [NOTE, "Second call"])
    view = _view(window)
    header = view.horizontalHeader()
    assert header.isSortIndicatorShown()
    assert header.sortIndicatorSection() == 0
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert window.history.query.descending
    assert _arrow_points_down(header, 0)
    # Oldest first: the arrow turns over with the order.
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: not window.history.query.descending)
    assert not _arrow_points_down(header, 0)


def test_the_total_follows_the_filters(qtbot, location, clock):
    make_account(location, clock, "sam", Role.SUPERVISOR)
    make_account(location, clock, "amy")
    for _ in range(3):
        _log(location, clock, "amy", NOTE)
    _log(location, clock, "sam", "A call of sam's")
    window = open_window(qtbot, location, clock, "sam", Role.SUPERVISOR)
    window.resize(1366, 768)
    total = _total(window)
    qtbot.waitUntil(lambda: total.text() == "4 calls")
    assert total.isVisible()
    assert not total.visibleRegion().isEmpty()
    combo = window.ui.worker_filter_combo
    combo.setCurrentIndex(combo.findText("Amy Adviser"))
    qtbot.waitUntil(lambda: total.text() == "3 calls")
    combo.setCurrentIndex(combo.findText("Sam Supervisor"))
    qtbot.waitUntil(lambda: total.text() == "1 call")


def test_ctrl_k_and_a_word_of_the_notes_find_the_call(qtbot, location, clock):
    window = _window(qtbot, location, clock, [NOTE, "Uncle asked about school transport",
                                              None])
    total = _total(window)
    qtbot.waitUntil(lambda: total.text() == "3 calls")
    search = _search_box(window)
    assert not search.visibleRegion().isEmpty()
    qtbot.keyClick(window.form.ui.caller_type_combo, Qt.Key.Key_K,
                   Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: focused_name() == "Search")
    type_text(qtbot, "KINSHIP")
    # Typing filters after a pause, with no key to press.
    qtbot.waitUntil(lambda: window.history.rowCount() == 1 and total.text() == "1 call")
    shown = window.history.row(0)
    with opened_store(location, clock) as store:
        sam = signed_in(store, clock, "sam")
        assert Calls(store, sam, clock).get(shown.id).details.notes == NOTE
    # The other filters keep the search.
    window.ui.period_combo.setCurrentIndex(1)
    qtbot.waitUntil(lambda: window.history.query.text == "KINSHIP")
    # Escape clears the search and shows every call again.
    focused().setFocus()
    search.setFocus()
    press(qtbot, Qt.Key.Key_Escape)
    assert search.text() == ""
    qtbot.waitUntil(lambda: window.history.rowCount() == 3 and total.text() == "3 calls")


def test_the_search_box_takes_any_text(qtbot, location, clock):
    window = _window(qtbot, location, clock, [NOTE])
    search = _search_box(window)
    search.setFocus()
    type_text(qtbot, '"kinship AND (')
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.history.query.text == '"kinship AND (')
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert window.history.rowCount() == 0
    assert _total(window).text() == "0 calls"
    assert window.statusBar().currentMessage() == "" or "error" not in (
        window.statusBar().currentMessage().lower())
    assert search.mapTo(window, QPoint(0, 0)).y() < _view(window).mapTo(window, QPoint(0, 0)).y()


def test_a_call_of_an_earlier_year_shows_its_year_and_its_time(qtbot, location, clock):
    from datetime import datetime

    from advice_desk.clock import UK

    make_account(location, clock)
    with opened_store(location, clock) as store:
        Calls(store, signed_in(store, clock, "amy"), clock).log(
            a_call(datetime(2025, 12, 5, 14, 22, tzinfo=UK), 600))
    _log(location, clock, "amy", NOTE)
    window = open_window(qtbot, location, clock, "sam", Role.SUPERVISOR)  # sees a year back
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.history.rowCount() == 2)
    view = _view(window)
    texts = [window.history.data(window.history.index(row, 0)) for row in range(2)]
    assert texts == ["Mon 23 Nov 09:55", "Fri 05 Dec 2025 14:22"]
    cell = view.visualRect(window.history.index(1, 0))
    assert view.fontMetrics().horizontalAdvance(texts[1]) < cell.width()
    assert view.viewport().visibleRegion().boundingRect().contains(cell)


def test_the_worker_filter_and_the_workers_name_are_not_cut(qtbot, location, clock):
    window = _window(qtbot, location, clock, [NOTE])
    combo = window.ui.worker_filter_combo
    metrics = combo.fontMetrics()
    assert combo.currentText() == "All workers"
    # The text area of a combo is its width less the arrow and the frame (about 30 px).
    assert metrics.horizontalAdvance("All workers") + 30 <= combo.width()
    view = _view(window)
    worker = window.history.data(window.history.index(0, 5))
    cell = view.visualRect(window.history.index(0, 5))
    assert view.fontMetrics().horizontalAdvance(worker) + 6 <= cell.width()
    assert view.horizontalScrollBar().maximum() == 0
