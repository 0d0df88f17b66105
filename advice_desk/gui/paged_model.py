"""A read-only table filled a page at a time on the store thread, as the user scrolls.

The database filters and sorts (the query); the model only holds the pages scrolled through,
so a table over a million calls opens at once. Subclasses name their columns and say what each
cell shows. Emits ``loaded`` after each page and ``failed`` (a message) when one cannot be read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from advice_desk.gui.taskman import TaskManager

PAGE_SIZE = 200
Index = QModelIndex | QPersistentModelIndex
FetchPage = Callable[[Any, int, int], list[Any]]  # (query, offset, limit) -> rows


class PagedTableModel(QAbstractTableModel):
    loaded = Signal()
    failed = Signal(str)
    headers: tuple[str, ...] = ()

    def __init__(self, tasks: TaskManager, fetch: FetchPage | None = None, query: Any = None,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._fetch = fetch
        self._query = query
        self._rows: list[Any] = []
        self._exhausted = True
        self._loading = False
        self._generation = 0

    @property
    def query(self) -> Any:
        return self._query

    @property
    def loading(self) -> bool:
        return self._loading

    def set_query(self, query: Any) -> None:
        self._query = query
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = []
        self._generation += 1
        self._exhausted = self._fetch is None or self._query is None
        self._loading = False
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def row(self, row: int) -> Any:
        return self._rows[row]

    def cell(self, row: Any, column: int) -> str:
        raise NotImplementedError

    # --- lazy loading ---------------------------------------------------------------------

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self._fetch is None:
            return
        self._loading = True
        fetch, query, offset = self._fetch, self._query, len(self._rows)
        generation = self._generation
        self._tasks.run(lambda: fetch(query, offset, PAGE_SIZE),
                        on_success=lambda rows: self._append(generation, rows),
                        on_failure=lambda error: self._fail(generation, error))

    def _append(self, generation: int, rows: list[Any]) -> None:
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

    def _fail(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._exhausted = True  # no retry on every scroll; a new query tries again
        self.failed.emit(str(error))

    # --- table ----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(self.headers[section])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        return self.cell(self._rows[index.row()], index.column())
