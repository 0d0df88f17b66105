"""The supervisor's view of the audit trail: who did what and when, newest first, filtered by
dates (UK days), action and person. Read-only: nothing here can change an event, and the
database would refuse if anything tried.

Rows load a page at a time on the store thread as the supervisor scrolls, as the call history
does (:mod:`advice_desk.gui.history_model`); the filters are applied by the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QDialog, QHeaderView, QWidget

from advice_desk.clock import Clock, to_uk
from advice_desk.gui.forms import load_form
from advice_desk.gui.history_model import PAGE_SIZE, Index
from advice_desk.gui.taskman import TaskManager

if TYPE_CHECKING:  # the database layer: loaded with the desk, on the store thread
    from advice_desk.audit import AuditQuery
    from advice_desk.models import AuditEvent

DEFAULT_DAYS = 30  # the window opens on the last 30 days, today included
FILTER_DELAY_MS = 300  # typing a name or a date waits for a pause before querying
COLUMNS = ("When", "Who", "What", "About", "Details")


class AuditReader(Protocol):
    """Reading the trail, bound to a store and the signed-in supervisor."""

    def list_events(self, query: AuditQuery, offset: int, limit: int) -> list[AuditEvent]: ...

    def event_actions(self) -> list[str]: ...


@dataclass(frozen=True)
class AuditRow:
    """One event as the table shows it; made on the store thread."""

    at: datetime
    who: str
    what: str
    about: str
    details: str


def fetch_rows(events: AuditReader, query: AuditQuery, offset: int,
               limit: int) -> list[AuditRow]:
    """A page of the trail as table rows. Runs on the store thread."""
    from advice_desk.audit import describe

    return [AuditRow(event.at, event.actor, event.action, event.subject or "", describe(event))
            for event in events.list_events(query, offset, limit)]


FetchRows = Callable[["AuditQuery", int, int], list[AuditRow]]


class AuditModel(QAbstractTableModel):
    """The events matching one query, a page at a time. Emits ``loaded`` after each page and
    ``failed`` (with a message) when a page cannot be read."""

    loaded = Signal()
    failed = Signal(str)

    def __init__(self, tasks: TaskManager, fetch: FetchRows, parent: Any = None) -> None:
        super().__init__(parent)
        self._tasks, self._fetch = tasks, fetch
        self._query: AuditQuery | None = None
        self._rows: list[AuditRow] = []
        self._exhausted = True
        self._loading = False
        self._generation = 0

    @property
    def query(self) -> AuditQuery | None:
        return self._query

    @property
    def loading(self) -> bool:
        return self._loading

    def set_query(self, query: AuditQuery) -> None:
        self._query = query
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = []
        self._generation += 1
        self._exhausted = self._query is None
        self._loading = False
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def row(self, row: int) -> AuditRow:
        return self._rows[row]

    # --- lazy loading (as in HistoryModel) --------------------------------------------------

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self._query is None:
            return
        self._loading = True
        fetch, query, offset = self._fetch, self._query, len(self._rows)
        generation = self._generation
        self._tasks.run(lambda: fetch(query, offset, PAGE_SIZE),
                        on_success=lambda rows: self._append(generation, rows),
                        on_failure=lambda error: self._fail(generation, error))

    def _append(self, generation: int, rows: list[AuditRow]) -> None:
        if generation != self._generation:
            return  # a page for filters that have since changed
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
        self._exhausted = True  # no retry loop on every scroll; changing a filter tries again
        self.failed.emit(str(error))

    # --- table (read-only) ------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(COLUMNS[section])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if column == 0:
            return to_uk(row.at).strftime("%a %d %b %Y %H:%M:%S")
        return (row.who, row.what, row.about, row.details)[column - 1]


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(qdate: QDate) -> date:
    return date(qdate.year(), qdate.month(), qdate.day())


class AuditWindow(QDialog):
    """The audit trail, newest first. ``model`` holds the rows shown."""

    def __init__(self, tasks: TaskManager, events: AuditReader, clock: Clock,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Audit trail"))
        self.resize(1000, 640)
        self.ui = load_form("audit_view.ui", self)
        self.tasks, self._events, self.clock = tasks, events, clock
        self.model = AuditModel(tasks, partial(fetch_rows, events), self)
        ui = self.ui
        table = ui.audit_table
        table.setModel(self.model)
        table.setAccessibleName(self.tr("Audit events"))
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((190, 160, 130, 160)):
            table.setColumnWidth(column, width)
        today = to_uk(clock.now()).date()
        ui.audit_from_date.setDate(_qdate(today - timedelta(days=DEFAULT_DAYS - 1)))
        ui.audit_to_date.setDate(_qdate(today))
        ui.action_combo.addItem(self.tr("All actions"), None)
        self._filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filters)
        ui.audit_from_date.dateChanged.connect(self._filter_timer.start)
        ui.audit_to_date.dateChanged.connect(self._filter_timer.start)
        ui.person_edit.textChanged.connect(self._filter_timer.start)
        ui.person_edit.returnPressed.connect(self.apply_filters)
        ui.action_combo.currentIndexChanged.connect(self.apply_filters)
        ui.audit_button_box.rejected.connect(self.reject)
        self.model.loaded.connect(self._show_count)
        self.model.failed.connect(self._show_failure)
        tasks.run(events.event_actions, on_success=self._show_actions,
                  on_failure=lambda error: self._show_failure(str(error)))
        self.apply_filters()

    def _show_actions(self, actions: list[str]) -> None:
        combo = self.ui.action_combo
        chosen = combo.currentData()
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for action in actions:
            combo.addItem(action, action)
        combo.setCurrentIndex(max(combo.findData(chosen), 0) if chosen else 0)
        combo.blockSignals(False)

    def apply_filters(self) -> None:
        """Show the events matching the filters as they are now (no-op if unchanged)."""
        # Imported here, not at the top: the window only opens once the desk (and with it the
        # database layer) has loaded on the store thread, and importing this module must not.
        from advice_desk.audit import AuditQuery

        self._filter_timer.stop()
        ui = self.ui
        query = AuditQuery(date_from=_date(ui.audit_from_date.date()),
                           date_to=_date(ui.audit_to_date.date()),
                           action=ui.action_combo.currentData(),
                           actor=ui.person_edit.text().strip() or None)
        if query != self.model.query:
            self.model.set_query(query)
            self._show_count()

    def _show_count(self) -> None:
        query, shown = self.model.query, self.model.rowCount()
        if query is not None and query.date_from and query.date_to \
                and query.date_to < query.date_from:
            text = self.tr("The period ends before it starts.")
        elif self.model.loading:
            text = self.tr("Loading…")
        elif self.model.canFetchMore():
            text = self.tr("The newest {0} events; scroll down for more.").format(shown)
        elif shown == 0:
            text = self.tr("No events match.")
        else:
            text = self.tr("{0} events.").format(shown) if shown != 1 else self.tr("1 event.")
        self.ui.audit_status.setText(text)

    def _show_failure(self, message: str) -> None:
        self.ui.audit_status.setText(self.tr("The audit trail could not be read: {0}").format(
            message))
