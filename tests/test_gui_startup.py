"""Start-up (PRODUCT.md §11): the main window paints before anything slow is loaded, and the
store opens only once it has painted. How long it takes is for ``make bench``, not for tests."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QWidget

from advice_desk.gui.app import FIRST_PAINT_ENV, FirstPaint, show_main_window
from tests.factories import modules_loaded_by

# Not needed to paint the window: the store's layer and what only a supervisor or a dialog uses.
SLOW_OR_LATER = ("sqlmodel", "sqlalchemy", "alembic", "holidays", "reportlab", "PySide6.QtCharts",
                 "multiprocessing", "advice_desk.desk", "advice_desk.store.engine",
                 # the call's record and rules, and the opening hours: used once the store
                 # is open (the form sizes its boxes by calls.limits)
                 "advice_desk.calls.record", "advice_desk.calls.topic_views",
                 "advice_desk.reference.hours", "advice_desk.gui.line_status",
                 "advice_desk.reports.compute", "advice_desk.gui.report_view",
                 "advice_desk.gui.review_window", "advice_desk.gui.hours_dialog",
                 "advice_desk.gui.taxonomy_dialog", "advice_desk.gui.users_dialog",
                 "advice_desk.gui.audit_view", "advice_desk.gui.export_dialog",
                 "advice_desk.gui.people_dialog", "advice_desk.gui.settings_dialog",
                 "advice_desk.gui.follow_ups", "advice_desk.gui.correct_call",
                 "advice_desk.gui.help_window",
                 # after the first paint too, though quick: the sort arrow's style classes, the
                 # backup thread, uuid (with platform)
                 "advice_desk.gui.sort_arrow", "advice_desk.gui.backups_dialog", "uuid",
                 # started as an app (no command): the command line is not parsed at all
                 "advice_desk.cli.main", "advice_desk.cli.call_commands",
                 # the store thread starts with its first job; rows are matched once they come
                 "concurrent.futures", "difflib", "shlex")


def _first_paint_env(tmp_path) -> dict[str, str]:
    return {**os.environ, FIRST_PAINT_ENV: "1", "ADVICE_DESK_CONFIG_DIR": str(tmp_path / "cfg")}


def test_the_app_paints_its_window_before_loading_anything_slow(tmp_path):
    code = (f"import os; os.environ.update({_first_paint_env(tmp_path)!r}); "
            f"from advice_desk.__main__ import main; main(['--data-dir', "
            f"{str(tmp_path / 'data')!r}])")
    assert modules_loaded_by(code, SLOW_OR_LATER) == []


def test_the_first_paint_hook_says_when_the_window_painted_and_closes(tmp_path):
    """What ``make bench`` reads: the monotonic clock (one for the machine), processor time."""
    result = subprocess.run([sys.executable, "-m", "advice_desk", "--data-dir",
                             str(tmp_path / "data")], env=_first_paint_env(tmp_path),
                            capture_output=True, text=True, timeout=60, check=True)
    word, wall, processor = result.stdout.split()
    assert word == "first-paint"
    assert float(wall) > 0 and 0 < float(processor) < 60


def test_the_collector_is_off_while_the_app_starts(tmp_path):
    """Started as an app, the cyclic garbage collector waits for the window (PRODUCT.md §11);
    the window turns it back on (the next test)."""
    code = (f"import gc, os; os.environ.update({_first_paint_env(tmp_path)!r}); "
            "from advice_desk.gui import app; shown = app.show_main_window; "
            "app.show_main_window = lambda *a: print('collecting', gc.isenabled()) or shown(*a); "
            "from advice_desk.__main__ import main; "
            f"main(['--data-dir', {str(tmp_path / 'data')!r}])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert "collecting False" in result.stdout.splitlines()


def test_the_window_turns_the_collector_back_on_once_it_has_painted(qtbot, location, clock):
    gc.disable()
    try:
        window = show_main_window(location, clock)
        qtbot.addWidget(window)
        assert not gc.isenabled()
        qtbot.waitUntil(lambda: window.sign_in_dialog is not None)  # painted, store open
        assert window.findChild(FirstPaint).painted and gc.isenabled()
    finally:
        gc.enable()


def test_started_as_an_app_no_gui_module_goes_through_pysides_import_hook(tmp_path):
    """PySide's hook reads each module's source with inspect.getsource (it found 50 or so
    GUI modules before the first paint); the GUI is imported around it."""
    code = (f"import inspect, os; os.environ.update({_first_paint_env(tmp_path)!r}); "
            "read = inspect.getsource; seen = []; "
            "inspect.getsource = lambda o: seen.append(getattr(o, '__name__', '')) or read(o); "
            "from advice_desk.__main__ import main; "
            f"main(['--data-dir', {str(tmp_path / 'data')!r}]); "
            "print('read', *sorted(n for n in seen if n.startswith('advice_desk')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.splitlines()[-1] == "read"


def test_the_gui_is_imported_with_pythons_own_import_and_pysides_is_put_back():
    code = ("import builtins; from advice_desk.gui.plain_import import python_import; "
            "plain = builtins.__import__\n"
            "with python_import(): inside = builtins.__import__\n"
            "import PySide6.QtCore; print(inside is plain, builtins.__import__ is not plain)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.split() == ["True", "True"]


class PaintWatch(QObject):
    """Whether the store thread was at work when each paint of ``window`` began."""

    def __init__(self, window: QWidget) -> None:
        super().__init__()
        self.window, self.busy_at_paint = window, []

    def eventFilter(self, watched, event) -> bool:
        if (event.type() == QEvent.Type.Paint and isinstance(watched, QWidget)
                and watched.window() is self.window):
            self.busy_at_paint.append(self.window.tasks.busy)
        return False


def test_the_store_opens_only_once_the_window_has_painted(qtbot, location, clock):
    window = show_main_window(location, clock)
    qtbot.addWidget(window)
    watch = PaintWatch(window)
    QApplication.instance().installEventFilter(watch)
    try:
        qtbot.waitUntil(lambda: window.sign_in_dialog is not None)  # the store has opened
    finally:
        QApplication.instance().removeEventFilter(watch)
    assert watch.busy_at_paint[0] is False
    assert window.findChild(FirstPaint).painted
    assert window.line_status is not None and window.line_status.text()
    assert window.form.ui.hours_label.text() in ("In hours", "Out of hours")


def test_the_wheel_guard_comes_after_the_paint_and_still_guards_the_form(qtbot, location, clock):
    window = show_main_window(location, clock)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None)
    for combo in (window.form.ui.arrangement_combo, window.form.ui.children_spin,
                  window.ui.period_combo):
        assert combo.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel gives no focus
