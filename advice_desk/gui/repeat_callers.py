"""Repeat callers (PRODUCT.md §1): while the worker types the phone number or email of a
caller who agreed to store their details, the caller's earlier calls, in a panel that one key
(Ctrl+P) opens in the place of the call history and closes again: the form keeps its width.
The form shows a hint ("3 earlier calls — Ctrl+P") under the email field.

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
    QFormLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from advice_desk.gui.dates import shown_date, shown_date_time
from advice_desk.gui.intake_form import IntakeForm
from advice_desk.gui.taskman import TaskManager

if TYPE_CHECKING:
    from advice_desk.desk import Desk
    from advice_desk.privacy.repeat_callers import EarlierCall, EarlierCalls

LOOKUP_DELAY_MS = 600  # look the caller up this long after the last keystroke
KEY = "Ctrl+P"


class RepeatCallersPanel(QWidget):
    """The earlier calls of the caller on the phone, in the place of the call history while it
    is open (:meth:`take_place_of`): the form keeps its full width, and each earlier call is a
    short block of lines in a list as wide as the history was. ``lookups`` counts the replies
    shown."""

    def __init__(self, tasks: TaskManager, form: IntakeForm, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.setObjectName("repeat_callers_panel")
        self.setAccessibleName(self.tr("Earlier calls"))
        self.tasks, self.form = tasks, form
        self.desk: Desk | None = None
        self.found: EarlierCalls | None = None
        self.lookups = 0
        self._asked = 0  # the number of the newest lookup asked for
        self._stack: QStackedWidget | None = None
        self._covered: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(self.tr("Earlier calls of this caller ({0}: back to the history)")
                            .format(KEY), self)
        bold = self.title.font()
        bold.setBold(True)
        self.title.setFont(bold)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(self.tr("Earlier calls found"))
        self.list = QListWidget(self)
        self.list.setAccessibleName(self.tr("Earlier calls of this caller"))
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        self.hint = QLabel(form)
        self.hint.setAccessibleName(self.tr("Earlier calls hint"))
        self.hint.setWordWrap(True)  # never wider than the field above it (no scroll bar)
        self.hint.hide()
        _place_hint(form, self.hint)
        self._timer = QTimer(self, singleShot=True, interval=LOOKUP_DELAY_MS)
        self._timer.timeout.connect(self.look_up)
        for edit in (form.ui.caller_phone_edit, form.ui.caller_email_edit):
            edit.textChanged.connect(self._typed)
        form.ui.consent_combo.currentIndexChanged.connect(self._typed)
        self._show(None)
        self.hide()

    def take_place_of(self, covered: QWidget) -> None:
        """Open in the place of ``covered`` (the call history, a pane of a splitter): the two
        share one slot of the splitter, so the form beside them is never squeezed."""
        splitter = covered.parentWidget()
        assert isinstance(splitter, QSplitter), "the panel covers a pane of a splitter"
        sizes = splitter.sizes()
        stack = self._stack = QStackedWidget()  # not a child yet: the splitter would add it
        stack.setObjectName("history_or_earlier_calls")
        splitter.replaceWidget(splitter.indexOf(covered), stack)
        stack.addWidget(covered)
        stack.addWidget(self)
        stack.setCurrentWidget(covered)
        self._covered = covered
        splitter.setSizes(sizes)

    @property
    def is_open(self) -> bool:
        return self._stack is not None and self._stack.currentWidget() is self

    def toggle(self) -> None:
        """Open the panel (its list gets the focus) or close it (back to the form)."""
        if self.is_open:
            self.give_way()
            self.form.ui.caller_phone_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        elif self._stack is not None:
            self._stack.setCurrentWidget(self)
            self.list.setFocus(Qt.FocusReason.ShortcutFocusReason)
            if self.list.currentRow() < 0 and self.list.count():
                self.list.setCurrentRow(0)

    def give_way(self) -> None:
        """Close the panel: the call history is shown again."""
        if self._stack is not None and self._covered is not None:
            self._stack.setCurrentWidget(self._covered)

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

    def attach(self, desk: Desk | None) -> None:
        """Look callers up at ``desk`` (None: signed out, nothing shown)."""
        self.desk = desk
        self._typed()

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
        self.list.clear()
        for call in calls:
            text = "\n".join(self.lines(call))
            item = QListWidgetItem(text, self.list)
            item.setToolTip(text)

    def lines(self, call: EarlierCall) -> list[str]:
        """An earlier call as a few short lines: when and about what; what was done; and, for
        a supervisor, who took it, the caller as stored and the notes."""
        from advice_desk.privacy.repeat_callers import EarlierCallInFull

        when = shown_date_time(call.started_at)
        lines = [self.tr("{0} — {1}").format(when, ", ".join(call.topics) or self.tr(
            "no topic"))]
        done = ", ".join(call.outcomes) or self.tr("no outcome")
        follow_up = self._follow_up(call)
        lines.append(self.tr("{0} · {1}").format(done, follow_up) if follow_up else done)
        if isinstance(call, EarlierCallInFull):
            caller = " · ".join(v for v in (call.caller_name, call.caller_phone,
                                            call.caller_email) if v)
            lines.append(self.tr("Taken by {0}").format(call.worker)
                         + (self.tr(" · caller {0}").format(caller) if caller else ""))
            if call.notes:
                lines.append(self.tr("Notes: {0}").format(call.notes))
        return lines

    def _follow_up(self, call: EarlierCall) -> str:
        if call.follow_up_on is None:
            return ""
        day = shown_date(call.follow_up_on)
        if call.follow_up_done:
            return self.tr("follow-up {0} (done)").format(day)
        return self.tr("follow-up {0}").format(day)


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
