"""``advice-desk``: with a command it runs the command line; with none it starts the app.

This is the one module that may reach both the headless core and the Qt GUI; the GUI is
imported only when it is started, so commands never load Qt.
"""

from __future__ import annotations

import sys

from advice_desk.cli.main import main as cli_main
from advice_desk.paths import Location


def _start_gui(location: Location) -> int:
    from advice_desk.gui.app import run

    return run(location)


def main(argv: list[str] | None = None) -> int:
    if getattr(sys, "frozen", False):  # the demo's generator process, in a frozen build
        import multiprocessing  # only then: 10 ms before the window's first paint

        multiprocessing.freeze_support()
    return cli_main(sys.argv[1:] if argv is None else argv, start_gui=_start_gui)


if __name__ == "__main__":
    sys.exit(main())
