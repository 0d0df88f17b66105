"""A read-only table filled a page at a time on the store thread, as the user scrolls.

The database filters and sorts (the query); the model only holds the pages scrolled through,
so a table over a million calls opens at once. Subclasses name their columns and say what each
cell shows. Emits ``loaded`` after each page and ``failed`` (a message) when one cannot be read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from advice_desk.gui import errors
from advice_desk.gui.taskman import TaskManager

PAGE_SIZE = 200
Index = QModelIndex | QPersistentModelIndex
Query = TypeVar("Query")
Row = TypeVar("Row")
FetchPage = Callable[[Query, int, int], list[Row]]  # (query, offset, limit) -> rows


class PagedTableModel(QAbstractTableModel, Generic[Query, Row]):
    loaded = Signal()
    failed = Signal(str)
    headers: tuple[str, ...] = ()

    def __init__(self, tasks: TaskManager, fetch: FetchPage[Query, Row] | None = None,
                 query: Query | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._fetch = fetch
        self._query = query
        self._rows: list[Row] = []
        self._exhausted = True
        self._loading = False
        self._generation = 0

    @property
    def query(self) -> Query | None:
        return self._query

    @property
    def loading(self) -> bool:
        return self._loading

    def set_query(self, query: Query) -> None:
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

    def row(self, row: int) -> Row:
        return self._rows[row]

    def cell(self, row: Row, column: int) -> str:
        raise NotImplementedError

    def tooltip(self, row: Row, column: int) -> str:
        """What the cell's tooltip says: its text, unless a subclass says more."""
        return self.cell(row, column)

    # --- lazy loading ---------------------------------------------------------------------

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        fetch, query = self._fetch, self._query
        if not self.canFetchMore(parent) or fetch is None or query is None:
            return
        self._loading = True
        offset, generation = len(self._rows), self._generation
        self._tasks.run(lambda: fetch(query, offset, PAGE_SIZE)).success(
            lambda rows: self._append(generation, rows)).failure(
            lambda error: self._fail(generation, error))

    def _append(self, generation: int, rows: list[Row]) -> None:
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
        self.failed.emit(errors.describe(error))

    # --- table ----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> str | None:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(self.headers[section])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> str | None:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, index.column())
        return self.cell(row, index.column())
