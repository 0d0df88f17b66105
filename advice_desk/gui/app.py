"""Starting the desktop app: paint the window first, open the store right after."""

from __future__ import annotations

import getpass
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from advice_desk import __version__
from advice_desk.clock import Clock, SystemClock
from advice_desk.gui.main_window import MainWindow
from advice_desk.paths import Location


def run(location: Location, clock: Clock | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Advice Desk")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("advice-desk")
    window = MainWindow(location, clock or SystemClock(), getpass.getuser())
    window.show()
    QTimer.singleShot(0, window.open_store)
    return app.exec()


def main() -> int:
    """The ``advice-desk-gui`` entry point: the same options as ``advice-desk``."""
    from advice_desk.cli import main as cli_main

    return cli_main(sys.argv[1:], start_gui=run)
