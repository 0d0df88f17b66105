"""The supervisor's view of the audit trail: who did what and when, newest first, filtered by
dates (UK days), action and person. Read-only: nothing here can change an event, and the
database would refuse if anything tried.

Rows load a page at a time on the store thread as the supervisor scrolls
(:mod:`advice_desk.gui.paged_model`); the filters are applied by the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDialog, QHeaderView, QWidget

from advice_desk.clock import Clock, to_uk, uk_today
from advice_desk.gui import errors
from advice_desk.gui.dates import from_qdate, to_qdate
from advice_desk.gui.forms import load_form
from advice_desk.gui.paged_model import PagedTableModel
from advice_desk.gui.taskman import TaskManager
from advice_desk.people.permissions import app_actor

if TYPE_CHECKING:  # the database layer: loaded with the desk, on the store thread
    from advice_desk.people.audit import AuditQuery, AuditTrail

DEFAULT_DAYS = 30  # the window opens on the last 30 days, today included
FILTER_DELAY_MS = 300  # typing a name or a date waits for a pause before querying
COLUMNS = ("When", "Who", "What", "About", "Details")


@dataclass(frozen=True)
class AuditRow:
    """One event as the table shows it; made on the store thread."""

    at: datetime
    who: str
    what: str
    about: str
    details: str


def fetch_rows(events: AuditTrail, query: AuditQuery, offset: int,
               limit: int) -> list[AuditRow]:
    """A page of the trail as table rows. Runs on the store thread."""
    from advice_desk.people.audit import describe

    return [AuditRow(event.at, event.actor, event.action, event.subject or "", describe(event))
            for event in events.events(query, offset, limit)]


FetchRows = Callable[["AuditQuery", int, int], list[AuditRow]]


def action_words(action: str) -> str:
    """An event's action as words ("user-added": "User added"); the code stays the filter's
    data and the CSV's value."""
    words = action.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


class AuditModel(PagedTableModel["AuditQuery", AuditRow]):
    """The events matching one query, newest first, a page at a time."""

    headers = COLUMNS

    def __init__(self, tasks: TaskManager, fetch: FetchRows,
                 parent: QObject | None = None) -> None:
        super().__init__(tasks, fetch, parent=parent)

    def cell(self, row: AuditRow, column: int) -> str:
        if column == 0:
            return to_uk(row.at).strftime("%a %d %b %Y %H:%M:%S")
        return (row.who, action_words(row.what), row.about, row.details)[column - 1]


class AuditWindow(QDialog):
    """The audit trail, newest first. ``model`` holds the rows shown."""

    def __init__(self, tasks: TaskManager, events: AuditTrail, clock: Clock,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Audit trail"))
        self.resize(1180, 640)
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
        metrics = table.fontMetrics()  # When, Who, What and About fit their usual text
        who = max("Sam Supervisor-Smith", app_actor().name, key=metrics.horizontalAdvance)
        for column, sample in enumerate(("Mon 23 Nov 2026 10:19:00", who,
                                         "Repeat caller lookup", "user hannah.k")):
            table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 16)
        today = uk_today(clock)
        ui.audit_from_date.setDate(to_qdate(today - timedelta(days=DEFAULT_DAYS - 1)))
        ui.audit_to_date.setDate(to_qdate(today))
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
        tasks.run(events.actions).success(self._show_actions).failure(
            lambda error: self._show_failure(errors.describe(error)))
        self.apply_filters()

    def _show_actions(self, actions: list[str]) -> None:
        combo = self.ui.action_combo
        chosen = combo.currentData()
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for action in actions:
            combo.addItem(action_words(action), action)
        combo.setCurrentIndex(max(combo.findData(chosen), 0) if chosen else 0)
        combo.blockSignals(False)

    def apply_filters(self) -> None:
        """Show the events matching the filters as they are now (no-op if unchanged)."""
        # Imported here, not at the top: the window only opens once the desk (and with it the
        # database layer) has loaded on the store thread, and importing this module must not.
        from advice_desk.people.audit import AuditQuery

        self._filter_timer.stop()
        ui = self.ui
        query = AuditQuery(date_from=from_qdate(ui.audit_from_date.date()),
                           date_to=from_qdate(ui.audit_to_date.date()),
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
