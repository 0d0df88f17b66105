"""Issue 13's "done when": two real windows on two seats — two app processes, each with its own
data folder and config, on one X display (Xvfb, started here; offscreen where Xvfb is not
installed) against the session's PostgreSQL server — see each other's calls in their histories
within 3 seconds. Ten saves, alternating seats; the median time from a save's commit on one seat
to the row in the other's history is printed (``-s`` shows it), and both windows are grabbed to
PNG (in ``ADVICE_DESK_SHOTS`` if set, else this test's tmp_path) to be looked at."""

from __future__ import annotations

import os
import queue
import shutil
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from advice_desk.paths import resolve_location
from advice_desk.people.permissions import Role
from tests.factories import PASSWORD
from tests.gui_support import make_account

ROOT = Path(__file__).resolve().parent.parent
WITHIN_S = 3.0
SAVES = 10


class SeatProcess:
    """A running tests/live_seat.py: its output lines, read on a thread of their own."""

    def __init__(self, name: str, env: dict[str, str], args: list[str]) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.live_seat", *args], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: dict[int, float] = {}
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip())
            self.lines.put(line.rstrip())

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def expect(self, verb: str, timeout: float = 60.0) -> list[str]:
        """The words of the next line starting with ``verb`` (``seen`` lines noted meanwhile)."""
        while True:
            try:
                words = self.lines.get(timeout=timeout).split()
            except queue.Empty:
                raise AssertionError(f"seat {self.name} never said {verb!r}: "
                                     + "\n".join(self.output[-30:])) from None
            if words and words[0] == "seen":
                self.seen[int(words[1])] = float(words[2])
            if words and words[0] == verb:
                return words[1:]

    def seen_at(self, call_id: int, timeout: float) -> float:
        while call_id not in self.seen:
            self.expect("seen", timeout)
        return self.seen[call_id]

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("quit")
                self.process.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


@pytest.fixture
def display() -> Iterator[dict[str, str]]:
    """An X display of its own (Xvfb), or Qt's offscreen platform where Xvfb is missing."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        yield {"QT_QPA_PLATFORM": "offscreen"}
        return
    read, write = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", "1920x1080x24",
                               "-nolisten", "tcp"], pass_fds=(write,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as answer:
        number = answer.readline().strip()
    try:
        yield {"DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"}
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.slow
def test_two_app_processes_see_each_others_calls(postgres_url, tmp_path, clock, display,
                                                config_folder):
    location = resolve_location(tmp_path / "server-data", postgres_url)
    make_account(location, clock, "sam", Role.SUPERVISOR)
    make_account(location, clock, "sue", Role.SUPERVISOR)
    shots = Path(os.environ.get("ADVICE_DESK_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    seats: dict[str, SeatProcess] = {}
    try:
        for name in ("sam", "sue"):
            env = {key: value for key, value in os.environ.items()
                   if key not in ("QT_QPA_PLATFORM", "DISPLAY")}
            # Each PC's own config folder, with the store's audit key copied in (as the README
            # tells the IT helper to do for every PC).
            config = shutil.copytree(config_folder, tmp_path / f"config-{name}")
            env |= {**display, "ADVICE_DESK_CONFIG_DIR": str(config)}
            seats[name] = SeatProcess(name, env, [
                "--data-dir", str(tmp_path / f"pc-{name}"), "--database-url", postgres_url,
                "--user", name])
            seats[name].send(PASSWORD)
        for seat in seats.values():
            seat.expect("ready")
        for seat in seats.values():
            while seat.expect("seats") != ["2", "seats", "signed", "in"]:
                pass
        delays = []
        for turn in range(SAVES):
            saver, watcher = (seats["sam"], seats["sue"])[::1 if turn % 2 == 0 else -1]
            saver.send(f"save call {turn + 1} from {saver.name}")
            call_id, committed = saver.expect("saved")
            shown = watcher.seen_at(int(call_id), timeout=WITHIN_S + 2)
            delays.append(shown - float(committed))
        for name, seat in seats.items():
            seat.send(f"shot {shots / f'seat-{name}.png'}")
            seat.expect("shot")
        median = statistics.median(delays)
        print(f"\nlive desks ({display['QT_QPA_PLATFORM']}): save on one seat to the row on "
              f"the other, median {median * 1000:.0f} ms, worst {max(delays) * 1000:.0f} ms "
              f"of {SAVES}; screenshots in {shots}")
        assert max(delays) < WITHIN_S, delays
    finally:
        for seat in seats.values():
            seat.stop()
    for name in seats:
        assert (shots / f"seat-{name}.png").stat().st_size > 10_000
