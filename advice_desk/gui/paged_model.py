"""A read-only table filled a page at a time on the store thread, as the user scrolls.

The database filters and sorts (the query); the model only holds the pages scrolled through,
so a table over a million calls opens at once. Subclasses name their columns and say what each
cell shows. Emits ``loaded`` after each page and ``failed`` (a message) when one cannot be read.

:meth:`PagedTableModel.refresh` brings the rows held up to date when another seat has saved
(:mod:`advice_desk.gui.live`) without a reset: the rows from the top to the last one held (at
most :data:`REFRESH_LIMIT`) are asked for again in one query and compared by key, so a new call
is inserted where it sorts, a changed one repainted, one that no longer matches the filter
removed, and the rest, the scroll position and the selection stay as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar, cast

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
REFRESH_LIMIT = 1_000  # rows held past this are brought up to date only by a reload
Index = QModelIndex | QPersistentModelIndex
Query = TypeVar("Query")
Row = TypeVar("Row")
FetchPage = Callable[[Query, int, int], list[Row]]  # (query, offset, limit) -> rows


class PagedTableModel(QAbstractTableModel, Generic[Query, Row]):
    loaded = Signal()
    failed = Signal(str)
    refreshed = Signal()
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
        self._refreshing = False  # a refresh is on the store thread
        self._refresh_again = False  # asked for while a page or a refresh was on its way
        self.merging = False  # rows are being inserted, changed or removed by a refresh

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
        self._refreshing = self._refresh_again = False
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def row(self, row: int) -> Row:
        return self._rows[row]

    def cell(self, row: Row, column: int) -> str:
        raise NotImplementedError

    def key(self, row: Row) -> Hashable:
        """What names a row whatever its values (a call's id): a refresh compares by it. The
        row itself unless a subclass says (rows are frozen dataclasses)."""
        return cast(Hashable, row)

    def tooltip(self, row: Row, column: int) -> str:
        """What the cell's tooltip says: its text, unless a subclass says more."""
        return self.cell(row, column)

    # --- lazy loading ---------------------------------------------------------------------

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return (not parent.isValid() and not self._exhausted and not self._loading
                and not self._refreshing)

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
        held = {self.key(row) for row in self._rows}
        rows = [row for row in rows if self.key(row) not in held]  # moved down by new rows
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self.loaded.emit()
        self._refresh_if_asked()

    def _fail(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._exhausted = True  # no retry on every scroll; a new query tries again
        self.failed.emit(errors.describe(error))

    # --- bringing the rows held up to date --------------------------------------------------

    @property
    def refreshing(self) -> bool:
        return self._refreshing or self._refresh_again

    def refresh(self) -> None:
        """Ask again for the rows held, and apply the difference (see the module's help). A
        refresh asked for while a page or another refresh is on its way follows it, once."""
        fetch, query = self._fetch, self._query
        if fetch is None or query is None:
            return
        if self._loading or self._refreshing:
            self._refresh_again = True
            return
        self._refreshing, self._refresh_again = True, False
        limit = min(max(PAGE_SIZE, len(self._rows)), REFRESH_LIMIT)
        generation = self._generation
        self._tasks.run(lambda: fetch(query, 0, limit)).success(
            lambda rows: self._merge(generation, limit, rows)).failure(
            lambda error: self._refresh_failed(generation, error))

    def _refresh_if_asked(self) -> None:
        if self._refresh_again:
            self._refresh_again = False
            self.refresh()

    def _refresh_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._refreshing = False
        self.failed.emit(errors.describe(error))

    def _merge(self, generation: int, limit: int, fresh: list[Row]) -> None:
        if generation != self._generation:
            return  # the query changed meanwhile: its own load is under way
        self._refreshing = False
        complete = len(fresh) < limit  # every row of the query, not only the top ones
        fresh_keys = [self.key(row) for row in fresh]
        wanted = set(fresh_keys)
        held_keys = [self.key(row) for row in self._rows]
        # The rows held down to the last one the refresh saw again (all, when it saw every
        # row): those it did not see no longer match. Rows held further down stay.
        covered = len(held_keys) if complete else max(
            (i + 1 for i, key in enumerate(held_keys) if key in wanted), default=0)
        tail = [row for row in self._rows[covered:] if self.key(row) not in wanted]
        rows = [*fresh, *tail]
        keys = [*fresh_keys, *(self.key(row) for row in tail)]
        self.merging = True
        try:
            self._apply(held_keys, rows, keys)
        finally:
            self.merging = False
        if complete:
            self._exhausted = True
        elif self._exhausted and len(fresh) == limit:
            self._exhausted = False  # new rows pushed some out of the top: more can be had
        self.refreshed.emit()
        self._refresh_if_asked()

    def _apply(self, held: list[Hashable], rows: list[Row], keys: list[Hashable]) -> None:
        """Turn the rows held into ``rows`` by inserting, removing and repainting rows, from
        the bottom up so that each step's row numbers still hold."""
        from difflib import SequenceMatcher  # here: rows arrive after the first paint

        steps = SequenceMatcher(None, held, keys, autojunk=False).get_opcodes()
        last = len(self.headers) - 1
        for tag, i1, i2, j1, j2 in reversed(steps):
            if tag == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    if self._rows[i] != rows[j]:
                        self._rows[i] = rows[j]
                        self.dataChanged.emit(self.index(i, 0), self.index(i, last))
                continue
            if i2 > i1:  # "delete" or "replace"
                self.beginRemoveRows(QModelIndex(), i1, i2 - 1)
                del self._rows[i1:i2]
                self.endRemoveRows()
            if j2 > j1:  # "insert" or "replace"
                self.beginInsertRows(QModelIndex(), i1, i1 + j2 - j1 - 1)
                self._rows[i1:i1] = rows[j1:j2]
                self.endInsertRows()

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
