"""Opening the store in the window: a damaged store, a failed daily check and loose file modes
are said in words, and a store that cannot be used closes the form so that nobody types a call
that could not be saved. Real damaged files, real widgets offscreen."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QMessageBox

from advice_desk.gui.main_window import MainWindow
from advice_desk.store import integrity
from tests.gui_support import make_account, sign_in_with_keyboard
from tests.test_opening import AS_NOBODY, backups, break_an_index, damage, fill, store_file


def started(qtbot, location, clock) -> MainWindow:
    window = MainWindow(location, clock)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    with qtbot.waitActive(window):
        window.show()
    window.open_store()
    return window


def shown_box(qtbot, window: MainWindow, title: str) -> QMessageBox:
    qtbot.waitUntil(lambda: window.opening.failure is not None
                    and window.opening.failure.isVisible())
    box = window.opening.failure
    assert box is not None and box.accessibleName() == title
    on_screen = QRect(0, 0, 1366, 768)
    assert on_screen.contains(box.frameGeometry()), box.frameGeometry()
    return box


def test_a_damaged_store_stops_the_desk_naming_the_backup(qtbot, location, clock):
    fill(location, clock, calls=200)
    good, _ = backups(location, store_file(location), damaged_newest=True)
    damage(store_file(location), seed=3)

    window = started(qtbot, location, clock)
    box = shown_box(qtbot, window, "Advice Desk cannot open its store")
    assert box.text().startswith(f"The store {store_file(location)} is damaged")
    assert f"advice-desk restore {good}" in box.text()
    assert window.statusBar().currentMessage() == (
        "The store could not be opened: calls cannot be saved.")
    assert not window.form.isEnabled()  # nothing is typed that could not be saved
    assert not window.save_action.isEnabled()
    assert window.sign_in_dialog is None


def test_a_failed_daily_check_stops_the_desk_even_after_signing_in(qtbot, location, clock):
    fill(location, clock, calls=50)
    make_account(location, clock)
    break_an_index(store_file(location))  # only the full check sees it

    window = started(qtbot, location, clock)
    box = shown_box(qtbot, window, "Advice Desk found its store damaged")
    assert "ix_call_follow_up_on" in box.text()
    assert "there is no good backup" in box.text()
    assert window.statusBar().currentMessage() == "The store is damaged: calls cannot be saved."
    assert not window.form.isEnabled()
    box.accept()
    dialog = window.sign_in_dialog
    assert dialog is not None
    dialog.activateWindow()
    dialog.ui.username_edit.setFocus()
    sign_in_with_keyboard(qtbot, window, "amy")  # the sign-in was already on screen
    qtbot.waitUntil(lambda: window.sign_in_dialog is None and not window.tasks.busy)
    assert not window.save_action.isEnabled()
    assert not window.form.isEnabled()
    assert integrity.last_full_check(location) is None


def test_the_daily_check_runs_in_the_background_and_is_remembered(qtbot, location, clock):
    make_account(location, clock)
    window = started(qtbot, location, clock)
    qtbot.waitUntil(lambda: integrity.last_full_check(location) is not None)
    assert window.opening.failure is None
    assert window.form.isEnabled()
    assert not integrity.full_check_due(location, clock)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's")
def test_loose_modes_are_tightened_and_said_in_the_status_bar(qtbot, location, clock):
    make_account(location, clock)
    location.data_dir.chmod(0o755)
    store_file(location).chmod(0o644)

    window = started(qtbot, location, clock)
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None)
    assert window.statusBar().currentMessage() == (
        "The store's files could be read by other accounts on this PC; they are now readable "
        "by this account alone. Sign in to log calls.")
    assert stat.S_IMODE(store_file(location).stat().st_mode) == 0o600


READ_ONLY_WINDOW = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from datetime import datetime
    from PySide6.QtWidgets import QApplication
    from advice_desk.clock import UK, FixedClock
    from advice_desk.gui.main_window import MainWindow
    from advice_desk.paths import resolve_location

    app = QApplication([])
    window = MainWindow(resolve_location(sys.argv[1]),
                        FixedClock(datetime(2026, 11, 23, 10, 15, tzinfo=UK)))
    window.show()
    window.open_store()
    while window.opening.failure is None and window.opening.dialog is None:
        app.processEvents()
    box = window.opening.failure
    print(window.statusBar().currentMessage())
    print(box.text() if box is not None else "no message")
    print("form enabled" if window.form.isEnabled() else "form closed")
    window.close()
""")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's")
def test_a_read_only_store_is_said_in_words_and_closes_the_form(clock):
    """The window as ``nobody`` (root ignores file modes), in a child process."""
    folder = Path(tempfile.mkdtemp(prefix="advice-desk-gui-ro-"))
    try:
        folder.chmod(0o755)
        from advice_desk.paths import resolve_location

        location = resolve_location(folder / "data")
        fill(location, clock, calls=5)
        if AS_NOBODY:
            for item in [folder, *folder.rglob("*")]:
                os.chown(item, 65534, 65534)
        store_file(location).chmod(0o400)
        env = {**os.environ, "HOME": str(folder), "XDG_RUNTIME_DIR": str(folder),
               "ADVICE_DESK_CONFIG_DIR": str(folder / "config")}
        done = subprocess.run([*AS_NOBODY, sys.executable, "-c", READ_ONLY_WINDOW,
                               str(location.data_dir)], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        status, text, form = done.stdout.splitlines()
        assert status == "The store is read-only for this account: calls cannot be saved."
        assert text.startswith(f"The store {store_file(location)} is read-only for this account")
        assert "ask whoever looks after this PC to give this account write access" in text
        assert form == "form closed"
    finally:
        import shutil

        shutil.rmtree(folder)


def test_the_daily_check_runs_again_while_the_app_stays_open(qtbot, location, clock):
    """An app left running for days: the check is looked at hourly, and runs once due."""
    from datetime import timedelta

    fill(location, clock, calls=20)
    make_account(location, clock)
    window = started(qtbot, location, clock)
    qtbot.waitUntil(lambda: integrity.last_full_check(location) == clock.now())
    timer = window.opening.check_timer
    assert timer.isActive() and timer.interval() <= 3600 * 1000
    timer.timeout.emit()  # an hour on: not due, nothing runs
    qtbot.waitUntil(lambda: not window.opening.checks.busy)
    assert integrity.last_full_check(location) == clock.now()

    clock.advance(timedelta(days=1, hours=1))
    break_an_index(store_file(location))  # damage that only the full check sees
    timer.timeout.emit()
    box = shown_box(qtbot, window, "Advice Desk found its store damaged")
    assert "ix_call_follow_up_on" in box.text()
    assert not window.form.isEnabled()
