"""The export key (PRODUCT §8): made readable by its owner alone in one step, and refused while
other accounts may read it."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from advice_desk.cli.main import main
from advice_desk.paths import Location
from advice_desk.reports.extract import ExportKeyError, load_secret
from advice_desk.store.engine import Store
from tests.factories import store_options

opens: list[tuple[str, int]] = []
watched: list[Path] = []


def _record(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and watched and str(args[0]) == str(watched[0]):
        flags = args[2]
        opens.append((str(args[1]), flags if isinstance(flags, int) else 0))


sys.addaudithook(_record)  # stays for the process: records only while a test watches a path


@pytest.fixture
def key_opens(tmp_path: Path) -> Iterator[Path]:
    key = tmp_path / "config" / "export-key"
    watched.append(key)
    opens.clear()
    yield key
    watched.clear()


def test_a_new_key_is_created_private_in_one_step(key_opens: Path) -> None:
    secret = load_secret(key_opens)
    assert len(secret) == 32
    assert stat.S_IMODE(key_opens.stat().st_mode) == 0o600
    creating = [flags for _, flags in opens if flags & os.O_CREAT]
    assert creating and all(flags & os.O_EXCL for flags in creating)  # never written, then narrowed
    assert load_secret(key_opens) == secret  # the same key next time


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's")
def test_a_key_others_may_read_is_refused_with_the_chmod_to_run(tmp_path: Path) -> None:
    key = tmp_path / "export-key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o644)
    with pytest.raises(ExportKeyError) as caught:
        load_secret(key)
    assert str(caught.value) == (
        f"the export key {key} may be read by other accounts on this PC (mode 0644), so it "
        f"is not used; make it yours alone with: chmod 600 {key}")
    key.chmod(0o600)
    assert load_secret(key) == b"k" * 32


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's")
def test_the_export_command_refuses_a_loose_key_in_one_line(
        store: Store, location: Location, config_folder: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    key = config_folder / "export-key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o640)
    out = tmp_path / "out"
    out.mkdir()
    assert main([*store_options(location), "export", "--from", "2026-09-01", "--to",
                 "2026-11-23", "--out", str(out), "--rows"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"chmod 600 {key}" in err
    assert list(out.iterdir()) == []
