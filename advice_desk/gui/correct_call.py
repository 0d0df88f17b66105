"""Correcting a non-data call logged by mistake: another kind, or withdrawn.

A small dialog over the history: the kinds of non-data call, the call's own marked, and
"Withdraw" last. Up/Down and Enter choose; Esc leaves the call as it is. The core
(``desk.calls.correct``) does the correcting, its role rule and the audit.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QListWidgetItem, QWidget

from advice_desk.clock import to_uk
from advice_desk.gui.forms import load_form
from advice_desk.reference import lists as reference

WITHDRAW = ""  # the list's code for "withdraw the call"


class CorrectCallDialog(QDialog):
    """Which kind the call should have been; :attr:`kind` is None for "withdraw"."""

    def __init__(self, call_id: int, kind: str, started_at: datetime,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Correct call {0}").format(call_id))
        self.setMinimumWidth(360)
        self.ui = load_form("correct_call.ui", self)
        layout = self.layout()
        assert layout is not None, "load_form gave the dialog its layout"
        layout.setContentsMargins(12, 12, 12, 12)
        kinds = reference.helpline().non_data_kinds
        label = {k.code: k.label for k in kinds}.get(kind, kind)
        self.ui.call_label.setText(self.tr("Call {0}, logged as {1} at {2}.").format(
            call_id, label, to_uk(started_at).strftime("%H:%M on %d %b")))
        choices = self.ui.choice_list
        choices.setAccessibleName(self.tr("Change it to"))
        for choice in kinds:
            item = QListWidgetItem(choice.label, choices)
            item.setData(Qt.ItemDataRole.UserRole, choice.code)
            if choice.code == kind:
                item.setText(self.tr("{0} (as logged)").format(choice.label))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        withdraw = QListWidgetItem(self.tr("Withdraw: logged by mistake, not counted"), choices)
        withdraw.setData(Qt.ItemDataRole.UserRole, WITHDRAW)
        first = next(i for i in range(choices.count())
                     if choices.item(i).flags() & Qt.ItemFlag.ItemIsEnabled)
        choices.setCurrentRow(first)
        rows = sum(choices.sizeHintForRow(i) for i in range(choices.count()))
        choices.setFixedHeight(rows + 2 * choices.frameWidth() + 4)  # every choice, no band
        choices.itemActivated.connect(self.accept)
        box = self.ui.button_box
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        box.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("C&orrect"))
        box.button(QDialogButtonBox.StandardButton.Ok).setAccessibleName(self.tr("Correct"))
        box.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(self.tr("Cancel"))
        choices.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def kind(self) -> str | None:
        """The chosen kind, or None to withdraw the call."""
        item = self.ui.choice_list.currentItem()
        code = item.data(Qt.ItemDataRole.UserRole) if item is not None else WITHDRAW
        return None if code == WITHDRAW else str(code)
