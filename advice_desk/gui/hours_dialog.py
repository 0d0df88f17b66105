"""The supervisor's page for opening hours: weekly sessions and closure dates.

Sessions and closures are typed as text (``09:30–14:00``; ``2026-12-24 Staff training``), which
is quicker with the keyboard than a grid of time pickers; the core parses and checks them, and
the dialog only closes with a policy that has no problems.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QWidget

from advice_desk.gui.forms import load_form
from advice_desk.reference.hours import (
    WEEKDAYS,
    HoursPolicy,
    OpeningSession,
    format_closures,
    format_sessions,
    parse_closures,
    parse_sessions,
)


class HoursDialog(QDialog):
    def __init__(self, policy: HoursPolicy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Opening hours"))
        self.ui = load_form("hours_dialog.ui", self)
        self._original = policy
        self.policy: HoursPolicy | None = None
        for weekday, name in enumerate(WEEKDAYS):
            getattr(self.ui, f"{name}_edit").setText(format_sessions(policy, weekday))
        self.ui.closures_edit.setPlainText(format_closures(policy))
        self.ui.hours_error_label.hide()
        self.ui.button_box.accepted.connect(self.accept)
        self.ui.button_box.rejected.connect(self.reject)
        self.ui.button_box.button(QDialogButtonBox.StandardButton.Save).setAccessibleName(
            self.tr("Save"))
        self.ui.button_box.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(
            self.tr("Cancel"))

    def _read(self) -> tuple[HoursPolicy | None, list[str]]:
        sessions: list[OpeningSession] = []
        problems: list[str] = []
        for weekday, name in enumerate(WEEKDAYS):
            try:
                sessions.extend(parse_sessions(weekday, getattr(self.ui, f"{name}_edit").text()))
            except ValueError as error:
                problems.append(str(error))
        try:
            closures = parse_closures(self.ui.closures_edit.toPlainText())
        except ValueError as error:
            problems.append(str(error))
            closures = ()
        policy = replace(self._original, sessions=tuple(sessions), closures=closures)
        problems += [error.message for error in policy.problems()]
        return (None if problems else policy), problems

    def accept(self) -> None:
        policy, problems = self._read()
        if policy is None:
            self.ui.hours_error_label.setText(self.tr("Please check: {0}").format(
                "; ".join(problems)))
            self.ui.hours_error_label.show()
            return
        self.policy = policy
        super().accept()
