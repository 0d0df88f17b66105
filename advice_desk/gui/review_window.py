"""The supervisor's review: the calls still to review (or the safeguarding ones), one at a time,
with a note and "Mark reviewed". The list is the lazy history model with a review filter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHeaderView, QWidget

from advice_desk.calls.history import CallQuery, CallSummary
from advice_desk.calls.record import StoredCall
from advice_desk.gui import errors
from advice_desk.gui.call_summary import call_summary_html
from advice_desk.gui.forms import load_form
from advice_desk.gui.history_model import HistoryModel
from advice_desk.gui.taskman import TaskManager

if TYPE_CHECKING:
    from advice_desk.calls.topic_views import TopicChoice
    from advice_desk.store.models import User

SHOW: tuple[tuple[str, dict[str, bool]], ...] = (("Not yet reviewed", {"unreviewed_only": True}),
        ("Safeguarding", {"safeguarding_only": True}),
        ("All calls", {}))


class ReviewWindow(QWidget):
    def __init__(self, tasks: TaskManager,
                 list_calls: Callable[[CallQuery, int, int], list[CallSummary]],
                 get_call: Callable[[int], StoredCall],
                 review_call: Callable[[int, str], None],
                 topics: list[TopicChoice], workers: list[User],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Review calls"))
        self.resize(1150, 700)
        self.ui = load_form("review_window.ui", self)
        self.tasks, self._get_call, self._review_call = tasks, get_call, review_call
        self._topic_labels = {t.code: t.display for t in topics}
        self.current: StoredCall | None = None
        self.model = HistoryModel(tasks, self)
        self.ui.review_view.setModel(self.model)
        self.ui.review_view.setAccessibleName(self.tr("Calls to review"))
        self.ui.review_view.verticalHeader().hide()
        self.ui.review_view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
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
        self.ui.review_view.selectionModel().selectionChanged.connect(self._selected)
        self.ui.mark_reviewed_button.clicked.connect(self.mark_reviewed)
        self.ui.mark_reviewed_button.setEnabled(False)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.mark_reviewed)
        self.model.attach(list_calls, self._topic_labels)
        self._apply_filters()

    def _apply_filters(self) -> None:
        _, flags = SHOW[self.ui.review_show_combo.currentIndex()]
        query = replace(CallQuery(**flags), worker_id=self.ui.review_worker_combo.currentData(),
                        topic=self.ui.review_topic_combo.currentData(),
                        sort=self.model.query.sort, descending=self.model.query.descending)
        self._show_call(None)
        self.model.set_query(query)

    def _selected(self, selected: QItemSelection, _: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        call_id, get_call = self.model.call_id(indexes[0].row()), self._get_call
        self.tasks.run(lambda: get_call(call_id)).success(self._show_call).failure(self._failed)

    def _show_call(self, call: StoredCall | None) -> None:
        self.current = call
        self.ui.call_details_view.setHtml(
            call_summary_html(call, self._topic_labels) if call else "")
        self.ui.review_note_edit.setPlainText(call.review_note or "" if call else "")
        self.ui.mark_reviewed_button.setEnabled(call is not None and call.kind == "data")

    def mark_reviewed(self) -> None:
        if self.current is None or self.current.kind != "data":
            return
        call_id, note = self.current.id, self.ui.review_note_edit.toPlainText()
        review = self._review_call
        self.tasks.run(lambda: review(call_id, note)).success(
            lambda _: self._reviewed(call_id)).failure(self._failed)

    def _reviewed(self, call_id: int) -> None:
        self.ui.review_status.setText(self.tr("Call {0} marked reviewed.").format(call_id))
        self._show_call(None)
        self.model.reload()

    def _failed(self, error: BaseException) -> None:
        self.ui.review_status.setText(errors.describe(error))
