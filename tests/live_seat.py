"""One seat of the two-process live-desks test (tests/test_live_seats.py): the real app's main
window in a process of its own, driven line by line from standard input.

    python -m tests.live_seat --data-dir DIR --database-url URL --user sam   (password on stdin)

It signs in through the sign-in dialog with the keyboard, then answers each command line:
``save NOTE`` saves a call through the seat's own desk on its store thread (as the form's save
does) and prints ``saved ID T``; ``shot PATH`` grabs the window to a PNG and prints ``shot``;
``quit`` closes the window. It prints ``ready`` once signed in, ``seen ID T`` whenever a call
joins its history and ``seats TEXT`` when the status bar's seat count changes. T is
``time.monotonic()``: the machine's clock, the same in every process.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from advice_desk.clock import SystemClock
from advice_desk.gui.app import configure, show_main_window
from advice_desk.gui.main_window import MainWindow
from advice_desk.paths import resolve_location
from tests.factories import a_call


def say(*words: object) -> None:
    print(*words, flush=True)


class Commands(QObject):
    line = Signal(str)

    def read(self) -> None:
        for line in sys.stdin:
            self.line.emit(line.strip())
        self.line.emit("quit")


class Seat(QObject):
    def __init__(self, window: MainWindow, username: str, password: str) -> None:
        super().__init__(window)
        self.window, self.username, self.password = window, username, password
        self.clock = SystemClock()
        self._signing_in = False
        self._poll = QTimer(self, interval=50)
        self._poll.timeout.connect(self._sign_in)
        self._poll.start()
        self._shot_to = ""
        self._shooting = QTimer(self, interval=50)
        self._shooting.timeout.connect(self._shoot)
        window.history.rowsInserted.connect(self._seen)
        window.live.seats_changed.connect(
            lambda _seats: QTimer.singleShot(0, lambda: say("seats", window.seats_label.text())))

    def _sign_in(self) -> None:
        window = self.window
        if not self._signing_in and window.sign_in_dialog is not None:
            dialog = window.sign_in_dialog
            self._signing_in = True
            QTest.keyClicks(dialog.ui.username_edit, self.username)
            QTest.keyClicks(dialog.ui.password_edit, self.password)
            QTest.keyClick(dialog.ui.password_edit, Qt.Key.Key_Return)
        elif self._signing_in and window.save_action.isEnabled() and not window.tasks.busy:
            self._poll.stop()
            say("ready")

    def _shoot(self) -> None:
        if not self.window.tasks.busy:
            self._shooting.stop()
            self.window.grab().save(self._shot_to)
            say("shot")

    def _seen(self, _parent: QModelIndex, first: int, last: int) -> None:
        now = time.monotonic()
        for row in range(first, last + 1):
            say("seen", self.window.history.call_id(row), f"{now:.6f}")

    def command(self, line: str) -> None:
        verb, _, rest = line.partition(" ")
        window = self.window
        if verb == "save":
            desk, details = window.desk, a_call(self.clock, notes=rest or None)
            assert desk is not None
            window.tasks.run(lambda: (desk.calls.log(details), time.monotonic())).success(
                lambda saved: say("saved", saved[0], f"{saved[1]:.6f}"))
        elif verb == "shot":  # once the store thread is idle: the total counted, the rows in
            self._shot_to = rest
            self._shooting.start()
        elif verb == "state":  # what the seat is waiting for, when a test has to say why
            dialog = window.sign_in_dialog
            say("state", type(dialog).__name__,
                dialog.ui.sign_in_message.text() if dialog is not None else "-",
                window.statusBar().currentMessage())
        elif verb == "quit":
            window.close()
            QApplication.quit()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--user", required=True)
    args = parser.parse_args()
    password = sys.stdin.readline().rstrip("\n")
    app = QApplication(sys.argv[:1])
    configure(app)
    location = resolve_location(Path(args.data_dir), args.database_url)
    window = show_main_window(location, SystemClock())
    window.resize(1366, 768)
    seat = Seat(window, args.user, password)
    commands = Commands()
    commands.line.connect(seat.command)
    threading.Thread(target=commands.read, daemon=True).start()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
