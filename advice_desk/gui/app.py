"""Starting the desktop app: paint the window first, open the store right after.

The look is the platform's: its own style (none is forced; ``-style`` and ``QT_STYLE_OVERRIDE``
still work) and its light or dark palette, followed when the person switches it.

For ``make bench`` (PRODUCT.md §11, start-up), ``ADVICE_DESK_FIRST_PAINT=1`` in the environment
makes the app print ``first-paint <time.monotonic()> <time.process_time()>`` on standard
output once the main window has painted, and close: a developer's hook, not in the help. (The
monotonic clock is the machine's, so another process can time from its own start.)
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from advice_desk import __version__
from advice_desk.clock import Clock, SystemClock
from advice_desk.gui.icon import APP_ID, app_icon
from advice_desk.gui.main_window import MainWindow
from advice_desk.gui.single_instance import SingleInstance, bring_forward
from advice_desk.gui.wheel_guard import install_wheel_guard
from advice_desk.paths import Location

# Libraries Qt's X11 plugin loads at run time that many Linux desktops lack (Qt 6.5+).
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xkbcommon-x11": "libxkbcommon-x11-0",
                 "xcb-icccm": "libxcb-icccm4", "xcb-keysyms": "libxcb-keysyms1"}


def display_problem() -> str | None:
    """Why Qt could not open a window here, said before Qt aborts the process with less help."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("WAYLAND_DISPLAY"):
        return None
    if not os.environ.get("DISPLAY"):
        return ("no display: start Advice Desk from a desktop session "
                "(the command-line commands work without one: advice-desk --help)")
    import ctypes.util  # only here: it costs ~5 ms before the first paint

    missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
    if missing:
        return ("Qt needs system libraries that are not installed; on Debian or Ubuntu run: "
                f"sudo apt-get install {' '.join(missing)}")
    return None


def follow_system_palette(app: QApplication) -> None:
    """Take the platform's light or dark palette now and whenever the person switches it
    (Qt 6.5+ tells the style; widgets given a palette of their own would keep the old one)."""

    def switched(_scheme: Qt.ColorScheme) -> None:
        style = app.style()
        if style is not None:
            app.setPalette(style.standardPalette())

    app.styleHints().colorSchemeChanged.connect(switched)


FIRST_PAINT_ENV = "ADVICE_DESK_FIRST_PAINT"
GC_AT_THE_LATEST_MS = 5000


class FirstPaint(QObject):
    """Emits ``done`` once, after the first paint of ``window`` (from a timer fired by the
    event loop once that paint, its children's included, is over). The bench's bare window
    (bench/bench.py) is timed by the same rule."""

    done = Signal()

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.painted = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.painted and event.type() == QEvent.Type.Paint:
            self.painted = True
            self.window.removeEventFilter(self)
            QTimer.singleShot(0, self.done.emit)
        return False


def report_first_paint(window: QWidget) -> None:
    """The ``ADVICE_DESK_FIRST_PAINT`` hook: say when the window had painted, and close."""
    print(f"first-paint {time.monotonic():.6f} {time.process_time():.6f}", flush=True)
    window.close()


def configure(app: QApplication) -> None:
    """Names Qt keeps settings under, and the look: the platform's style and palette."""
    app.setApplicationName("Advice Desk")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("advice-desk")
    app.setWindowIcon(app_icon())
    app.setDesktopFileName(APP_ID)  # the menu entry's icon and name on Wayland's task bar
    follow_system_palette(app)


def _guard_the_wheel() -> None:
    app = QApplication.instance()
    assert app is not None
    install_wheel_guard(app)


def show_main_window(location: Location, clock: Clock,
                     *after_paint: Callable[[], object]) -> MainWindow:
    """The main window, shown. The store opens once it has painted: opening imports SQLAlchemy
    (~300 ms) and checks the store, and nothing may compete with the first paint; so do
    ``after_paint``. With ``ADVICE_DESK_FIRST_PAINT`` set, it says when it painted and closes
    instead of opening the store."""
    window = MainWindow(location, clock)
    first_paint = FirstPaint(window)
    reporting = bool(os.environ.get(FIRST_PAINT_ENV))
    if reporting:  # first: what follows is not timed
        first_paint.done.connect(lambda: report_first_paint(window))
    # Started as an app, the garbage collector is off until now (__main__); a window started
    # minimised may not paint for a while, so it comes back on after GC_AT_THE_LATEST_MS too.
    first_paint.done.connect(gc.enable)
    QTimer.singleShot(GC_AT_THE_LATEST_MS, gc.enable)
    for work in after_paint:
        first_paint.done.connect(work)
    if not reporting:
        first_paint.done.connect(window.open_store)
    # Combo and spin boxes take the wheel only with the focus. The guard watches every event
    # of the app: installed before the window, it made its building ~25 ms slower.
    first_paint.done.connect(_guard_the_wheel)
    window.show()
    return window


def run(location: Location, clock: Clock | None = None) -> int:
    problem = display_problem()
    if problem:
        print(f"advice-desk: error: {problem}", file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    configure(app)
    instance = SingleInstance(location)
    if not instance.claim():
        if instance.tell_first_copy():
            print("advice-desk: Advice Desk is already open on this store; "
                  "its window was brought forward", file=sys.stderr)
            return 0
        print(f"advice-desk: error: Advice Desk is already open on this store but does not "
              f"answer; close it, or if it has gone, remove {instance.lock_path}",
              file=sys.stderr)
        return 1
    window = show_main_window(location, clock or SystemClock(), instance.listen)
    instance.show_requested.connect(lambda: bring_forward(window))
    try:
        return app.exec()
    finally:
        instance.release()

