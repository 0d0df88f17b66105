"""One person's data: find their calls, tick the ones that are theirs, save those as a file
(subject access) or erase their details on request. The statistics stay; every search, save
and erasure is audited by the core.

A name finds every caller whose name holds what was typed ("margaret" finds "Margaret
Example" and "Margaret Other"), so the calls are listed (date, name, phone and email as
stored) and nothing is ticked at first: only the ticked calls are saved or erased, so a loose
match never puts another person's calls in a file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHeaderView,
    QMessageBox,
    QTableWidgetItem,
    QWidget,
)

from advice_desk.clock import to_uk
from advice_desk.gui import errors
from advice_desk.gui.forms import load_form
from advice_desk.gui.taskman import TaskManager
from advice_desk.privacy.identity import PersonQuery, SearchBy

if TYPE_CHECKING:
    from advice_desk.privacy.subject_access import FoundCall

BY = (("Name (or a part of it)", "name"), ("Phone", "phone"), ("Email", "email"))
COLUMNS = ("Date", "Name", "Phone", "Email", "Legal hold")


class PeopleDialog(QDialog):
    def __init__(self, tasks: TaskManager, search: Callable[[PersonQuery], list[FoundCall]],
                 save: Callable[[list[int], Path], None],
                 erase: Callable[[list[int]], int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("A person's data"))
        self.ui = load_form("people_dialog.ui", self)
        self.tasks, self._search, self._save, self._erase = tasks, search, save, erase
        self.found: list[FoundCall] = []
        for label, key in BY:
            self.ui.people_by_combo.addItem(self.tr(label), key)
        table = self.ui.people_calls_table
        table.setAccessibleName(self.tr("Calls found"))
        table.setColumnCount(len(COLUMNS))
        table.setHorizontalHeaderLabels([self.tr(c) for c in COLUMNS])
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the name
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)  # the email
        header.setStretchLastSection(False)
        # A whole phone number (the supervisor compares them) even before any row is shown.
        header.setMinimumSectionSize(table.fontMetrics().horizontalAdvance("+44 7700 900123") + 16)
        table.itemChanged.connect(self._show_ticked)
        self.ui.people_find_button.clicked.connect(self.find_calls)
        self.ui.people_find_button.setDefault(True)  # Enter in the field finds (once)
        self.ui.people_tick_all_button.clicked.connect(lambda: self.tick_all(True))
        self.ui.people_untick_all_button.clicked.connect(lambda: self.tick_all(False))
        self.ui.people_save_button.clicked.connect(self._choose_file)
        self.ui.people_erase_button.clicked.connect(self._confirm_erase)
        self.ui.people_close_button.clicked.connect(self.accept)
        self.resize(760, 520)
        self._show_found([])

    def _wanted(self) -> tuple[SearchBy, str]:
        return self.ui.people_by_combo.currentData(), self.ui.people_value_edit.text()

    def find_calls(self) -> None:
        by, value = self._wanted()
        search = self._search
        self.tasks.run(lambda: search(PersonQuery(by, value))).success(
            self._show_found).failure(self._failed)

    def _show_found(self, found: list[FoundCall]) -> None:
        self.found = found
        table = self.ui.people_calls_table
        table.blockSignals(True)
        table.setRowCount(len(found))
        for row, call in enumerate(found):
            cells = (f"{to_uk(call.started_at):%a %d %b %Y %H:%M}", call.caller_name or "",
                     call.caller_phone or "", call.caller_email or "",
                     self.tr("on hold") if call.legal_hold else "")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 0:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Unchecked)
                    item.setData(Qt.ItemDataRole.UserRole, call.call_id)
                table.setItem(row, column, item)
        table.blockSignals(False)
        if found:
            table.setCurrentCell(0, 0)
        for button in (self.ui.people_tick_all_button, self.ui.people_untick_all_button):
            button.setEnabled(bool(found))
        self._show_ticked()

    def ticked(self) -> list[int]:
        """The ids of the ticked calls, in the table's order."""
        table = self.ui.people_calls_table
        return [table.item(row, 0).data(Qt.ItemDataRole.UserRole)
                for row in range(table.rowCount())
                if table.item(row, 0).checkState() == Qt.CheckState.Checked]

    def tick(self, row: int, ticked: bool = True) -> None:
        self.ui.people_calls_table.item(row, 0).setCheckState(
            Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def tick_all(self, ticked: bool) -> None:
        for row in range(self.ui.people_calls_table.rowCount()):
            self.tick(row, ticked)

    def _show_ticked(self, *_: object) -> None:
        ticked = len(self.ticked())
        self.ui.people_save_button.setEnabled(bool(ticked))
        self.ui.people_erase_button.setEnabled(bool(ticked))
        if self.ui.people_value_edit.text():
            self.ui.people_result.setText(self.tr(
                "{0} calls found, {1} ticked. Tick (Space) the calls that are this person's."
            ).format(len(self.found), ticked))

    def _failed(self, error: BaseException) -> None:
        self.ui.people_result.setText(errors.describe(error))

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save their calls"),
                                              "subject-access.md", self.tr("Text (*.md)"))
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        ids, save = self.ticked(), self._save
        self.tasks.run(lambda: save(ids, path)).success(
            lambda _: self.ui.people_result.setText(
                self.tr("Saved {0} calls to {1}.").format(len(ids), path))).failure(self._failed)

    def _confirm_erase(self) -> None:
        answer = QMessageBox.question(self, self.tr("Erase their details?"), self.tr(
            "Erase the name, phone, email, postcode and notes of the {0} ticked calls? This "
            "cannot be undone; the figures in reports stay.").format(len(self.ticked())))
        if answer == QMessageBox.StandardButton.Yes:
            self.erase()

    def erase(self) -> None:
        ids, erase = self.ticked(), self._erase
        self.tasks.run(lambda: erase(ids)).success(self._erased).failure(self._failed)

    def _erased(self, count: int) -> None:
        self._show_found([])
        self.ui.people_result.setText(self.tr("Erased the details of {0} calls.").format(count))
