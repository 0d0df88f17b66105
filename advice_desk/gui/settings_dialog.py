"""The supervisor's settings: the helpline's name, how long personal details are kept, the
funder export's disclosure control and the idle lock. Each field's range comes from the
settings registry (:mod:`advice_desk.settings`); the core checks and audits the save."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QSpinBox, QWidget

from advice_desk.gui import errors
from advice_desk.gui.forms import load_form
from advice_desk.gui.taskman import TaskManager
from advice_desk.settings import EDITABLE, OneLine, WholeNumber
from advice_desk.validation import ValidationError

if TYPE_CHECKING:
    from advice_desk.settings import Settings, SettingValue, Shown

UNITS = {"minute": ("minute", "minutes"), "month": ("month", "months")}  # one, many


def _sentences(error: ValidationError) -> str:
    """The core's messages name the setting already: each reads as a sentence here."""
    return " ".join(f"{e.message[:1].upper()}{e.message[1:]}." for e in error.errors)


class SettingsDialog(QDialog):
    """Emits ``saved(keys)`` with the keys that changed once the store has them."""

    saved = Signal(list)

    def __init__(self, tasks: TaskManager, settings: Settings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.ui = load_form("settings_dialog.ui", self)
        self.tasks, self.settings = tasks, settings
        self._busy = False
        for setting in EDITABLE:
            edit = self.edit(setting.key)
            if isinstance(setting, WholeNumber) and isinstance(edit, QSpinBox):
                edit.setRange(setting.minimum, setting.maximum)
                edit.setAccelerated(True)
                if setting.unit:
                    self._follow_unit(edit, setting.unit)
            elif isinstance(setting, OneLine) and isinstance(edit, QLineEdit):
                edit.setMaxLength(setting.longest)
        buttons = self.ui.settings_buttons
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setAccessibleName(self.tr("Save"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(
            self.tr("Cancel"))
        self.save_button.setEnabled(False)  # until the values are read
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        tasks.run(settings.shown).success(self._show).failure(self._failed)

    def _follow_unit(self, edit: QSpinBox, unit: str) -> None:
        """The unit after the number as it changes, typed or stepped: "1 minute", "2 minutes"."""
        one, many = (self.tr(word) for word in UNITS[unit])

        def show(value: int) -> None:
            edit.setSuffix(" " + (one if value == 1 else many))

        edit.valueChanged.connect(show)
        show(edit.value())

    def edit(self, key: str) -> QWidget:
        return getattr(self.ui, f"{key}_edit")

    def _show(self, shown: list[Shown]) -> None:
        for setting in shown:
            edit = self.edit(setting.key)
            if isinstance(edit, QSpinBox):
                edit.setValue(int(setting.value))
            elif isinstance(edit, QLineEdit):
                edit.setText(str(setting.value))
            edit.setToolTip(self.tr("Default: {0}").format(setting.default))
            if isinstance(edit, QSpinBox):  # the range the core allows, said where it is typed
                edit.setToolTip(self.tr("Default: {0}; from {1} to {2}").format(
                    setting.default, edit.minimum(), edit.maximum()))
        self.save_button.setEnabled(True)
        self.edit(EDITABLE[0].key).setFocus()

    def values(self) -> dict[str, SettingValue]:
        values: dict[str, SettingValue] = {}
        for setting in EDITABLE:
            edit = self.edit(setting.key)
            if isinstance(edit, QSpinBox):
                values[setting.key] = edit.value()
            elif isinstance(edit, QLineEdit):
                values[setting.key] = edit.text()
        return values

    def save(self) -> None:
        if self._busy or not self.save_button.isEnabled():
            return
        self._busy = True
        settings, values = self.settings, self.values()
        self.ui.settings_message.setText(self.tr("Saving…"))
        self.tasks.run(lambda: settings.save(values)).success(self._saved).failure(
            self._failed)

    def _saved(self, changed: list[str]) -> None:
        self._busy = False
        self.saved.emit(changed)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        """The core's objection is said, and the first field it names gets the focus."""
        self._busy = False
        self.ui.settings_message.setText(errors.describe(error, _sentences))
        if isinstance(error, ValidationError) and error.errors:
            field = error.errors[0].field
            if any(s.key == field for s in EDITABLE):
                self.edit(field).setFocus()
