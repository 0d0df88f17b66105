"""``advice-desk --smoke``, the installation check `make package` runs on the built program:
here on the unfrozen app, in a process of its own, as an IT helper would run it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advice_desk.demo.synthetic import add_demo_calls
from advice_desk.people.accounts import Users
from tests.factories import first_supervisor, opened_store

# The two entry points: advice-desk, and advice-desk-gui (the same options), as installed.
ADVICE_DESK = [sys.executable, "-m", "advice_desk"]
ADVICE_DESK_GUI = [sys.executable, "-c", "import sys; from importlib.metadata import entry_points;"
                   " sys.exit(entry_points(group='gui_scripts')['advice-desk-gui'].load()())"]


def smoke(data_dir: Path, program: list[str] = ADVICE_DESK) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([*program, "--data-dir", str(data_dir), "--smoke"],
                          capture_output=True, text=True, env=env, timeout=120)


def everything_in(*folders: Path) -> dict[str, str]:
    """Each file under ``folders`` with a hash of its bytes; not SQLite's shared-memory index
    nor an empty write-ahead log, which reading the store (to copy it) may leave."""
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
            for folder in folders for path in sorted(folder.rglob("*")) if path.is_file()
            and not path.name.endswith("-shm")
            and not (path.name.endswith("-wal") and path.stat().st_size == 0)}


@pytest.mark.slow
def test_smoke_signs_in_shows_the_calls_and_leaves_the_store_and_settings_as_they_were(
        tmp_path, clock, config_folder):
    data = tmp_path / "data"
    with opened_store(data, clock) as store:
        sam = first_supervisor(store, clock)  # so it cannot sign in as the first supervisor
        add_demo_calls(store, 120, clock, parallel=False)
    before = everything_in(data, config_folder)
    assert any(name.endswith("audit-key") for name in before)  # sam's events are chained

    result = smoke(data)

    assert result.returncode == 0, result.stderr
    assert "the history showed 120 calls (the store holds 120)" in result.stdout
    assert "the call form took a key" in result.stdout
    assert everything_in(data, config_folder) == before
    with opened_store(data, clock) as store:
        assert [a.username for a in Users(store, sam, clock).accounts()
                if a.role.value == "supervisor"] == ["sam"]


@pytest.mark.parametrize("program", [ADVICE_DESK, ADVICE_DESK_GUI],
                         ids=["advice-desk", "advice-desk-gui"])
def test_smoke_without_a_store_says_so_and_fails(tmp_path, program):
    result = smoke(tmp_path / "nothing-here", program)

    assert result.returncode == 1
    assert "there is no store at" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "nothing-here").exists()
