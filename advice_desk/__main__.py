"""``advice-desk``: with a command it runs the command line; with none it starts the app.

This is the one module that may reach both the headless core and the Qt GUI; the GUI is
imported only when it is started, so commands never load Qt.
"""

from __future__ import annotations

import importlib
import sys

from advice_desk.cli.main import main as cli_main
from advice_desk.paths import Location

# The modules the main window needs that do not need Qt, imported before it: PySide6 wraps
# Python's import machinery, and every module imported after it costs more (~20 ms in all
# before the window's first paint, PRODUCT.md §11).
BEFORE_QT = ("advice_desk.calls.record", "advice_desk.calls.history",
             "advice_desk.calls.topic_views", "advice_desk.reference.lists",
             "advice_desk.reference.hours", "advice_desk.clock", "advice_desk.people.permissions",
             "advice_desk.store.errors", "advice_desk.validation", "concurrent.futures.thread",
             "getpass")


def _start_gui(location: Location) -> int:
    for name in BEFORE_QT:
        importlib.import_module(name)
    from advice_desk.gui.app import run

    return run(location)


def _smoke(location: Location) -> int:
    from advice_desk.gui.smoke import run_smoke

    return run_smoke(location)


def main(argv: list[str] | None = None) -> int:
    if getattr(sys, "frozen", False):  # the demo's generator process, in a frozen build
        import multiprocessing  # only then: 10 ms before the window's first paint

        multiprocessing.freeze_support()
    return cli_main(sys.argv[1:] if argv is None else argv, start_gui=_start_gui, smoke=_smoke)


if __name__ == "__main__":
    sys.exit(main())
