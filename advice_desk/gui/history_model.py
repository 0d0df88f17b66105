"""The call history as a table model that loads a page at a time, on the store thread.

Sorting and filtering are done by the database (``CallQuery``), never in Python, so the model
stays fast with a million calls: it only ever holds the pages the worker has scrolled through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from advice_desk import reference
from advice_desk.call_details import CallQuery, CallSummary
from advice_desk.clock import to_uk
from advice_desk.gui.taskman import TaskManager

PAGE_SIZE = 200
Index = QModelIndex | QPersistentModelIndex
FetchPage = Callable[[CallQuery, int, int], list[CallSummary]]

# (header, sort key in CallQuery or None when the column cannot be sorted)
COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("Started", "started_at"),
    ("Call", "caller_type"),
    ("Primary topic", "primary_topic"),
    ("Outcomes", None),
    ("Duration", "duration_s"),
    ("Worker", "worker"),
    ("Flags", None),
)


class HistoryModel(QAbstractTableModel):
    """Emits ``loaded`` after each page arrives (tests and the status bar wait on it)."""

    loaded = Signal()

    def __init__(self, tasks: TaskManager, parent: Any = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._fetch: FetchPage | None = None
        self._query = CallQuery()
        self._rows: list[CallSummary] = []
        self._exhausted = True
        self._loading = False
        self._generation = 0
        self._topic_labels: dict[str, str] = {}
        h = reference.helpline()
        self._call_labels = {c.code: c.label for c in (*h.caller_types, *h.non_data_kinds)}
        self._outcome_labels = {c.code: c.label for c in h.outcomes}

    @property
    def query(self) -> CallQuery:
        return self._query

    def attach(self, fetch: FetchPage, topic_labels: dict[str, str]) -> None:
        """Start showing calls, fetched by ``fetch`` on the store thread."""
        self._fetch = fetch
        self._topic_labels = topic_labels
        self.reload()

    def set_query(self, query: CallQuery) -> None:
        self._query = query
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = []
        self._generation += 1
        self._exhausted = self._fetch is None
        self._loading = False
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def call_id(self, row: int) -> int:
        return self._rows[row].id

    # --- lazy loading ---------------------------------------------------------------------

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self._fetch is None:
            return
        self._loading = True
        fetch, query, offset, generation = self._fetch, self._query, len(self._rows), \
            self._generation
        self._tasks.run(lambda: fetch(query, offset, PAGE_SIZE),
                        on_success=lambda rows: self._append(generation, rows))

    def _append(self, generation: int, rows: list[CallSummary]) -> None:
        if generation != self._generation:
            return  # a page for a query that has since changed
        self._loading = False
        self._exhausted = len(rows) < PAGE_SIZE
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self.loaded.emit()

    # --- table ----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(COLUMNS[section][0])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1]
        if key is None:
            return
        self.set_query(replace(self._query, sort=key,
                               descending=order == Qt.SortOrder.DescendingOrder))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        return self._cell(self._rows[index.row()], index.column())

    def _cell(self, call: CallSummary, column: int) -> str:
        if column == 0:
            return to_uk(call.started_at).strftime("%a %d %b %Y %H:%M")
        if column == 1:
            return self._call_labels.get(call.caller_type or call.kind, "")
        if column == 2:
            code = call.primary_topic or ""
            return self._topic_labels.get(code, code)
        if column == 3:
            return ", ".join(self._outcome_labels.get(o, o) for o in call.outcomes.split(", ")
                             if o)
        if column == 4:
            return "" if call.duration_s is None else self.tr("{0} min").format(
                round(call.duration_s / 60))
        if column == 5:
            return call.worker
        return self._flags(call)

    def _flags(self, call: CallSummary) -> str:
        flags = []
        if call.safeguarding:
            flags.append(self.tr("Safeguarding"))
        if call.follow_up_on:
            flags.append(self.tr("Follow-up {0}").format(call.follow_up_on.strftime("%d %b")))
        if call.reviewed:
            flags.append(self.tr("Reviewed"))
        return ", ".join(flags)
