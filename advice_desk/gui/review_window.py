"""The supervisor's review: the calls still to review (or the safeguarding ones), one at a time,
with a note and "Mark reviewed", and the legal hold that keeps a call's details (retention and
erasure leave a held call alone). The list is the lazy history model with a review filter; the
shown call follows the list's current row, by mouse or by arrow keys. What other seats save
(a new call, another supervisor's review) shows in the list without a reload (:meth:`refresh`);
the call shown, and the note being typed, stay until the supervisor moves on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from advice_desk.calls.history import CallQuery, CallSummary
from advice_desk.calls.record import StoredCall
from advice_desk.gui import errors
from advice_desk.gui.call_summary import call_summary_html
from advice_desk.gui.forms import load_form
from advice_desk.gui.history_model import HistoryModel, fit_columns, set_up_view
from advice_desk.gui.keys import CLOSE_KEYS, MARK_REVIEWED_KEYS
from advice_desk.gui.sort_arrow import show_sort_arrow
from advice_desk.gui.taskman import TaskManager

if TYPE_CHECKING:
    from advice_desk.calls.topic_views import TopicChoice
    from advice_desk.clock import Clock
    from advice_desk.people.accounts import Worker

SHOW: tuple[tuple[str, dict[str, bool]], ...] = (("Not yet reviewed", {"unreviewed_only": True}),
        ("Safeguarding", {"safeguarding_only": True}),
        ("All calls", {}))


class ReviewWindow(QWidget):
    def __init__(self, tasks: TaskManager,
                 list_calls: Callable[[CallQuery, int, int], list[CallSummary]],
                 get_call: Callable[[int], StoredCall],
                 review_call: Callable[[int, str, int | None], None],
                 topics: list[TopicChoice], workers: list[Worker],
                 parent: QWidget | None = None, *,
                 held_calls: Callable[[Sequence[int]], list[int]],
                 set_legal_hold: Callable[[int, bool], None],
                 clock: Clock | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Review calls"))
        self.resize(1150, 700)
        self.ui = load_form("review_window.ui", self)
        self.setMinimumSize(800, 480)
        self.tasks, self._get_call, self._review_call = tasks, get_call, review_call
        self._held_calls, self._set_legal_hold = held_calls, set_legal_hold
        self._topic_labels = {t.code: t.display for t in topics}
        self.current: StoredCall | None = None
        self.held = False
        self._wanted: int | None = None  # the call last asked for: an older answer is dropped
        self.ui.review_status_bar.addWidget(self.ui.review_status, 1)
        self.ui.review_status_bar.setSizeGripEnabled(False)
        self.ui.review_splitter.setStretchFactor(0, 1)
        self.ui.review_splitter.setStretchFactor(1, 1)
        self.model = HistoryModel(tasks, self, clock)
        self.ui.review_view.setModel(self.model)
        self.ui.review_view.setAccessibleName(self.tr("Calls to review"))
        self.ui.review_view.verticalHeader().hide()
        self.ui.review_view.setWordWrap(False)
        set_up_view(self.ui.review_view)  # the history's columns, newest first
        show_sort_arrow(self.ui.review_view.horizontalHeader())  # opened after sign-in
        self.ui.review_splitter.setSizes([680, 470])
        self.model.loaded.connect(self._rows_loaded)
        self.model.refreshed.connect(self._rows_refreshed)
        for label, _ in SHOW:
            self.ui.review_show_combo.addItem(self.tr(label))
        self.ui.review_worker_combo.addItem(self.tr("All workers"), None)
        for worker in workers:
            self.ui.review_worker_combo.addItem(worker.display_name, worker.id)
        self.ui.review_topic_combo.addItem(self.tr("All topics"), None)
        for topic in topics:
            self.ui.review_topic_combo.addItem(topic.display, topic.code)
        for combo in (self.ui.review_show_combo, self.ui.review_worker_combo,
                      self.ui.review_topic_combo):
            combo.currentIndexChanged.connect(self._apply_filters)
        # The current row, not the selection: Down and Up move it even when the selection
        # stays (or is not yet) made.
        self.ui.review_view.selectionModel().currentRowChanged.connect(self._selected)
        self.ui.mark_reviewed_button.clicked.connect(self.mark_reviewed)
        self.ui.mark_reviewed_button.setEnabled(False)
        self.ui.legal_hold_check.setEnabled(False)
        self.ui.legal_hold_check.toggled.connect(self._hold_toggled)
        for keys in MARK_REVIEWED_KEYS:
            QShortcut(QKeySequence(keys), self, self.mark_reviewed)
        for close_keys in CLOSE_KEYS:
            QShortcut(QKeySequence(close_keys), self, self.close)
        self.model.attach(list_calls, self._topic_labels)
        self._apply_filters()

    def _rows_loaded(self) -> None:
        """The first call shown when nothing is: the next one to review after "Mark
        reviewed"."""
        view = self.ui.review_view
        fit_columns(view)  # the rows may come before the window is laid out
        if self.model.rowCount() > 0 and not view.currentIndex().isValid():
            view.setCurrentIndex(self.model.index(0, 0))

    def refresh(self) -> None:
        """Another seat saved: the rows held brought up to date."""
        self.model.refresh()

    def _rows_refreshed(self) -> None:
        """The current row stays on the call shown; if that call has left the list (reviewed
        at another desk, say), it stays shown, with no row highlighted."""
        if self.current is None:
            self._rows_loaded()
            return
        view, row = self.ui.review_view, self.model.row_of(self.current.id)
        if row is None:
            view.selectionModel().clear()
            self.ui.review_status.setText(self.tr(
                "Call {0} has left this list: it was changed at another desk.").format(
                self.current.id))
        elif view.currentIndex().row() != row:
            view.setCurrentIndex(self.model.index(row, 0))

    def _apply_filters(self) -> None:
        _, flags = SHOW[self.ui.review_show_combo.currentIndex()]
        query = replace(CallQuery(**flags), worker_id=self.ui.review_worker_combo.currentData(),
                        topic=self.ui.review_topic_combo.currentData(),
                        sort=self.model.query.sort, descending=self.model.query.descending)
        self._show_call(None)
        self._wanted = None
        self.model.set_query(query)

    def _selected(self, current: QModelIndex, _: QModelIndex) -> None:
        if not current.isValid() or self.model.merging:
            return  # rows inserted or removed by a refresh move the current row: not the user
        if self.current is not None and self.model.call_id(current.row()) == self.current.id:
            view = self.ui.review_view
            if not view.selectionModel().isRowSelected(current.row()):
                view.selectRow(current.row())
            return  # back on the call shown (after a refresh): its note stays as typed
        view = self.ui.review_view
        if not view.selectionModel().isRowSelected(current.row()):
            view.selectRow(current.row())  # the outline and the highlight on the shown call
        self._load(self.model.call_id(current.row()))

    def _load(self, call_id: int) -> None:
        get_call, held_calls = self._get_call, self._held_calls
        self._wanted = call_id
        self.tasks.run(lambda: (get_call(call_id), bool(held_calls([call_id])))).success(
            self._loaded).failure(self._failed)

    def _loaded(self, result: tuple[StoredCall, bool]) -> None:
        call, held = result
        if call.id == self._wanted:
            self._show_call(call, held)

    def _show_call(self, call: StoredCall | None, held: bool = False) -> None:
        self.current, self.held = call, held
        self.ui.call_details_view.setHtml(
            call_summary_html(call, self._topic_labels, held=held) if call else "")
        self.ui.review_note_edit.setPlainText(call.review_note or "" if call else "")
        self.ui.mark_reviewed_button.setEnabled(call is not None and call.kind == "data")
        check = self.ui.legal_hold_check
        check.blockSignals(True)
        check.setChecked(held)
        check.blockSignals(False)
        check.setEnabled(call is not None)

    def _hold_toggled(self, held: bool) -> None:
        if self.current is None:
            return
        call_id, set_hold = self.current.id, self._set_legal_hold
        self.ui.legal_hold_check.setEnabled(False)
        self.tasks.run(lambda: set_hold(call_id, held)).success(
            lambda _: self._hold_set(call_id, held)).failure(self._failed_then_reload)

    def _hold_set(self, call_id: int, held: bool) -> None:
        message = (self.tr("Call {0} is on legal hold: retention and erasure leave it alone.")
                   if held else self.tr("Call {0} is no longer on legal hold."))
        self.ui.review_status.setText(message.format(call_id))
        self._load(call_id)

    def _failed_then_reload(self, error: BaseException) -> None:
        """Said, and the call shown again as it is now (another seat may have changed it)."""
        self._failed(error)
        if self.current is not None:
            self._load(self.current.id)

    def mark_reviewed(self) -> None:
        if self.current is None or self.current.kind != "data":
            return
        call_id, note = self.current.id, self.ui.review_note_edit.toPlainText()
        version, review = self.current.version, self._review_call
        self.tasks.run(lambda: review(call_id, note, version)).success(  # refused if changed
            lambda _: self._reviewed(call_id)).failure(self._failed_then_reload)

    def _reviewed(self, call_id: int) -> None:
        self.ui.review_status.setText(self.tr("Call {0} marked reviewed.").format(call_id))
        self._show_call(None)
        self._wanted = None
        self.model.reload()

    def _failed(self, error: BaseException) -> None:
        self.ui.review_status.setText(errors.describe(error))
