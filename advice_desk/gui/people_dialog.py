"""One person's data: find their calls, save them as a file (subject access), or erase their
details on request. The statistics stay; every step is audited by the core."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

from advice_desk.gui import errors
from advice_desk.gui.forms import load_form
from advice_desk.gui.taskman import TaskManager
from advice_desk.privacy.identity import PersonQuery, SearchBy

BY = (("Name", "name"), ("Phone", "phone"), ("Email", "email"))


class PeopleDialog(QDialog):
    def __init__(self, tasks: TaskManager, find: Callable[[PersonQuery], list[int]],
                 save: Callable[[list[int], Path], None], erase: Callable[[PersonQuery], int],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("A person's data"))
        self.ui = load_form("people_dialog.ui", self)
        self.tasks, self._find, self._save, self._erase = tasks, find, save, erase
        self.found: list[int] = []
        for label, key in BY:
            self.ui.people_by_combo.addItem(self.tr(label), key)
        self.ui.people_find_button.clicked.connect(self.find_calls)
        self.ui.people_value_edit.returnPressed.connect(self.find_calls)
        self.ui.people_save_button.clicked.connect(self._choose_file)
        self.ui.people_erase_button.clicked.connect(self._confirm_erase)
        self.ui.people_close_button.clicked.connect(self.accept)
        self._show_found([])

    def _wanted(self) -> tuple[SearchBy, str]:
        return self.ui.people_by_combo.currentData(), self.ui.people_value_edit.text()

    def find_calls(self) -> None:
        by, value = self._wanted()
        find = self._find
        self.tasks.run(lambda: find(PersonQuery(by, value))).success(self._show_found).failure(
            self._failed)

    def _show_found(self, ids: list[int]) -> None:
        self.found = ids
        self.ui.people_save_button.setEnabled(bool(ids))
        self.ui.people_erase_button.setEnabled(bool(ids))
        if self.ui.people_value_edit.text():
            self.ui.people_result.setText(self.tr("{0} calls found.").format(len(ids)))

    def _failed(self, error: BaseException) -> None:
        self.ui.people_result.setText(errors.describe(error))

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save their calls"),
                                              "subject-access.md", self.tr("Text (*.md)"))
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        ids, save = list(self.found), self._save
        self.tasks.run(lambda: save(ids, path)).success(
            lambda _: self.ui.people_result.setText(
                self.tr("Saved {0} calls to {1}.").format(len(ids), path))).failure(self._failed)

    def _confirm_erase(self) -> None:
        answer = QMessageBox.question(self, self.tr("Erase their details?"), self.tr(
            "Erase the name, phone, email, postcode and notes of {0} calls? This cannot be "
            "undone; the figures in reports stay.").format(len(self.found)))
        if answer == QMessageBox.StandardButton.Yes:
            self.erase()

    def erase(self) -> None:
        by, value = self._wanted()
        erase = self._erase
        self.tasks.run(lambda: erase(PersonQuery(by, value))).success(self._erased).failure(
            self._failed)

    def _erased(self, count: int) -> None:
        self.found = []
        self._show_found([])
        self.ui.people_result.setText(self.tr("Erased the details of {0} calls.").format(count))
