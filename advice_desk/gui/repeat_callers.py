"""Repeat callers (PRODUCT.md §1): while the worker types the phone number or email of a
caller who agreed to store their details, the caller's earlier calls, in a panel docked beside
the form that one key (Ctrl+P) opens and closes. The form shows a hint ("3 earlier calls —
Ctrl+P") under the email field.

What each role sees is decided by the core (:mod:`advice_desk.privacy.repeat_callers`): a
worker's rows have only the date, the topics, the outcome and the follow-up. The lookup runs
on the store thread a moment after the worker stops typing; a reply that has been overtaken by
newer typing is dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFormLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from advice_desk.clock import to_uk
from advice_desk.gui.intake_form import IntakeForm
from advice_desk.gui.taskman import TaskManager

if TYPE_CHECKING:
    from advice_desk.desk import Desk
    from advice_desk.privacy.repeat_callers import EarlierCall, EarlierCalls

LOOKUP_DELAY_MS = 600  # look the caller up this long after the last keystroke
KEY = "Ctrl+P"


class RepeatCallersPanel(QDockWidget):
    """The earlier calls of the caller on the phone. ``lookups`` counts the replies shown."""

    def __init__(self, tasks: TaskManager, form: IntakeForm, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.setObjectName("repeat_callers_dock")
        self.setWindowTitle(self.tr("Earlier calls"))
        self.setAccessibleName(self.tr("Earlier calls"))
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.tasks, self.form = tasks, form
        self.desk: Desk | None = None
        self.found: EarlierCalls | None = None
        self.lookups = 0
        self._asked = 0  # the number of the newest lookup asked for
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.summary = QLabel(body)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(self.tr("Earlier calls found"))
        self.table = QTableWidget(0, 0, body)
        self.table.setAccessibleName(self.tr("Earlier calls of this caller"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        self.setWidget(body)
        self.setMinimumWidth(320)
        self.hint = QLabel(form)
        self.hint.setAccessibleName(self.tr("Earlier calls hint"))
        self.hint.hide()
        _place_hint(form, self.hint)
        self._timer = QTimer(self, singleShot=True, interval=LOOKUP_DELAY_MS)
        self._timer.timeout.connect(self.look_up)
        for edit in (form.ui.caller_phone_edit, form.ui.caller_email_edit):
            edit.textChanged.connect(self._typed)
        form.ui.consent_combo.currentIndexChanged.connect(self._typed)
        self._show(None)
        self.hide()

    def attach(self, desk: Desk | None) -> None:
        """Look callers up at ``desk`` (None: signed out, nothing shown)."""
        self.desk = desk
        self._typed()

    def toggle(self) -> None:
        """Open the panel (its table gets the focus) or close it (back to the form)."""
        if self.isVisible():
            self.hide()
            self.form.ui.caller_phone_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        else:
            self.show()
            self.raise_()
            self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _typed(self, *_: object) -> None:
        self._asked += 1  # whatever is on its way now answers an older question
        self._timer.start()

    def look_up(self) -> None:
        """Look the caller up now (the timer does it a moment after typing stops)."""
        self._timer.stop()
        self._asked += 1
        asked, desk, ui = self._asked, self.desk, self.form.ui
        phone, email = ui.caller_phone_edit.text(), ui.caller_email_edit.text()
        if desk is None or not ui.consent_combo.currentData() or not (phone or email):
            self._show(None)
            return
        excluding = self.form.editing_call_id
        self.tasks.run(lambda: desk.callers.earlier_calls(phone, email, excluding)).success(
            lambda found: self._answered(asked, found))

    def _answered(self, asked: int, found: EarlierCalls) -> None:
        if asked == self._asked:
            self.lookups += 1
            self._show(found)

    def _show(self, found: EarlierCalls | None) -> None:
        self.found = found
        count = found.count if found else 0
        if count:
            text = self.tr("1 earlier call") if count == 1 else self.tr(
                "{0} earlier calls").format(count)
            self.hint.setText(self.tr("{0} — {1}").format(text, KEY))
            shown = len(found.calls) if found else 0
            self.summary.setText(text if shown == count else self.tr(
                "{0}; the newest {1} are shown.").format(text, shown))
        else:
            self.summary.setText(self.tr(
                "No earlier calls. Type the phone number or email of a caller who agreed to "
                "store their details."))
        was_shown = self.hint.isVisible()
        self.hint.setVisible(bool(count))
        if count and not was_shown:
            QTimer.singleShot(0, self._hint_into_view)
        self._fill(found.calls if found else ())

    def _hint_into_view(self) -> None:
        """Scroll the form so that the hint shows under the field being typed in."""
        widget = self.hint.parentWidget()
        while widget is not None and not isinstance(widget, QScrollArea):
            widget = widget.parentWidget()
        if isinstance(widget, QScrollArea) and self.hint.isVisible():
            widget.ensureWidgetVisible(self.hint)

    def _fill(self, calls: tuple[EarlierCall, ...]) -> None:
        full = False
        if calls:  # imported only with calls to show: it loads SQLModel, not before the paint
            from advice_desk.privacy.repeat_callers import EarlierCallInFull

            full = any(isinstance(call, EarlierCallInFull) for call in calls)
        headers = [self.tr("Date"), self.tr("Topics"), self.tr("Outcome"), self.tr("Follow-up")]
        if full:
            headers += [self.tr("Worker"), self.tr("Caller"), self.tr("Notes")]
        table = self.table
        table.clear()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(calls))
        for row, call in enumerate(calls):
            cells = [f"{to_uk(call.started_at):%d %b %Y %H:%M}", ", ".join(call.topics),
                     ", ".join(call.outcomes), self._follow_up(call)]
            if full and isinstance(call, EarlierCallInFull):
                cells += [call.worker, " · ".join(v for v in (
                    call.caller_name, call.caller_phone, call.caller_email) if v),
                          call.notes or ""]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                table.setItem(row, column, item)
        header = table.horizontalHeader()  # every column in the panel's width, text wrapped
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        table.resizeRowsToContents()

    def _follow_up(self, call: EarlierCall) -> str:
        if call.follow_up_on is None:
            return ""
        if call.follow_up_done:
            return self.tr("{0:%d %b %Y} (done)").format(call.follow_up_on)
        return self.tr("{0:%d %b %Y}").format(call.follow_up_on)


def _place_hint(form: IntakeForm, hint: QLabel) -> None:
    """The hint goes under the email field, wherever the form's layout has put it."""
    email = form.ui.caller_email_edit
    parent = email.parentWidget()
    layout = parent.layout() if parent is not None else None
    if isinstance(layout, QFormLayout):
        position: tuple[int, object] = layout.getWidgetPosition(email)  # type: ignore[assignment]
        row = position[0]
        if row >= 0:
            layout.insertRow(row + 1, "", hint)
            return
    if layout is not None:
        layout.addWidget(hint)
