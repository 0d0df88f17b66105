"""The supervisor's funder export: choose the months and a folder, watch it run, cancel it.

The export runs on the store thread and reports each month counted; its other button reads
Cancel while it runs and Close otherwise (an export done has nothing left to cancel). Cancel
is honoured between months, and as the files are only put in place at the very end, a
cancelled or failed export leaves nothing behind.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

from advice_desk.clock import Clock, uk_today
from advice_desk.gui import errors
from advice_desk.gui.dates import from_qdate, to_qdate
from advice_desk.gui.forms import load_form
from advice_desk.gui.taskman import TaskManager

if TYPE_CHECKING:
    from advice_desk.reports.funder_export import ExportResult, FunderExport

class ExportDialog(QDialog):
    """Emits ``finished_export(message)`` when an export ends, however it ends."""

    progressed = Signal(int, int)
    finished_export = Signal(str)

    def __init__(self, tasks: TaskManager, export: FunderExport, clock: Clock,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Export for funders"))
        self.ui = load_form("export_dialog.ui", self)
        self.tasks, self._export = tasks, export
        self._cancel = threading.Event()
        self.running = False
        first_of_month = uk_today(clock).replace(day=1)
        last_month_end = first_of_month - timedelta(days=1)
        self.ui.export_from_date.setDate(to_qdate(last_month_end.replace(day=1)))
        self.ui.export_to_date.setDate(to_qdate(last_month_end))
        self._show_running(False)
        self.progressed.connect(self._show_progress)
        self.ui.export_start_button.clicked.connect(self.start)
        self.ui.export_cancel_button.clicked.connect(self.cancel)
        self.ui.export_browse_button.clicked.connect(self._browse)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Folder for the export"))
        if folder:
            self.ui.export_folder_edit.setText(folder)

    def start(self) -> None:
        if self.running:
            return
        ui = self.ui
        first, last = from_qdate(ui.export_from_date.date()), from_qdate(ui.export_to_date.date())
        folder = Path(ui.export_folder_edit.text().strip())
        if last < first:
            ui.export_status.setText(self.tr("The period ends before it starts."))
            return
        if not ui.export_folder_edit.text().strip():
            ui.export_status.setText(self.tr("Choose a folder for the files."))
            return
        if folder.exists() and not folder.is_dir():  # a missing folder is made by the export
            ui.export_status.setText(self.tr("{0} is not a folder.").format(folder))
            return
        self._cancel.clear()
        self.running = True
        self._show_running(True)
        ui.export_progress.setValue(0)
        ui.export_status.setText(self.tr("Counting…"))
        export, rows = self._export, ui.export_rows_check.isChecked()
        fresh_key = ui.export_fresh_key_check.isChecked()
        report, cancelled = self.progressed.emit, self._cancel.is_set
        self.tasks.run(lambda: export.write(first, last, folder, export.choices(rows, fresh_key),
                                    report, cancelled)).success(self._done).failure(self._failed)

    def _show_running(self, running: bool) -> None:
        """Export and Close, or Cancel alone while the export runs."""
        button = self.ui.export_cancel_button
        text = self.tr("&Cancel") if running else self.tr("&Close")
        button.setText(text)
        button.setAccessibleName(text.replace("&", ""))
        self.ui.export_start_button.setEnabled(not running)

    def cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.ui.export_status.setText(self.tr("Cancelling…"))
        else:
            self.reject()

    def reject(self) -> None:
        if self.running:  # Escape while running cancels the export, not the window
            self.cancel()
            return
        super().reject()

    def _show_progress(self, done: int, steps: int) -> None:
        self.ui.export_progress.setMaximum(steps)
        self.ui.export_progress.setValue(done)

    def _done(self, result: ExportResult) -> None:
        names = ", ".join(path.name for path in result.files)
        self._finish(self.tr("Written to {0}: {1}.").format(result.files[0].parent, names))

    def _failed(self, error: BaseException) -> None:
        self._finish(self.tr("Nothing was written: {0}").format(errors.describe(error)))

    def _finish(self, message: str) -> None:
        self.running = False
        self._show_running(False)
        self.ui.export_cancel_button.setFocus()
        self.ui.export_status.setText(message)
        self.finished_export.emit(message)
