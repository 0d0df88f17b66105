"""A demo import of 20,000 calls in another process (the command line, on the same PC) while
the window is open: its commits fold into a few refreshes, the window keeps answering, and the
total is right once the import is over."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QTimer

from advice_desk.people.permissions import Role
from tests.factories import store_options
from tests.gui_support import open_window


@pytest.mark.slow
def test_an_import_of_20000_calls_elsewhere_does_not_freeze_the_window(qtbot, location, clock):
    window = open_window(qtbot, location, clock, "sam", Role.SUPERVISOR)
    refreshes: list[float] = []
    window.history.refreshed.connect(lambda: refreshes.append(time.monotonic()))
    ticks = [time.monotonic()]
    timer = QTimer(interval=20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    demo = subprocess.Popen([sys.executable, "-m", "advice_desk", *store_options(location),
                             "demo", "--calls", "20000", "--days", "3"])
    try:
        qtbot.waitUntil(lambda: demo.poll() is not None, timeout=300_000)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0
    qtbot.waitUntil(lambda: window.ui.history_total.text() == "20,000 calls", timeout=3_000)
    # the total is counted apart from the rows: the last refresh of the rows may land after it
    qtbot.waitUntil(lambda: not window.history.refreshing, timeout=3_000)
    timer.stop()
    stall = max(b - a for a, b in itertools.pairwise(ticks))
    print(f"\n20,000 calls imported elsewhere: {len(refreshes)} refreshes, "
          f"worst pause of the window {stall * 1000:.0f} ms")
    assert 1 <= len(refreshes) <= 10
    assert stall < 2.0  # a repaint or two of the table, never the import's length
    assert window.history.rowCount() == 200  # the first page, not 20,000 rows
