"""The intake form: everything about one call, typed with the keyboard while listening.

The form turns its widgets into a :class:`CallDetails` and back, and into a JSON payload for the
draft the main window saves as the worker types. It never talks to the store itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QDate,
    QDateTime,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTime,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QCompleter,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from advice_desk.calls.limits import MAX_CALL_LENGTH, MAX_CHILDREN
from advice_desk.clock import UK, Clock, to_uk, uk_today
from advice_desk.gui.dates import to_qdate
from advice_desk.gui.forms import load_form, plain_label
from advice_desk.json_value import JSONObject
from advice_desk.reference import lists as reference
from advice_desk.validation import FieldError, ValidationError

if TYPE_CHECKING:  # the call's record and the hours load after the window's first paint
    from advice_desk.calls.record import CallDetails, StoredCall
    from advice_desk.calls.topic_views import TopicChoice
    from advice_desk.reference.hours import HoursPolicy

CODE = Qt.ItemDataRole.UserRole
BAND_SPINS = ("band_0_4_spin", "band_5_10_spin", "band_11_15_spin", "band_16_17_spin",
              "band_18_spin")
PAYLOAD_VERSION = 1
BAND_DIGITS = len(str(MAX_CHILDREN))  # an age band box takes no more digits than 20 has

# Which widget shows the problem with each field of a call.
FIELD_WIDGETS = {
    "started_at": "started_edit", "ended_at": "duration_spin", "channel": "channel_combo",
    "direction": "direction_combo", "caller_type": "caller_type_combo",
    "arrangement": "arrangement_combo", "local_authority": "local_authority_combo",
    "children_count": "children_spin", "children_age_bands": "band_0_4_spin",
    "topics": "topic_edit", "outcomes": "outcome_list", "referred_to": "referral_list",
    "follow_up_on": "follow_up_date", "follow_up_note": "follow_up_note_edit",
    "first_time_caller": "first_time_combo", "how_heard": "how_heard_combo",
    "caller_name": "caller_name_edit", "caller_phone": "caller_phone_edit",
    "caller_email": "caller_email_edit", "caller_postcode": "caller_postcode_edit",
    "notes": "notes_edit",
}
PERSONAL_EDITS = ("caller_name_edit", "caller_phone_edit", "caller_email_edit",
                  "caller_postcode_edit")
MAX_MINUTES = int(MAX_CALL_LENGTH.total_seconds()) // 60  # the core's 12-hour limit
# A number box takes any whole number typed (up to this many digits) and shows it as typed: one
# outside what the field means is marked and named, never silently cut to another number.
TYPED_MAXIMUM = 9_999_999
# The numbers each box means, and which field of a call shows the problem.
NUMBER_LIMITS = {"duration_spin": ("ended_at", MAX_MINUTES),
                 "children_spin": ("children_count", MAX_CHILDREN),
                 **{name: ("children_age_bands", MAX_CHILDREN) for name in BAND_SPINS}}
NUMBER_FIELDS = {field for field, _ in NUMBER_LIMITS.values()}
INVALID = "invalid"  # the dynamic property of a field with a problem (see STYLE)
STYLE = """
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"], QListWidget[invalid="true"],
QComboBox[invalid="true"], QAbstractSpinBox[invalid="true"] { border: 2px solid #b3261e; }
QLabel[invalid="true"] { color: #b3261e; }
"""


def _fill(combo: QComboBox, choices: tuple[reference.Choice, ...], blank: str | None = None
          ) -> None:
    if blank is not None:
        combo.addItem(blank, None)
    for choice in choices:
        combo.addItem(choice.label, choice.code)


def _select(combo: QComboBox, code: object) -> None:
    index = combo.findData(code)
    combo.setCurrentIndex(max(index, 0))


def _checked_codes(widget: QListWidget) -> tuple[str, ...]:
    return tuple(widget.item(i).data(CODE) for i in range(widget.count())
                 if widget.item(i).checkState() == Qt.CheckState.Checked)


def _set_checked(widget: QListWidget, codes: tuple[str, ...] | list[str]) -> None:
    for i in range(widget.count()):
        item = widget.item(i)
        item.setCheckState(Qt.CheckState.Checked if item.data(CODE) in codes
                           else Qt.CheckState.Unchecked)


def _checkable_list(widget: QListWidget, choices: tuple[reference.Choice, ...]) -> None:
    for choice in choices:
        item = QListWidgetItem(choice.label, widget)
        item.setData(CODE, choice.code)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)


def _fit_to_rows(widget: QListWidget, rows: int) -> None:
    """A short fixed list shows every choice, in columns of ``rows``, with no scroll bar."""
    widget.setFlow(QListView.Flow.TopToBottom)
    widget.setWrapping(True)
    widget.setResizeMode(QListView.ResizeMode.Adjust)
    widget.setSpacing(0)
    widget.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    widget.setFixedHeight(widget.sizeHintForRow(0) * rows + 2 * widget.frameWidth() + 2)


def _shrinkable(combo: QComboBox) -> None:
    """A combo box as wide as its column, not as its longest choice (which it elides)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(6)


def _fit_longest(combo: QComboBox, texts: list[str]) -> None:
    """Never narrower than the longest of ``texts`` (on its own row in the form, the box has
    the room): an authority's name, or a retired one's shown for a stored call, never clipped.
    Qt sizes the box as so many widths of "X"."""
    metrics = combo.fontMetrics()
    widest = max(metrics.horizontalAdvance(text) for text in texts)
    combo.setMinimumContentsLength(-(-widest // metrics.horizontalAdvance("X")))


def _to_qdatetime(at: datetime) -> QDateTime:
    local = to_uk(at)
    return QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))


class _WithinWidth(QStyledItemDelegate):
    """Items no wider than their list: a long topic is elided in the middle ("Allowances
    (kin…port) — primary", the mark of the primary topic kept) and shown whole as a tooltip,
    instead of being cut behind a horizontal scroll bar."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
                 ) -> QSize:
        size = super().sizeHint(option, index)
        view = self.parent()
        if isinstance(view, QAbstractItemView):
            size.setWidth(min(size.width(), view.viewport().width()))
        return size


class IntakeForm(QWidget):
    """Signals: ``changed`` on any edit by the worker; ``call_started`` when timing begins."""

    changed = Signal()
    call_started = Signal()

    def __init__(self, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.ui = load_form("intake_form.ui", self)
        self.setAccessibleName(self.tr("Call form"))
        self._topics: dict[str, TopicChoice] = {}
        self._topic_completer: QCompleter | None = None
        self._refused: dict[str, str] = {}  # number box -> the keys it did not take
        self._typed: dict[str, str] = {}  # number box -> what was typed into it, as typed
        self._marked: list[QWidget] = []
        self._errors: list[FieldError] = []  # the problems last shown, numbers aside
        self._timer_started: datetime | None = None
        self._duration_typed = False
        self._loaded: tuple[datetime, datetime | None, int] | None = None
        self._editing_call_id: int | None = None
        self._editing_version: int | None = None  # the call's version when it was opened
        self._call_key: str | None = None  # made when first asked for: call_key
        self._dirty = False
        self._quiet = 0  # > 0 while the form itself sets widgets
        # The line's hours, set after the window's first paint (the bank holidays are slow to
        # load: MainWindow.open_store), then the store's own: until then the label is blank.
        self._policy: HoursPolicy | None = None
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._show_elapsed)
        self._populate()
        self._connect()
        self.clear()

    # --- set-up ---------------------------------------------------------------------------

    def _populate(self) -> None:
        h = reference.helpline()
        ui = self.ui
        _fill(ui.channel_combo, h.channels)
        _fill(ui.direction_combo, h.directions)
        _fill(ui.caller_type_combo, h.caller_types, blank=self.tr("— choose —"))
        _fill(ui.arrangement_combo, h.arrangements, blank=self.tr("— choose —"))
        _fill(ui.first_time_combo, h.first_time_caller)
        _fill(ui.how_heard_combo, h.how_heard, blank=self.tr("— not asked —"))
        ui.consent_combo.addItem(self.tr("No"), False)
        ui.consent_combo.addItem(self.tr("Yes"), True)
        ui.local_authority_combo.addItem("", None)
        for authority in reference.local_authorities():
            ui.local_authority_combo.addItem(authority.name, authority.code)
        completer = ui.local_authority_combo.completer()
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        ui.local_authority_combo.lineEdit().setPlaceholderText(self.tr("Type to search"))
        ui.children_spin.setSpecialValueText(self.tr("not recorded"))
        self._number_rules = {
            "duration_spin": self.tr("whole minutes from 0 to {0} (the 12-hour limit)")
            .format(MAX_MINUTES),
            "children_spin": self.tr("a whole number from 0 to {0}").format(MAX_CHILDREN),
            **{name: self.tr("a whole number from 0 to {0}").format(MAX_CHILDREN)
               for name in BAND_SPINS}}
        for name, rule in self._number_rules.items():
            spin: QSpinBox = getattr(ui, name)
            spin.setRange(0, TYPED_MAXIMUM)
            spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("0000") + 28)
            spin.setToolTip(self.tr("Takes {0}.").format(rule))
            spin.installEventFilter(self)  # the box gets the keys, not its line edit
        _checkable_list(ui.outcome_list, h.outcomes)
        _checkable_list(ui.referral_list, h.referral_targets)
        for short_list in (ui.outcome_list, ui.referral_list):
            _fit_to_rows(short_list, rows=-(-short_list.count() // 2))  # two columns
        for combo in self.findChildren(QComboBox):
            _shrinkable(combo)
        _fit_longest(ui.local_authority_combo, [authority.label for authority in
                                                reference.any_local_authority_by_code().values()])
        digits = ui.band_0_4_spin.fontMetrics().horizontalAdvance
        for name in BAND_SPINS:  # five narrow boxes that take two digits, all of them shown
            band: QSpinBox = getattr(ui, name)
            band.setRange(0, 10 ** BAND_DIGITS - 1)
            band.setMinimumWidth(digits("0" * BAND_DIGITS) + 28)
            band.setMaximumWidth(digits("000000") + 28)
        ui.topic_list.setItemDelegate(_WithinWidth(ui.topic_list))
        ui.error_label.hide()
        ui.notice_label.hide()
        self._labels = {label.buddy(): label for label in self.findChildren(QLabel)
                        if label.buddy() is not None}

    def _connect(self) -> None:
        ui = self.ui
        for name in ("channel_combo", "direction_combo", "caller_type_combo", "arrangement_combo",
                     "first_time_combo", "how_heard_combo", "consent_combo"):
            getattr(ui, name).currentIndexChanged.connect(self._edited)
        ui.local_authority_combo.editTextChanged.connect(self._edited)
        for name in ("children_spin", *BAND_SPINS):
            getattr(ui, name).valueChanged.connect(self._edited)
        for name in ("follow_up_note_edit", "topic_edit", *PERSONAL_EDITS):
            getattr(ui, name).textEdited.connect(self._edited)
        ui.notes_edit.textChanged.connect(self._edited)
        for name in ("safeguarding_check", "follow_up_check"):
            getattr(ui, name).toggled.connect(self._edited)
        ui.follow_up_date.dateChanged.connect(self._edited)
        for name in ("outcome_list", "referral_list"):
            getattr(ui, name).itemChanged.connect(self._edited)
        ui.started_edit.dateTimeChanged.connect(self._started_edited)
        ui.started_edit.dateTimeChanged.connect(self._show_hours)
        ui.duration_spin.valueChanged.connect(self._duration_edited)
        ui.consent_combo.currentIndexChanged.connect(self._apply_consent)
        ui.follow_up_check.toggled.connect(self._apply_follow_up)
        ui.outcome_list.itemChanged.connect(self._apply_referral)
        ui.topic_edit.returnPressed.connect(self._add_typed_topic)
        ui.topic_edit.textEdited.connect(self._complete_topic)
        ui.topic_edit.installEventFilter(self)
        for name in NUMBER_LIMITS:
            getattr(ui, name).valueChanged.connect(self._check_numbers)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._show_focused)
            app.paletteChanged.connect(self._palette_changed)
        ui.primary_button.clicked.connect(self._make_primary)
        ui.remove_topic_button.clicked.connect(self._remove_topic)

    def set_topics(self, topics: list[TopicChoice]) -> None:
        """Topics from the store; retired ones only show on old calls.

        The completer is attached with ``setWidget``, not ``QLineEdit.setCompleter``: the line
        edit would then put the chosen topic's label back into the field after it was added
        (its own ``activated -> setText``). The form offers the matches as the worker types,
        and Enter adds the highlighted match, or the first one."""
        self._topics = {t.code: t for t in topics}
        active = [t.display for t in topics if not t.retired]
        old = self._topic_completer
        completer = QCompleter(active, self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setWidget(self.ui.topic_edit)
        completer.activated.connect(self._add_topic_by_display)  # a click in the list
        self._topic_completer = completer
        if old is not None:
            old.deleteLater()

    def set_hours_policy(self, policy: HoursPolicy) -> None:
        self._policy = policy
        self._show_hours()
        if not self.ui.follow_up_check.isChecked():  # the date no one has chosen yet
            with self._setting():
                self.ui.follow_up_date.setDate(self._default_follow_up())

    def _show_hours(self) -> None:
        """Say while the form is filled in whether the call will count as out of hours."""
        label = self.ui.hours_label
        if self._policy is None:
            return
        out = self.out_of_hours
        label.setText(self.tr("Out of hours") if out else self.tr("In hours"))
        label.setStyleSheet("color: white; background: #b3261e; font-weight: bold; "
                            "padding: 0 6px" if out else "")
        label.setAccessibleName(label.text())

    @property
    def out_of_hours(self) -> bool:
        from advice_desk.reference.hours import default_policy

        return not (self._policy or default_policy()).is_open(self._started())

    # --- state ----------------------------------------------------------------------------

    @property
    def is_dirty(self) -> bool:
        return self._dirty

    @property
    def editing_call_id(self) -> int | None:
        return self._editing_call_id

    @property
    def editing_version(self) -> int | None:
        """The version of the call being edited as it was read; a save names it."""
        return self._editing_version

    def edit_over(self, version: int) -> None:
        """Keep editing a call changed elsewhere: the next save replaces that change."""
        self._editing_version = version

    @property
    def call_key(self) -> str:
        """The idempotency key of the call in the form, kept in its draft: made when first
        asked for (``uuid`` loads ``platform``, not needed for the window's first paint)."""
        if self._call_key is None:
            import uuid

            self._call_key = str(uuid.uuid4())
        return self._call_key

    def clear(self) -> None:
        """An empty form, not yet timing a call."""
        with self._setting():
            ui = self.ui
            ui.started_edit.setDateTime(_to_qdatetime(self.clock.now()))
            ui.duration_spin.setValue(0)
            for combo in ("channel_combo", "direction_combo", "caller_type_combo",
                          "arrangement_combo", "first_time_combo", "how_heard_combo",
                          "consent_combo", "local_authority_combo"):
                getattr(ui, combo).setCurrentIndex(0)
            ui.local_authority_combo.setEditText("")
            for spin in ("children_spin", *BAND_SPINS):
                getattr(ui, spin).setValue(0)
            for edit in ("topic_edit", "follow_up_note_edit", *PERSONAL_EDITS):
                getattr(ui, edit).clear()
            ui.notes_edit.clear()
            ui.topic_list.clear()
            _set_checked(ui.outcome_list, ())
            _set_checked(ui.referral_list, ())
            ui.safeguarding_check.setChecked(False)
            ui.follow_up_check.setChecked(False)
            ui.follow_up_date.setDate(self._default_follow_up())
        self._timer_started = None
        self._duration_typed = False
        self._loaded = None
        self._editing_call_id = self._editing_version = None
        self._call_key = None  # a new one for this form's call: saved twice, stored once
        self._dirty = False
        self._refused = {}
        self._typed = {}
        self._tick.stop()
        self._hide_topic_matches()
        self.ui.mode_label.setText(self.tr("New call"))
        self.ui.timer_label.setText(self.tr("Press Ctrl+N to start timing a call"))
        self.show_errors([])
        self.set_notice("")
        self._apply_consent()
        self._apply_follow_up()
        self._apply_referral()
        self._show_hours()

    def start_new_call(self) -> None:
        """Clear the form and start the call timer now."""
        self.clear()
        self._start_timer()
        self.ui.caller_type_combo.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _start_timer(self) -> None:
        now = self.clock.now()
        self._timer_started = now
        with self._setting():
            self.ui.started_edit.setDateTime(_to_qdatetime(now))
        self._tick.start()
        self._show_elapsed()
        self.call_started.emit()

    def _default_follow_up(self) -> QDate:
        """A week from today, or the next day after it that the line is open (once the hours
        are known: they come with the store, after the first paint)."""
        week = uk_today(self.clock) + timedelta(days=7)
        return to_qdate(week if self._policy is None else self._policy.open_day_from(week))

    def _setting(self) -> _Quiet:
        return _Quiet(self)

    def _edited(self, *_: object) -> None:
        if self._quiet:
            return
        if self._timer_started is None and self._editing_call_id is None and not self._dirty:
            self._start_timer()  # typing into an idle form means a call has begun
        self._dirty = True
        self.changed.emit()

    def _started_edited(self) -> None:
        if self._quiet:
            return
        self._timer_started = None  # logged afterwards: the start time is the worker's
        self._tick.stop()
        self.ui.timer_label.setText(self.tr("Start time entered by hand"))
        self._dirty = True
        self.changed.emit()

    def _duration_edited(self) -> None:
        if self._quiet:
            return
        self._duration_typed = True
        self._edited()

    def _show_elapsed(self) -> None:
        if self._timer_started is None:
            return
        elapsed = int((self.clock.now() - self._timer_started).total_seconds())
        minutes, seconds = divmod(max(elapsed, 0), 60)
        self.ui.timer_label.setText(self.tr("Call time {0:02d}:{1:02d}").format(minutes, seconds))
        if not self._duration_typed:
            with self._setting():
                self.ui.duration_spin.setValue(minutes)

    def _apply_consent(self) -> None:
        consent = bool(self.ui.consent_combo.currentData())
        for name in PERSONAL_EDITS:
            edit = getattr(self.ui, name)
            edit.setEnabled(consent)
            if not consent:
                edit.clear()  # never kept, not even in the draft

    def _apply_follow_up(self) -> None:
        on = self.ui.follow_up_check.isChecked()
        self.ui.follow_up_date.setEnabled(on)
        self.ui.follow_up_note_edit.setEnabled(on)

    def _apply_referral(self, *_: object) -> None:
        self.ui.referral_list.setEnabled("referred" in _checked_codes(self.ui.outcome_list))

    def set_notice(self, text: str) -> None:
        self.ui.notice_label.setText(text)
        self.ui.notice_label.setVisible(bool(text))

    # --- keys, focus and numbers ----------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            topic_edit: QLineEdit = self.ui.topic_edit
            if watched is topic_edit:
                if event.key() == Qt.Key.Key_Backspace and not topic_edit.text():
                    self._remove_last_topic()  # Backspace on an empty field: the last topic
                    return True
            else:
                self._note_refused_key(watched, event)
        return super().eventFilter(watched, event)

    def _note_refused_key(self, edit: QObject, event: QKeyEvent) -> None:
        """A key a number box will not take (a letter, a sign, a decimal point, a digit past
        what an age band holds) is said, not silently dropped; what was typed is kept as
        typed, to be named in the message."""
        spin = edit if isinstance(edit, QSpinBox) else edit.parent()
        name = spin.objectName() if isinstance(spin, QAbstractSpinBox) else ""
        if name not in self._number_rules or not isinstance(spin, QSpinBox):
            return
        line = spin.lineEdit()
        if event.matches(QKeySequence.StandardKey.SelectAll) or not line.text():
            self._typed.pop(name, None)  # typed afresh: what was refused before is gone
            if self._refused.pop(name, None) is not None:
                self._check_numbers()
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                | Qt.KeyboardModifier.AltModifier):
            return
        if event.key() == Qt.Key.Key_Backspace:
            self._typed[name] = self._typed.get(name, "")[:-1]
            return
        text = event.text()
        if not text or not text.isprintable():
            return
        self._typed[name] = self._typed.get(name, "") + text
        full = (name in BAND_SPINS and len(spin.cleanText()) >= BAND_DIGITS
                and not line.hasSelectedText())
        if text.isdigit() and not full:
            return
        self._refused[name] = self._refused.get(name, "") + text
        self._check_numbers()

    def _number_problems(self) -> list[tuple[FieldError, QWidget]]:
        """Numbers out of what their field means, and keys a number box did not take (then
        named as typed: "“abc-1.5e3” is not a whole number from 0 to 20")."""
        problems: list[tuple[FieldError, QWidget]] = []
        for name, (field, limit) in NUMBER_LIMITS.items():
            spin: QSpinBox = getattr(self.ui, name)
            rule = self._number_rules[name]
            if name in self._refused:
                typed = self._typed.get(name) or self._refused[name]
                problems.append((FieldError(field, self.tr("“{0}” is not {1}").format(
                    typed, rule)), spin))
            elif spin.value() > limit:
                problems.append((FieldError(field, self.tr("{0} is not {1}").format(
                    spin.value(), rule)), spin))
        return problems

    def _check_numbers(self, *_: object) -> None:
        """Mark and name a number that is not what its field means, as soon as it is typed."""
        if self._quiet:
            return
        if self._number_problems() or self._marked:
            self.show_errors(self._errors, focus=False)  # the other problems stay named

    def _show_focused(self, _old: QWidget | None, new: QWidget | None) -> None:
        """The field that gets the focus (Tab, Alt+letter, an error) is scrolled into view."""
        contents, area = self.ui.scroll_contents, self.ui.scroll_area
        if new is None or not contents.isAncestorOf(new):
            return
        if new.height() + 16 > area.viewport().height():  # taller than the view: its cursor
            area.ensureWidgetVisible(new, 8, 8)
            return
        # The whole box, not only its text cursor (all ensureWidgetVisible keeps in view of a
        # line edit): a box cut at its top edge looks like a stray line.
        centre = new.mapTo(contents, new.rect().center())
        area.ensureVisible(centre.x(), centre.y(), new.width() // 2 + 8, new.height() // 2 + 8)

    # --- topics ---------------------------------------------------------------------------

    def _topic_codes(self) -> tuple[str, ...]:
        lst = self.ui.topic_list
        return tuple(lst.item(i).data(CODE) for i in range(lst.count()))

    def _set_topic_codes(self, codes: tuple[str, ...] | list[str]) -> None:
        self.ui.topic_list.clear()
        for position, code in enumerate(codes):
            topic = self._topics.get(code)
            text = topic.display if topic else code
            if position == 0:
                text = self.tr("{0} — primary").format(text)
            item = QListWidgetItem(text, self.ui.topic_list)
            item.setData(CODE, code)
            item.setToolTip(text)

    def _complete_topic(self, text: str) -> None:
        """Offer the topics matching what is typed (Up and Down move through them)."""
        completer = self._topic_completer
        if completer is None:
            return
        if text.strip():
            completer.setCompletionPrefix(text.strip())
            if completer.completionCount():
                completer.complete()
                return
        self._hide_topic_matches()

    def _topic_popup(self) -> QAbstractItemView | None:
        """The list of matching topics under the field, while it is open."""
        completer = self._topic_completer
        popup = completer.popup() if completer is not None else None
        return popup if popup is not None and popup.isVisible() else None

    def _hide_topic_matches(self) -> None:
        popup = self._topic_popup()
        if popup is not None:
            popup.hide()

    def topic_matches(self) -> list[str]:
        """The topics offered for what is typed, as the list shows them."""
        completer = self._topic_completer
        typed = self.ui.topic_edit.text().strip()
        if completer is None or not typed:
            return []
        if completer.completionPrefix() != typed:  # the text was set, not typed
            completer.setCompletionPrefix(typed)
        model = completer.completionModel()
        return [model.index(row, 0).data() for row in range(model.rowCount())]

    def _add_typed_topic(self) -> None:
        """Enter: the highlighted match, else the topic typed in full, else the first match."""
        typed = self.ui.topic_edit.text().strip().casefold()
        if not typed:
            return
        completer = self._topic_completer
        popup = self._topic_popup()
        if popup is not None:
            current = popup.currentIndex()
            if current.isValid():
                self._add_topic_by_display(str(current.data()))
                return
        active = [t for t in self._topics.values() if not t.retired]
        exact = [t for t in active if typed in (t.display.casefold(), t.label.casefold(), t.code)]
        if exact:
            self._add_topic(exact[0].code)
            return
        matches = self.topic_matches() if completer is not None else [
            t.display for t in active if typed in t.display.casefold()]
        if not matches:
            self.show_errors([FieldError("topics", self.tr("no topic matches “{0}”")
                                         .format(self.ui.topic_edit.text().strip()))])
            return
        self._add_topic_by_display(matches[0])

    def _add_topic_by_display(self, display: str) -> None:
        for topic in self._topics.values():
            if topic.display == display and not topic.retired:
                self._add_topic(topic.code)
                return

    def _add_topic(self, code: str) -> None:
        codes = self._topic_codes()
        if code not in codes:
            self._set_topic_codes((*codes, code))
        self._hide_topic_matches()
        self.ui.topic_edit.clear()
        self.show_errors([])
        self._edited()

    def _remove_last_topic(self) -> None:
        codes = self._topic_codes()
        if codes:
            self._set_topic_codes(codes[:-1])
            self._edited()

    def _make_primary(self) -> None:
        row = self.ui.topic_list.currentRow()
        codes = list(self._topic_codes())
        if row <= 0 or row >= len(codes):
            return
        codes.insert(0, codes.pop(row))
        self._set_topic_codes(codes)
        self.ui.topic_list.setCurrentRow(0)
        self._edited()

    def _remove_topic(self) -> None:
        row = self.ui.topic_list.currentRow()
        codes = list(self._topic_codes())
        if 0 <= row < len(codes):
            del codes[row]
            self._set_topic_codes(codes)
            self.ui.topic_list.setCurrentRow(min(row, len(codes) - 1))
            self._edited()

    # --- reading and writing a call -------------------------------------------------------

    def _started(self) -> datetime:
        qdt = self.ui.started_edit.dateTime()
        d, t = qdt.date(), qdt.time()
        return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=UK)

    def _ended(self, started: datetime) -> datetime:
        minutes = self.ui.duration_spin.value()
        if self._loaded and self._loaded[0] == started and self._loaded[2] == minutes:
            return self._loaded[1] or started  # unchanged: keep the exact stored end
        if self._timer_started is not None and not self._duration_typed:
            return max(self.clock.now(), started)
        return started + timedelta(minutes=minutes)

    def _local_authority(self, lenient: bool) -> str | None:
        text = self.ui.local_authority_combo.currentText().strip()
        if not text:
            return None
        code = reference.local_authority_named(text) or reference.retired_authority_labelled(text)
        if code is not None:
            return code  # "… (retired)": an edited call may keep it, a new one may not
        if lenient:
            return None  # the draft keeps the typed text itself
        split = reference.split_authority_named(text)
        if split is not None:
            raise ValidationError([FieldError("local_authority", self.tr(
                "{0} was split: choose {1}").format(split.name,
                                                    reference.successors_named(split)))])
        raise ValidationError([FieldError("local_authority",
                                          self.tr("no authority called “{0}”").format(text))])

    def _age_bands(self) -> tuple[str, ...]:
        bands = reference.helpline().age_bands
        # A number past the limit is refused before saving; a draft keeps it in its payload.
        return tuple(band.code for band, spin in zip(bands, BAND_SPINS, strict=True)
                     for _ in range(min(getattr(self.ui, spin).value(), MAX_CHILDREN + 1)))

    def read_details(self, lenient: bool = False) -> CallDetails:
        """The call as typed. Raises ValidationError for what the form itself cannot read,
        unless ``lenient`` (for a draft, which must be saved whatever state the form is in)."""
        from advice_desk.calls.record import CallDetails

        ui = self.ui
        if not lenient:
            problems = self._number_problems()
            if problems:
                raise ValidationError([error for error, _ in problems])
        started = self._started()
        follow_up = ui.follow_up_check.isChecked()
        qd = ui.follow_up_date.date()
        return CallDetails(
            started_at=started,
            ended_at=self._ended(started),
            channel=ui.channel_combo.currentData(),
            direction=ui.direction_combo.currentData(),
            caller_type=ui.caller_type_combo.currentData(),
            arrangement=ui.arrangement_combo.currentData(),
            local_authority=self._local_authority(lenient),
            children_count=min(ui.children_spin.value(), MAX_CHILDREN + 1) or None,
            children_age_bands=self._age_bands(),
            topics=self._topic_codes(),
            outcomes=_checked_codes(ui.outcome_list),
            referred_to=_checked_codes(ui.referral_list),
            follow_up_on=date(qd.year(), qd.month(), qd.day()) if follow_up else None,
            follow_up_note=ui.follow_up_note_edit.text() if follow_up else None,
            safeguarding=ui.safeguarding_check.isChecked(),
            first_time_caller=ui.first_time_combo.currentData(),
            how_heard=ui.how_heard_combo.currentData(),
            consent_to_store_details=bool(ui.consent_combo.currentData()),
            caller_name=ui.caller_name_edit.text(),
            caller_phone=ui.caller_phone_edit.text(),
            caller_email=ui.caller_email_edit.text(),
            caller_postcode=ui.caller_postcode_edit.text(),
            notes=ui.notes_edit.toPlainText(),
        )

    def load_call(self, call: StoredCall) -> None:
        """Show a saved call for editing."""
        self.clear()
        self._show_details(call.details)
        minutes = self.ui.duration_spin.value()
        self._loaded = (call.details.started_at, call.details.ended_at, minutes)
        self._editing_call_id, self._editing_version = call.id, call.version
        self.ui.scroll_area.verticalScrollBar().setValue(0)  # the call from its first field
        self.ui.mode_label.setText(self.tr("Editing call {0}").format(call.id))
        self.ui.timer_label.setText("")

    def _show_details(self, d: CallDetails) -> None:
        ui = self.ui
        with self._setting():
            ui.started_edit.setDateTime(_to_qdatetime(d.started_at))
            if d.ended_at:
                ui.duration_spin.setValue(int((d.ended_at - d.started_at).total_seconds()) // 60)
            for combo, code in (("channel_combo", d.channel), ("direction_combo", d.direction),
                                ("caller_type_combo", d.caller_type),
                                ("arrangement_combo", d.arrangement),
                                ("first_time_combo", d.first_time_caller),
                                ("how_heard_combo", d.how_heard),
                                ("consent_combo", d.consent_to_store_details)):
                _select(getattr(ui, combo), code)
            authority = reference.any_local_authority_by_code().get(d.local_authority or "")
            ui.local_authority_combo.setEditText(authority.label if authority else "")
            ui.children_spin.setValue(d.children_count or 0)
            for band, spin in zip(reference.helpline().age_bands, BAND_SPINS, strict=True):
                getattr(ui, spin).setValue(d.children_age_bands.count(band.code))
            self._set_topic_codes(d.topics)
            _set_checked(ui.outcome_list, d.outcomes)
            _set_checked(ui.referral_list, d.referred_to)
            ui.safeguarding_check.setChecked(d.safeguarding)
            ui.follow_up_check.setChecked(d.follow_up_on is not None)
            if d.follow_up_on:
                ui.follow_up_date.setDate(to_qdate(d.follow_up_on))
            ui.follow_up_note_edit.setText(d.follow_up_note or "")
            self._apply_consent()
            for name in PERSONAL_EDITS:
                getattr(ui, name).setText(getattr(d, name.removesuffix("_edit")) or "")
            ui.notes_edit.setPlainText(d.notes or "")
        self._apply_follow_up()
        self._apply_referral()

    # --- drafts ---------------------------------------------------------------------------

    def payload(self) -> JSONObject:
        """Everything needed to put the form back as it is, as JSON-ready values."""
        from advice_desk.calls.record import CALL_KEY, details_as_json

        details = self.read_details(lenient=True)
        return {
            "version": PAYLOAD_VERSION,
            "editing_call_id": self._editing_call_id,
            "editing_version": self._editing_version,
            CALL_KEY: self.call_key,
            "timer_started": self._timer_started.isoformat() if self._timer_started else None,
            "duration_typed": self._duration_typed,
            "duration_minutes": self.ui.duration_spin.value(),
            "numbers": {name: getattr(self.ui, name).value() for name in NUMBER_LIMITS},
            "local_authority_text": self.ui.local_authority_combo.currentText(),
            # The end is the start plus the duration above, so the draft keeps no end.
            "details": details_as_json(replace(details, ended_at=None)),
        }

    def restore(self, payload: JSONObject) -> None:
        """Put back a form saved by :meth:`payload` (a recovered draft)."""
        from advice_desk.calls.record import CALL_KEY, details_from_json

        saved = payload["details"]
        details = details_from_json(saved if isinstance(saved, dict) else {})
        self.clear()
        self._show_details(details)
        with self._setting():
            minutes, authority = payload["duration_minutes"], payload["local_authority_text"]
            self.ui.duration_spin.setValue(minutes if isinstance(minutes, int) else 0)
            self.ui.local_authority_combo.setEditText(str(authority or ""))
            numbers = payload.get("numbers")
            for name, value in (numbers.items() if isinstance(numbers, dict) else ()):
                if name in NUMBER_LIMITS and isinstance(value, int):
                    getattr(self.ui, name).setValue(value)
        call_id = payload["editing_call_id"]
        self._editing_call_id = call_id if isinstance(call_id, int) else None
        version = payload.get("editing_version")  # a draft from before versions: None
        self._editing_version = version if isinstance(version, int) else None
        key = payload.get(CALL_KEY)
        if isinstance(key, str):  # a draft from before keys keeps the new one clear() made
            self._call_key = key
        self._duration_typed = bool(payload["duration_typed"])
        started = payload["timer_started"]
        if isinstance(started, str):
            self._timer_started = datetime.fromisoformat(started)
            self._tick.start()
            self._show_elapsed()
        if self._editing_call_id is not None:
            self.ui.mode_label.setText(self.tr("Editing call {0}").format(self._editing_call_id))
        self._dirty = True

    # --- errors ---------------------------------------------------------------------------

    def _palette_changed(self, *_: object) -> None:
        """The palette switched while the desk is open (the system turned dark): a style
        sheet pins each widget to the palette it was polished with (and Qt then sends it no
        palette change), so the form's marks are taken off, the widgets given back the
        application's palette, and the marks put on again."""
        if not self.styleSheet():
            return
        self.setStyleSheet("")
        for widget in (self, *self.findChildren(QWidget)):
            widget.setPalette(QPalette())  # inherited again, not pinned
        self.setStyleSheet(STYLE)

    def show_errors(self, errors: list[FieldError], focus: bool = True) -> None:
        """Name the problems in the banner by the labels the worker sees, mark each field (a
        red frame and its accessible description) and, unless ``focus`` is False, put the
        cursor on the first. A number that is not what its field means is always among them."""
        # Kept to be named again while a number is typed; a number's own are checked afresh.
        self._errors = [e for e in errors if e.field not in NUMBER_FIELDS]
        problems: list[tuple[FieldError, QWidget | None]] = [
            (e, self._widget_for(e.field)) for e in errors]
        shown = {w for _, w in problems}
        numbers: list[tuple[FieldError, QWidget | None]] = [
            p for p in self._number_problems() if p[1] not in shown]
        problems = numbers + problems if focus else problems + numbers
        self._mark([(w, e.message) for e, w in problems if w is not None])
        label = self.ui.error_label
        if not problems:
            label.hide()
            label.setText("")
            return
        lines = []
        for error, widget in problems:
            name = plain_label(widget.accessibleName()) if widget is not None else error.field
            lines.append(f"{name}: {error.message}")
        label.setText(self.tr("Please check: {0}").format("; ".join(lines)))
        label.setAccessibleName(label.text())
        label.show()
        first = problems[0][1]
        if focus and first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
            self.ui.scroll_area.ensureWidgetVisible(first, 8, 8)

    def _widget_for(self, field: str) -> QWidget | None:
        widget = getattr(self.ui, FIELD_WIDGETS.get(field, ""), None)
        return widget if isinstance(widget, QWidget) else None

    def _mark(self, marks: list[tuple[QWidget, str]]) -> None:
        """Frame the fields with a problem in red; take the frame off the others."""
        messages: dict[QWidget, list[str]] = {}
        for widget, message in marks:
            messages.setdefault(widget, []).append(message)
        if messages and not self.styleSheet():
            self.setStyleSheet(STYLE)  # at the first problem: it costs ~20 ms before the paint
        for widget in [*self._marked, *messages]:
            invalid = widget in messages
            widget.setAccessibleDescription("; ".join(messages.get(widget, [])))
            for shown in (widget, self._labels.get(widget)):
                if shown is not None and bool(shown.property(INVALID)) != invalid:
                    shown.setProperty(INVALID, invalid)
                    shown.style().unpolish(shown)
                    shown.style().polish(shown)
                    shown.update()
        self._marked = list(messages)

    def marked_fields(self) -> list[str]:
        """The accessible names of the fields marked as having a problem."""
        return [plain_label(w.accessibleName()) for w in self._marked]


class _Quiet:
    """While the form fills its own widgets, their change signals are not the worker's edits."""

    def __init__(self, form: IntakeForm) -> None:
        self.form = form

    def __enter__(self) -> None:
        self.form._quiet += 1

    def __exit__(self, *exc: object) -> None:
        self.form._quiet -= 1
