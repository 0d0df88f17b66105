"""The call history: a paged table of calls (:mod:`advice_desk.gui.paged_model`), how many
calls the filters leave, and the search box over the notes and caller names.

Sorting, filtering and searching are done by the database (``CallQuery``), never in Python, so
the model stays fast with a million calls: it only ever holds the pages the worker has scrolled
through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHeaderView, QLabel, QLineEdit, QTableView

from advice_desk.calls.history import CallQuery, CallSummary
from advice_desk.clock import Clock, to_uk, uk_today
from advice_desk.gui.dates import minutes_text, short_date, shown_date_time
from advice_desk.gui.paged_model import FetchPage, PagedTableModel
from advice_desk.gui.taskman import TaskManager
from advice_desk.reference import lists as reference

Stretch, Fit = QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.ResizeToContents
Fixed = QHeaderView.ResizeMode.Interactive
# (header, sort key in CallQuery or None when the column cannot be sorted, how it is sized,
# its width in average characters when Interactive): the date and time, the duration and the
# worker's name fit their text; the caller gets room for its usual text and the flags for one
# flag ("Follow-up 30 Nov"): longer text is elided, shown whole as a tooltip, and the user can
# widen them. (Fitting those to the rows would give a rare long value the topic's width.)
# Spare width goes to the topic and outcomes.
COLUMNS: tuple[tuple[str, str | None, QHeaderView.ResizeMode, int], ...] = (
    ("Started", "started_at", Fit, 0),
    ("Caller", "caller_type", Fixed, 14),
    ("Primary topic", "primary_topic", Stretch, 0),
    ("Outcomes", None, Stretch, 0),
    ("Duration", "duration_s", Fit, 0),
    ("Worker", "worker", Fit, 0),
    ("Flags", None, Fixed, 17),
)
SEARCH_DELAY_MS = 300  # typing filters the history after this pause
Count = Callable[[CallQuery], int]


class HistoryModel(PagedTableModel[CallQuery, CallSummary]):
    """Emits ``total_changed`` with the text of the total ("1,234 calls") after each query."""

    total_changed = Signal(str)
    headers = tuple(header for header, *_ in COLUMNS)

    def __init__(self, tasks: TaskManager, parent: QObject | None = None,
                 clock: Clock | None = None) -> None:
        super().__init__(tasks, query=CallQuery(), parent=parent)
        self._clock = clock  # with a clock, a date of this year is shown without its year
        self._topic_labels: dict[str, str] = {}
        self._count: Count | None = None
        self._counting = 0  # the generation of the last total asked for
        self._recounting = -1  # the generation whose count is on the store thread
        self._count_again = False  # a refresh asked for a count while one was on its way
        h = reference.helpline()
        self._call_labels = {**{c.code: c.label for c in h.caller_types},
                             **{k.code: k.label for k in h.non_data_kinds}}
        self._outcome_labels = {c.code: c.label for c in h.outcomes}

    def attach(self, fetch: FetchPage[CallQuery, CallSummary],
               topic_labels: dict[str, str], count: Count | None = None) -> None:
        """Start showing calls, fetched by ``fetch`` on the store thread, and how many there
        are, counted by ``count``."""
        self._fetch = fetch
        self._count = count
        self._topic_labels = topic_labels
        self.reload()

    def reload(self) -> None:
        super().reload()
        self._recount()

    def _recount(self, again: bool = False) -> None:
        """Count the calls of the query; ``again`` (a refresh): unless a count of the same
        query is on its way, in which case one more follows it."""
        count, query = self._count, self._query
        if count is None or query is None:
            return
        if again and self._recounting == self._generation:
            self._count_again = True
            return
        self._counting = self._recounting = generation = self._generation
        self._count_again = False
        self._tasks.run(lambda: count(query)).success(
            lambda total: self._show_total(generation, total)).failure(
            lambda _error: self._counted(generation))

    def _counted(self, generation: int) -> None:
        if generation == self._recounting:
            self._recounting = -1
            if self._count_again:
                self._recount()

    def _show_total(self, generation: int, total: int) -> None:
        if generation == self._counting:
            self.total_changed.emit(self.tr("1 call") if total == 1 else
                                    self.tr("{0} calls").format(f"{total:,}"))
        self._counted(generation)

    def search(self, text: str) -> None:
        """Show only the calls whose notes and caller name hold every word of ``text``."""
        if text.strip() != self.query.text:
            self.set_query(replace(self.query, text=text.strip()))

    @property
    def query(self) -> CallQuery:
        assert self._query is not None, "the history starts with every call"
        return self._query

    def call_id(self, row: int) -> int:
        return self.row(row).id

    def key(self, row: CallSummary) -> int:
        return row.id

    def row_of(self, call_id: int) -> int | None:
        """Where the call is among the rows held, if it is."""
        return next((i for i in range(self.rowCount()) if self.row(i).id == call_id), None)

    def refresh(self) -> None:
        """The rows held brought up to date (:meth:`PagedTableModel.refresh`), and the total."""
        super().refresh()
        self._recount(again=True)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1]
        if key is None:
            return
        self.set_query(replace(self.query, sort=key,
                               descending=order == Qt.SortOrder.DescendingOrder))

    def cell(self, call: CallSummary, column: int) -> str:
        if column == 0:
            return shown_date_time(call.started_at, self._this_year())
        if column == 1:
            return self._call_labels.get(call.caller_type or call.kind, "")
        if column == 2:
            code = call.primary_topic or ""
            return self._topic_labels.get(code, code)
        if column == 3:
            return ", ".join(self._outcome_labels.get(o, o) for o in call.outcomes.split(", ")
                             if o)
        if column == 4:
            return minutes_text(call.duration_s)
        if column == 5:
            return call.worker
        return self._flags(call)

    def tooltip(self, call: CallSummary, column: int) -> str:
        if column == 0:
            return to_uk(call.started_at).strftime("%A %d %B %Y, %H:%M")
        return self.cell(call, column)

    def _this_year(self) -> int | None:
        return uk_today(self._clock).year if self._clock is not None else None

    def _flags(self, call: CallSummary) -> str:
        flags = [self.tr("Withdrawn")] if call.withdrawn else []
        if call.safeguarding:
            flags.append(self.tr("Safeguarding"))
        if call.follow_up_on:
            flags.append(self.tr("Follow-up {0}").format(
                short_date(call.follow_up_on, self._this_year())))
        if call.reviewed:
            flags.append(self.tr("Reviewed"))
        return ", ".join(flags)


def set_up_view(view: QTableView) -> None:
    """Column sizes (spare width to the topic and outcomes) of the history table; newest first
    (its arrow: :func:`advice_desk.gui.sort_arrow.show_sort_arrow`)."""
    header = view.horizontalHeader()
    header.setStretchLastSection(False)
    average = view.fontMetrics().averageCharWidth()
    for column, (_, _, mode, characters) in enumerate(COLUMNS):
        header.setSectionResizeMode(column, mode)
        if characters:
            header.resizeSection(column, characters * average + 12)
    header.setMinimumSectionSize(60)
    view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    # Rows that arrive into an empty table (the first call of the day, a refresh after another
    # seat's save) leave the fitted columns at their header's width: fitted again once painted.
    fitted = [column for column, (_, _, mode, _) in enumerate(COLUMNS) if mode == Fit]
    timer = QTimer(view, singleShot=True, interval=0)

    def fit() -> None:
        for column in fitted:
            view.resizeColumnToContents(column)

    timer.timeout.connect(fit)
    view.model().rowsInserted.connect(timer.start)
    # The arrow once its style is in place, after the first paint (gui.sort_arrow): drawn by
    # Qt's style until then, it would point the wrong way.
    header.setSortIndicatorShown(False)


def fit_columns(view: QTableView) -> None:
    """The columns sized to their text (the date and the duration) fitted again to the rows
    shown: rows that came while the view was not yet laid out leave them at the header's
    width."""
    for column, (_, _, mode, _) in enumerate(COLUMNS):
        if mode == Fit:
            view.resizeColumnToContents(column)


class HistorySearch(QObject):
    """The search box over the history: what is typed filters the table after a short pause
    (at once on Enter); Escape clears it."""

    def __init__(self, edit: QLineEdit, model: HistoryModel, total: QLabel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.edit, self.model = edit, model
        # The total never squeezed: room for "9,999,999 calls".
        total.setMinimumWidth(total.fontMetrics().horizontalAdvance(
            model.tr("{0} calls").format("9,999,999")) + 4)
        edit.setMinimumWidth(120)
        model.total_changed.connect(total.setText)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply)
        edit.textEdited.connect(self._timer.start)
        edit.textChanged.connect(self._cleared)
        edit.returnPressed.connect(self.apply)
        edit.installEventFilter(self)

    def focus(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    def apply(self) -> None:
        self._timer.stop()
        self.model.search(self.edit.text())

    def _cleared(self, text: str) -> None:
        if not text:  # the clear button, Escape, or everything deleted
            self.apply()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.edit and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape
                and self.edit.text()):
            self.edit.clear()
            return True
        return super().eventFilter(watched, event)
