"""The call history: a paged table of calls (:mod:`advice_desk.gui.paged_model`).

Sorting and filtering are done by the database (``CallQuery``), never in Python, so the model
stays fast with a million calls: it only ever holds the pages the worker has scrolled through.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Qt

from advice_desk.calls.history import CallQuery, CallSummary
from advice_desk.clock import to_uk
from advice_desk.gui.paged_model import FetchPage, PagedTableModel
from advice_desk.gui.taskman import TaskManager
from advice_desk.reference import lists as reference

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


class HistoryModel(PagedTableModel[CallQuery, CallSummary]):
    headers = tuple(header for header, _ in COLUMNS)

    def __init__(self, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(tasks, query=CallQuery(), parent=parent)
        self._topic_labels: dict[str, str] = {}
        h = reference.helpline()
        self._call_labels = {**{c.code: c.label for c in h.caller_types},
                             **{k.code: k.label for k in h.non_data_kinds}}
        self._outcome_labels = {c.code: c.label for c in h.outcomes}

    def attach(self, fetch: FetchPage[CallQuery, CallSummary],
               topic_labels: dict[str, str]) -> None:
        """Start showing calls, fetched by ``fetch`` on the store thread."""
        self._fetch = fetch
        self._topic_labels = topic_labels
        self.reload()

    @property
    def query(self) -> CallQuery:
        assert self._query is not None, "the history starts with every call"
        return self._query

    def call_id(self, row: int) -> int:
        return self.row(row).id

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1]
        if key is None:
            return
        self.set_query(replace(self.query, sort=key,
                               descending=order == Qt.SortOrder.DescendingOrder))

    def cell(self, call: CallSummary, column: int) -> str:
        if column == 0:
            return to_uk(call.started_at).strftime("%a %d %b %y %H:%M")
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
