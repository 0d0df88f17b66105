"""``advice-desk --smoke``: check that this installation can run the desk, then close.

It starts the real window on a copy of the SQLite store (in a temporary folder, with a copy of
the audit key and a config folder of its own), where it adds a supervisor for the check; it
signs in with key presses, waits until the history shows the store's calls and the call form
takes a key, and exits 0, printing what it saw. The store and this PC's settings are not
changed. ``make package`` runs it on the built program (packaging/smoke_check.py).
"""

from __future__ import annotations

import os
import secrets
import shutil
import string
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from advice_desk.clock import SystemClock
from advice_desk.paths import CONFIG_DIR_ENV, DATABASE_FILE, Location, resolve_location

SMOKE_USER = "smokecheck"
TIMEOUT_S = 120.0


class SmokeFailed(Exception):
    """The check could not be made, or a step did not happen in time; says which."""


def _copy_store(location: Location, folder: Path) -> tuple[Location, int]:
    """The store copied into ``folder`` (data/ and config/), with a supervisor for the check."""
    from advice_desk.backups.copies import copy_file
    from advice_desk.desk import open_reception
    from advice_desk.people.accounts import Users
    from advice_desk.people.permissions import Role, command_line_actor
    from advice_desk.store import audit_key

    source = location.sqlite_file
    if source is None:
        raise SmokeFailed("--smoke checks an SQLite store; it cannot copy a server's database")
    if not source.is_file():
        raise SmokeFailed(f"there is no store at {location.shown}: make one first (for example "
                          "advice-desk --data-dir DIR demo --calls 1000)")
    key = audit_key.key_path()
    data, config = folder / "data", folder / "config"
    data.mkdir(mode=0o700)
    config.mkdir(mode=0o700)
    calls = copy_file(source, data / DATABASE_FILE, with_anchor=False).calls
    os.environ[CONFIG_DIR_ENV] = str(config)  # this process alone: window state, anchors
    os.environ[audit_key.KEY_ENV] = str(config / "audit-key")
    if key.is_file():
        shutil.copyfile(key, config / "audit-key")
        (config / "audit-key").chmod(0o600)
    copy = resolve_location(data)
    clock = SystemClock()
    reception = open_reception(copy, clock)
    try:
        password = _PASSWORD
        if reception.needs_first_supervisor():
            reception.create_first_supervisor(SMOKE_USER, "Installation check", password)
        else:
            Users(reception.store, command_line_actor(), clock).add(
                SMOKE_USER, "Installation check", Role.SUPERVISOR, password)
    finally:
        reception.close()
    return copy, calls


# Letters and digits only: each is typed as the key of its own character.
_PASSWORD = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))


def _type(text: str, key: Qt.Key | None = None) -> None:
    """Key presses to the widget with the focus, as a person types them."""
    presses = [(Qt.Key(ord(ch.upper())), ch) for ch in text] if key is None else [(key, "")]
    for code, ch in presses:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            widget = QApplication.focusWidget()
            if widget is not None:
                QApplication.sendEvent(widget, QKeyEvent(kind, code,
                                                         Qt.KeyboardModifier.NoModifier, ch))


class _Check:
    """The steps, looked at every 50 ms: sign in, the history's calls, a key in the form."""

    def __init__(self, window, started: float, calls: int) -> None:
        self.window, self.started, self.calls = window, started, calls
        self.step = "the sign-in to be asked"
        self.shown_total = ""
        self.timer = QTimer(interval=50)
        self.timer.timeout.connect(self._look)
        self.timer.start()
        self.result: int | None = None
        self.typed = False

    def _look(self) -> None:
        window = self.window
        if time.monotonic() - self.started > TIMEOUT_S:
            return self._end(1, f"smoke: failed: waited {TIMEOUT_S:.0f} s for {self.step}")
        if window.opening.is_stopped:
            return self._end(1, f"smoke: failed: the store was refused "
                                f"({window.statusBar().currentMessage()})")
        if self.step == "the sign-in to be asked":
            dialog = window.sign_in_dialog
            if dialog is not None and dialog.ui.username_edit.hasFocus():
                _type(SMOKE_USER)
                _type("", Qt.Key.Key_Tab)
                _type(_PASSWORD)
                _type("", Qt.Key.Key_Return)
                self.step = "the history to show the calls"
        elif self.step == "the history to show the calls":
            total = window.ui.history_total.text()
            shown = window.history.rowCount() > 0 or self.calls == 0
            if window.save_action.isEnabled() and shown and total and not window.tasks.busy:
                self.shown_total = total
                notes = window.form.ui.notes_edit
                notes.setFocus(Qt.FocusReason.ShortcutFocusReason)
                self.step = "the call form to take a key"
        elif self.step == "the call form to take a key":
            notes = window.form.ui.notes_edit
            if notes.hasFocus() and not self.typed:
                _type("Q")
                self.typed = True
            if notes.toPlainText() == "Q":
                return self._end(0, f"smoke: ok: signed in, the history showed "
                                    f"{self.shown_total} (the store holds {self.calls:,}), "
                                    f"the call form took a key "
                                    f"({time.monotonic() - self.started:.1f} s)")

    def _end(self, code: int, message: str) -> None:
        self.timer.stop()
        self.result = code
        print(message, file=sys.stdout if code == 0 else sys.stderr, flush=True)
        self.window.form.ui.notes_edit.clear()  # nothing typed is kept as a draft
        self.window.close()
        QApplication.exit(code)


def run_smoke(location: Location) -> int:
    from advice_desk.backups.copies import BackupError
    from advice_desk.gui.app import configure, display_problem, show_main_window

    problem = display_problem()
    if problem:
        print(f"advice-desk: error: {problem}", file=sys.stderr)
        return 1
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="advice-desk-smoke-") as folder:
        try:
            copy, calls = _copy_store(location, Path(folder))
        except (SmokeFailed, BackupError) as failed:
            print(f"advice-desk: error: {failed}", file=sys.stderr)
            return 1
        app = QApplication.instance() or QApplication(sys.argv[:1])
        assert isinstance(app, QApplication)
        configure(app)
        window = show_main_window(copy, SystemClock())
        check = _Check(window, started, calls)
        code = app.exec()
        if check.result is None:  # the window was closed some other way
            print(f"smoke: failed: the window closed while waiting for {check.step}",
                  file=sys.stderr)
            return 1
        return code
