"""One desk per store and PC: real copies of the app, started as the user starts them
(offscreen, each with --data-dir), find each other through the lock file and the local socket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from advice_desk.gui.single_instance import LOCK_FILE

START = "import sys; from advice_desk.__main__ import main; sys.exit(main())"


class Copy:
    """A copy of the app running in its own process; what it writes to stderr, as it comes."""

    def __init__(self, data_dir: Path) -> None:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", START, "--data-dir", str(data_dir)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def said(self) -> str:
        return "".join(self.lines)

    def finished(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        return code

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(how)
        self.process.wait(timeout=60)


@pytest.fixture
def copies():
    started: list[Copy] = []

    def start(data_dir: Path) -> Copy:
        started.append(Copy(data_dir))
        return started[-1]

    yield start
    for copy in started:
        copy.stop(signal.SIGKILL)


def holder(data_dir: Path) -> int | None:
    """The process id written in the store's lock file (QLockFile's first line), if any."""
    try:
        return int((data_dir / LOCK_FILE).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def first_copy(qtbot, start, data_dir: Path) -> Copy:
    """A copy that has the store: it holds the lock (and listens right after taking it)."""
    copy = start(data_dir)
    qtbot.waitUntil(lambda: holder(data_dir) == copy.process.pid
                    or copy.process.poll() is not None, timeout=60_000)
    assert copy.process.poll() is None, copy.said
    return copy


def test_a_second_copy_on_the_same_store_brings_the_first_forward(qtbot, tmp_path, copies):
    data_dir = tmp_path / "data"
    first = first_copy(qtbot, copies, data_dir)

    second = copies(data_dir)
    assert second.finished(timeout=60) == 0, second.said
    assert "already open on this store" in second.said
    qtbot.waitUntil(lambda: "showing this window" in first.said, timeout=30_000)
    assert first.process.poll() is None  # the first desk stays open, the only one

    # Another store on the same PC is another desk: its copy opens and stays.
    elsewhere = first_copy(qtbot, copies, tmp_path / "other")
    assert elsewhere.process.poll() is None and "showing" not in elsewhere.said


def test_a_copy_that_crashed_leaves_no_claim_on_the_store(qtbot, tmp_path, copies):
    data_dir = tmp_path / "data"
    crashed = first_copy(qtbot, copies, data_dir)
    crashed.stop(signal.SIGKILL)  # no clean-up: the lock file and the socket stay behind
    assert (data_dir / LOCK_FILE).exists()

    again = first_copy(qtbot, copies, data_dir)  # the dead copy's lock is stale: taken over
    later = copies(data_dir)
    assert later.finished(timeout=60) == 0, later.said
    qtbot.waitUntil(lambda: "showing this window" in again.said, timeout=30_000)
