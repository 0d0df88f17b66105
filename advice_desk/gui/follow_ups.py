"""Follow-ups promised to callers: overdue, due today and upcoming; tick one when it is done.

While the dialog is open, what another seat saves or ticks off shows (:meth:`refresh`, after
:mod:`advice_desk.gui.live` hears it): the list is rebuilt only when it differs, keeping its
scroll position and the current follow-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QDialog, QTreeWidgetItem, QWidget

from advice_desk.gui import errors
from advice_desk.gui.dates import shown_date
from advice_desk.gui.forms import load_form
from advice_desk.gui.taskman import TaskManager
from advice_desk.reference import lists as reference

if TYPE_CHECKING:
    from advice_desk.calls.review import FollowUp

GROUPS = (("overdue", "Overdue"), ("today", "Due today"), ("upcoming", "Coming up"))
CALL_ID = Qt.ItemDataRole.UserRole
NOTE_ROOM = 240  # pixels "What to do" keeps at least, before the topic column gives way
TOPIC_LEAST = 120


class FollowUpsDialog(QDialog):
    def __init__(self, tasks: TaskManager, list_follow_ups: Callable[[], list[FollowUp]],
                 complete: Callable[[int], None], topic_labels: dict[str, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Follow-ups"))
        self.resize(820, 460)
        self.ui = load_form("follow_ups.ui", self)
        self.tasks, self._list, self._complete = tasks, list_follow_ups, complete
        self._shown: list[FollowUp] | None = None
        self._asking = self._ask_again = False
        self._topic_labels = topic_labels
        self._callers = {c.code: c.label for c in reference.helpline().caller_types}
        tree = self.ui.follow_ups_tree
        tree.setHeaderLabels([self.tr("Due"), self.tr("Call"), self.tr("Worker"),
                              self.tr("Topic"), self.tr("What to do")])
        tree.setAccessibleName(self.tr("Follow-ups"))
        tree.itemChanged.connect(self._ticked)
        self.ui.follow_ups_close_button.clicked.connect(self.accept)
        self.reload()

    def reload(self) -> None:
        self._asking = True
        self.tasks.run(self._list).success(self._show).failure(self._failed)

    def refresh(self, _change: object = None) -> None:
        """Another seat saved: the list again, if the dialog is open (once, after the one on
        its way)."""
        if not self.isVisible():
            return
        if self._asking:
            self._ask_again = True
            return
        self.reload()

    def _answered(self) -> None:
        self._asking = False
        if self._ask_again:
            self._ask_again = False
            self.refresh()

    def _show(self, follow_ups: list[FollowUp]) -> None:
        self._answered()
        if follow_ups == self._shown:
            return
        tree = self.ui.follow_ups_tree
        scrolled = tree.verticalScrollBar().value()
        current = tree.currentItem()
        current_id = current.data(0, CALL_ID) if current is not None else None
        self._shown = follow_ups
        tree.blockSignals(True)
        tree.clear()
        for due, title in GROUPS:
            items = [f for f in follow_ups if f.due == due]
            group = QTreeWidgetItem(tree, [f"{self.tr(title)} ({len(items)})"])
            for follow_up in items:
                item = QTreeWidgetItem(group, [
                    shown_date(follow_up.due_on), str(follow_up.call_id),
                    follow_up.worker,
                    self._topic_labels.get(follow_up.primary_topic or "", ""),
                    follow_up.note or ""])
                item.setData(0, CALL_ID, follow_up.call_id)
                for column in (3, 4):
                    item.setToolTip(column, item.text(column))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Unchecked)
                if current_id is not None and follow_up.call_id == current_id:
                    tree.setCurrentItem(item)
            group.setExpanded(True)
        tree.blockSignals(False)
        tree.verticalScrollBar().setValue(scrolled)
        self._fit_columns()
        self.ui.follow_ups_status.setText(
            self.tr("{0} follow-ups open.").format(len(follow_ups)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Each column as wide as its texts, but the topic no wider than leaves "What to do"
        room: what was promised must show without scrolling sideways (a longer text is cut
        short with "…", and its tooltip holds it whole)."""
        tree = self.ui.follow_ups_tree
        for column in range(4):
            tree.resizeColumnToContents(column)
        room = tree.viewport().width() - sum(tree.columnWidth(c) for c in range(3)) - NOTE_ROOM
        if tree.columnWidth(3) > room:
            tree.setColumnWidth(3, max(room, TOPIC_LEAST))

    def _ticked(self, item: QTreeWidgetItem, column: int) -> None:
        call_id = item.data(0, CALL_ID)
        if call_id is None or item.checkState(0) != Qt.CheckState.Checked:
            return
        complete = self._complete
        self.tasks.run(lambda: complete(call_id)).success(lambda _: self.reload()).failure(
            self._failed)

    def _failed(self, error: BaseException) -> None:
        self._answered()
        self.ui.follow_ups_status.setText(errors.describe(error))
