"""One desk per store and PC: a second copy of the app brings the first window forward.

Two copies of the app on one store, signed in as the same person, would both recover the same
draft and type over each other's calls. The first copy holds a lock file in the data folder
(``QLockFile``: released when the process ends, even by a crash, since a lock whose process has
gone is stale) and listens on a local socket named after the store. A later copy that finds the
lock held tells the first copy to show itself over that socket and exits. The first copy
listens once its window has painted (QtNetwork takes ~7 ms to load); until then a later copy
keeps trying.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QDeadlineTimer, QLockFile, QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QWidget

from advice_desk.paths import Location

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

LOCK_FILE = "advice-desk.lock"
SHOW = b"show\n"
ANSWER_TIMEOUT_MS = 5000  # how long a second copy tries to reach the first


def server_name(location: Location) -> str:
    """The local socket of the copy that has this store open: the same store, the same name.
    A digest, so the store's path or URL is not spelled out in /tmp."""
    import hashlib  # here: a first copy needs it only after its first paint

    digest = hashlib.sha256(location.database_url.encode()).hexdigest()[:24]
    return f"advice-desk-{digest}"


class SingleInstance(QObject):
    """The claim of this copy of the app on its store; :meth:`claim` before opening a window."""

    show_requested = Signal()

    def __init__(self, location: Location, parent: QObject | None = None) -> None:
        super().__init__(parent)
        location.data_dir.mkdir(parents=True, exist_ok=True)
        self.lock_path = location.data_dir / LOCK_FILE
        self._location = location
        self._lock = QLockFile(str(self.lock_path))
        self._lock.setStaleLockTime(0)  # never stale by age: only when its process is gone
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """True when this is the first copy on the store (then :meth:`listen` for later ones);
        False when another copy has it: then :meth:`tell_first_copy`."""
        return self._lock.tryLock(0)

    def listen(self) -> None:
        """Answer later copies (once the claim is made)."""
        from PySide6.QtNetwork import QLocalServer

        if self._server is not None:
            return
        self._server = QLocalServer(self)
        self._server.newConnection.connect(self._answer)
        name = server_name(self._location)
        QLocalServer.removeServer(name)  # a socket left by a crashed first copy
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self._server.listen(name):
            print(f"advice-desk: warning: a second copy of the app could not find this "
                  f"one: {self._server.errorString()}", file=sys.stderr)

    def tell_first_copy(self) -> bool:
        """Ask the first copy to show its window; whether it heard (it may still be starting,
        between taking the lock and listening: try again until the deadline)."""
        from PySide6.QtNetwork import QLocalSocket

        deadline = QDeadlineTimer(ANSWER_TIMEOUT_MS)
        while not deadline.hasExpired():
            socket = QLocalSocket()
            socket.connectToServer(server_name(self._location))
            if socket.waitForConnected(max(1, deadline.remainingTime())):
                socket.write(SHOW)
                heard = socket.waitForBytesWritten(max(1, deadline.remainingTime()))
                socket.disconnectFromServer()
                return heard
            QThread.msleep(50)
        return False

    def _answer(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if SHOW.strip() in bytes(socket.readAll().data()):
            print("advice-desk: another copy was started on this store: showing this window",
                  file=sys.stderr, flush=True)
            self.show_requested.emit()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
        self._lock.unlock()


def bring_forward(window: QWidget) -> None:
    """Show the window on top, restored if it was minimised, with the keyboard focus."""
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized
                          | Qt.WindowState.WindowActive)
    window.show()
    window.raise_()
    window.activateWindow()
