"""Supervisor › Backups…: the copies of the store, a backup made now, and a restore; and the
automatic backups of a running app.

The copies are made, listed and checked on a thread of their own (:class:`AutoBackups`), not
on the store thread: a copy of the 1M-call store takes seconds, and saves must not wait for it
(in WAL mode a save goes on while the copy is read). The automatic backup runs once someone has
signed in and every :data:`AUTO_BACKUP_HOURS` hours while the app runs; it makes a copy only
when the store changed since the newest one (:func:`advice_desk.backups.copies.auto_backup`).

A restore runs on the store thread, so no save is half-way through it: the person signed in is
signed out (the call in hand is kept as their draft, in the store that is then copied aside),
the store is closed, the copy put in its place and the store opened again, and the sign-in
comes back, on the restored store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from advice_desk.clock import Clock, to_uk
from advice_desk.gui import errors
from advice_desk.gui.keys import BACKUP_BUTTONS
from advice_desk.gui.taskman import TaskManager

if TYPE_CHECKING:
    from advice_desk.backups.copies import AutoOutcome, CopyInfo
    from advice_desk.backups.restore import Restored
    from advice_desk.desk import Reception
    from advice_desk.gui.main_window import MainWindow
    from advice_desk.store.engine import Store

AUTO_BACKUP_HOURS = 4
KINDS = {"backup": "Backup", "before-restore": "Before a restore",
         "before-migration": "Before an upgrade"}


def describe(error: BaseException) -> str:
    """A backup's refusal (a core refusal) is said as it is; anything else is worded by the
    one failure display."""
    return errors.describe(error)


class StoreFoundDamaged:
    """A copy found the store itself damaged (and the full check confirmed it): ``text``
    says so, naming the newest good backup and the restore command."""

    def __init__(self, text: str) -> None:
        self.text = text


def backed_up_or_damaged(store: Store, clock: Clock, *, force: bool = False
                         ) -> AutoOutcome | StoreFoundDamaged:
    """The automatic backup (on the backup thread); a copy that failed because the store is
    damaged is checked in full, and the damage reported as a failed check would be."""
    from advice_desk.backups.copies import BackupError, auto_backup
    from advice_desk.store import integrity

    try:
        return auto_backup(store, clock, force=force)
    except BackupError as error:
        store_file = store.location.sqlite_file
        if not error.damaged or store_file is None:
            raise
        problems = integrity.sqlite_problems(store_file, full=True)
        if not problems:
            raise
        return StoreFoundDamaged(str(integrity.damaged(store.location, problems)))


def size_text(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    if size < 1024 ** 3:
        return f"{size / 1024 ** 2:.1f} MB"
    return f"{size / 1024 ** 3:.2f} GB"


def when_text(copy: CopyInfo) -> str:
    return to_uk(copy.made_at).strftime("%a %d %b %Y %H:%M")


class AutoBackups(QObject):
    """The backup thread of the window, and its timer. ``done(message)`` after each copy."""

    done = Signal(str)
    store_damaged = Signal(str)  # the text of the message: the desk must stop

    def __init__(self, clock: Clock, window: QWidget) -> None:
        super().__init__(window)
        self.clock = clock
        self.tasks = TaskManager(window)
        self.store: Store | None = None
        self._timer = QTimer(self, interval=AUTO_BACKUP_HOURS * 3600 * 1000)
        self._timer.timeout.connect(self.run)

    def start(self, store: Store) -> None:
        """Back up now if the store changed, then every few hours. A server store: never."""
        self.store = store
        if store.location.sqlite_file is None:
            return
        self._timer.start()
        self.run()

    def stop(self) -> None:
        self._timer.stop()
        self.store = None

    def run(self) -> None:
        store, clock = self.store, self.clock
        if store is None:
            return
        self.tasks.run(lambda: backed_up_or_damaged(store, clock)).success(self._ran).failure(
            self._failed)

    def found_damaged(self, found: StoreFoundDamaged) -> None:
        """A backup found the store damaged: no more copies, and the desk stops."""
        self.stop()
        self.store_damaged.emit(found.text)

    def _ran(self, outcome: AutoOutcome | StoreFoundDamaged) -> None:
        if isinstance(outcome, StoreFoundDamaged):
            self.found_damaged(outcome)
            return
        if outcome.made is not None:
            self.done.emit(self.tr("Backed up {0} calls ({1}).").format(
                outcome.made.calls, size_text(outcome.made.size)))

    def _failed(self, error: BaseException) -> None:
        window = self.parent()
        message = self.tr("The automatic backup failed: {0}").format(describe(error))
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(message)
        self.done.emit(message)

    def shutdown(self) -> None:
        self._timer.stop()
        self.tasks.shutdown()


class BackupsDialog(QDialog):
    """The list of copies (date in UK time, kind, size, calls), Back up now, Restore.

    Emits ``restore_chosen(path)`` once the supervisor has confirmed a restore."""

    restore_chosen = Signal(object)

    def __init__(self, backups: AutoBackups, store: Store, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Backups"))
        self.backups, self.store = backups, store
        self.copies: list[CopyInfo] = []
        self.loaded = False
        self.confirmation: QMessageBox | None = None
        layout = QVBoxLayout(self)
        self.intro = QLabel(self.tr(
            "Copies of the store, made when it has changed: after start-up and every {0} "
            "hours. The newest copy of each recent day, week and month is kept (see "
            "Settings). Each copy holds personal data: keep copies taken off this PC safe.")
            .format(AUTO_BACKUP_HOURS), self)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Made"), self.tr("Kind"), self.tr("Size"), self.tr("Calls")])
        self.table.setAccessibleName(self.tr("Backups"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(lambda _: self.confirm_restore())
        layout.addWidget(self.table, 1)
        self.status = QLabel(self.tr("Reading the copies…"), self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(self.tr("Backup status"))
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        back_up, restore, close = (self.tr(text) for text in BACKUP_BUTTONS)  # listed by F1
        self.backup_button = self._button(back_up, self.back_up_now)
        self.restore_button = self._button(restore, self.confirm_restore)
        self.close_button = self._button(close, self.reject)
        buttons.addWidget(self.backup_button)
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.restore_button.setEnabled(False)
        self.resize(640, 420)
        if store.location.sqlite_file is None:
            self.intro.setText(self.tr(
                "This store is on a database server: its administrator backs it up. "
                "Seats make no copies of their own. On the command line, advice-desk backup "
                "--out FILE and advice-desk restore FILE run pg_dump and pg_restore."))
            self.backup_button.setEnabled(False)
            self.status.setText("")
            return
        self.refresh()

    def _button(self, text: str, slot) -> QPushButton:
        button = QPushButton(text, self)
        button.setAccessibleName(text.replace("&", "").rstrip("…").strip())
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    def refresh(self) -> None:
        from advice_desk.backups.copies import list_copies

        folder = self.store.location.backup_dir
        self.backups.tasks.run(lambda: list_copies(folder)).success(self._show).failure(
            lambda error: self.status.setText(describe(error)))

    def _show(self, copies: list[CopyInfo]) -> None:
        self.copies = copies
        self.table.setRowCount(len(copies))
        for row, copy in enumerate(copies):
            calls = "?" if copy.calls is None else f"{copy.calls:,}"
            cells = [when_text(copy), self.tr(KINDS.get(copy.kind, copy.kind)),
                     size_text(copy.size), calls]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        padding = 3 * self.fontMetrics().averageCharWidth()
        for column in (0, 2, 3):
            self.table.setColumnWidth(column, self.table.columnWidth(column) + padding)
        self.loaded = True
        self.restore_button.setEnabled(bool(copies))
        if copies:
            self.table.selectRow(0)
            self.table.setFocus()
            count = (self.tr("1 copy") if len(copies) == 1
                     else self.tr("{0} copies").format(len(copies)))
            self.status.setText(self.tr("{0} in {1}.").format(
                count, self.store.location.backup_dir))
        else:
            self.status.setText(self.tr("No copy yet: Back up now makes the first."))
            self.backup_button.setFocus()

    def back_up_now(self) -> None:
        store, clock = self.store, self.backups.clock
        self.backup_button.setEnabled(False)
        self.status.setText(self.tr("Backing up…"))
        self.backups.tasks.run(lambda: backed_up_or_damaged(store, clock, force=True)).success(
            self._backed_up).failure(self._backup_failed)

    def _backed_up(self, outcome: AutoOutcome | StoreFoundDamaged) -> None:
        if isinstance(outcome, StoreFoundDamaged):
            self.backups.found_damaged(outcome)
            self.status.setText(self.tr("No copy was made: the store is damaged."))
            self.reject()
            return
        self.backup_button.setEnabled(True)
        self.refresh()
        if outcome.made is None:
            self.status.setText(outcome.reason)

    def _backup_failed(self, error: BaseException) -> None:
        self.backup_button.setEnabled(True)
        self.status.setText(self.tr("No copy was made: {0}").format(describe(error)))

    def selected(self) -> CopyInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.copies[rows[0].row()] if rows and self.copies else None

    def confirm_restore(self) -> None:
        copy = self.selected()
        if copy is None:
            return
        calls = self.tr("an unreadable number of") if copy.calls is None else f"{copy.calls:,}"
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Restore this copy?"), self.tr(
            "Replace the store with the copy made {0} ({1} calls)?\n\nThe store as it is now "
            "is kept as a copy first. Calls saved since that copy are not in it. Everyone is "
            "signed out, and signs in again on the restored store.").format(
                when_text(copy), calls),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText(self.tr("&Restore"))
        box.button(QMessageBox.StandardButton.No).setText(self.tr("&Keep the store"))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        path = copy.path
        box.accepted.connect(lambda: self.restore_chosen.emit(path))
        self.confirmation = box
        box.open()


def restore_in_window(window: MainWindow, path: Path) -> None:
    """Sign out, close the store, restore ``path`` into it and open it again, on the store
    thread; then ask who is at the desk. A refused restore leaves the store as it was."""
    opening, location, clock = window.opening, window.location, window.clock
    reception = opening.reception
    if reception is None or window.desk is None:
        return
    actor = window.desk.actor
    opening.reception = None  # the sign-in waits for the restored store
    window.auto_backups.stop()
    window.sign_out()
    window.statusBar().showMessage(window.tr("Restoring the copy…"))

    def restore() -> tuple[Restored | None, BaseException | None, Reception]:
        from advice_desk.backups.restore import record_restore, restore_file
        from advice_desk.desk import open_reception

        reception.close()
        try:
            restored, error = restore_file(location, path, clock), None
        except Exception as failure:  # reopened below, whatever happened
            restored, error = None, failure
        fresh = open_reception(location, clock)
        if restored is not None:
            record_restore(fresh.store, actor, clock, restored)
        return restored, error, fresh

    def reopened(result: tuple[Restored | None, BaseException | None, Reception]) -> None:
        restored, error, fresh = result
        opening.reception = fresh
        opening.sign_in_again()
        if restored is not None:
            message = window.tr("Restored {0} calls from the copy. Sign in again.").format(
                restored.calls)
            window.statusBar().showMessage(message)
            if restored.tail:  # as the command line says it: the copy's trail is unchecked
                _tell(window, QMessageBox.Icon.Information, window.tr(
                    "Restored {0} calls from the copy.\n\n{1}").format(
                        restored.calls, errors.sentence(restored.tail)))
            return
        assert error is not None
        message = window.tr("The store was not restored: {0}").format(describe(error))
        window.statusBar().showMessage(message)
        _tell(window, QMessageBox.Icon.Warning, errors.sentence(message))

    window.tasks.run(restore).success(reopened).failure(opening._failed)


def _tell(window: MainWindow, icon: QMessageBox.Icon, text: str) -> None:
    """A message over the sign-in dialog after a restore; once read, back to the sign-in."""
    box = QMessageBox(icon, window.tr("Advice Desk"), text, QMessageBox.StandardButton.Ok,
                      window)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _: _back_to_sign_in(window.opening.dialog))
    box.open()


def _back_to_sign_in(dialog: QWidget | None) -> None:
    """Once the warning is read, the keyboard goes back to the sign-in dialog under it."""
    if dialog is not None and dialog.isVisible():
        dialog.raise_()
        dialog.activateWindow()
