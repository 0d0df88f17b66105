"""``export --out DIR`` makes DIR (and its parents) when it does not exist yet, and a failed
or cancelled export leaves no folder of its own behind."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from advice_desk.cli.main import main
from advice_desk.reports.funder_export import (
    DICTIONARY_FILE,
    ROWS_FILE,
    SUMMARY_FILE,
    ExportCancelled,
    ExportChoices,
    FunderExport,
    made_folder,
)
from tests.support import SUPERVISOR

FILES = sorted([SUMMARY_FILE, DICTIONARY_FILE, ROWS_FILE])


def test_the_export_command_makes_the_folder_and_its_parents(tmp_path: Path, cli_location,
                                                             capsys) -> None:
    out = tmp_path / "funders" / "2026" / "Q1"
    code = main([*cli_location, "export", "--from", "2026-01-01", "--to", "2026-03-31",
                 "--out", str(out), "--rows"])
    assert (code, capsys.readouterr().err) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == FILES
    # Again into the folder that is there now: the files are replaced, nothing else changes.
    assert main([*cli_location, "export", "--from", "2026-01-01", "--to", "2026-03-31",
                 "--out", str(out), "--rows"]) == 0
    assert sorted(p.name for p in out.iterdir()) == FILES


def test_a_folder_that_cannot_be_made_is_a_one_line_error(tmp_path: Path, cli_location,
                                                          location, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for out in (blocker, blocker / "inside"):
        assert main([*cli_location, "export", "--from", "2026-01-01", "--to", "2026-03-31",
                     "--out", str(out)]) != 0
        err = capsys.readouterr().err
        assert err.startswith("advice-desk: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
    assert blocker.read_text() == "not a folder"
    store_folder = [] if location.sqlite_file is None else ["data"]  # the SQLite file's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", *store_folder]


def test_a_failed_export_removes_the_folders_it_made_and_only_those(tmp_path: Path) -> None:
    there = tmp_path / "there"
    there.mkdir()
    with pytest.raises(OSError, match="disk full"), made_folder(there / "new" / "deeper"):
        assert (there / "new" / "deeper").is_dir()
        raise OSError("disk full")
    assert list(there.iterdir()) == []  # both folders made for it are gone, "there" stays
    with pytest.raises(OSError), made_folder(there):
        raise OSError("disk full")
    assert there.is_dir()  # a folder that was there before is never removed
    # A folder made for the export that someone filled meanwhile stays, with what is in it.
    with pytest.raises(OSError), made_folder(there / "new"):
        (there / "new" / "theirs.txt").write_text("kept")
        raise OSError("disk full")
    assert (there / "new" / "theirs.txt").read_text() == "kept"


def test_a_cancelled_export_makes_no_folder(store, clock, tmp_path: Path) -> None:
    out = tmp_path / "new" / "export"
    with pytest.raises(ExportCancelled):
        FunderExport(store, SUPERVISOR, clock).write(
            date(2026, 9, 1), date(2026, 11, 23), out, ExportChoices(), cancelled=lambda: True)
    assert not (tmp_path / "new").exists()
    result = FunderExport(store, SUPERVISOR, clock).write(
        date(2026, 9, 1), date(2026, 11, 23), out, ExportChoices())
    assert sorted(p.name for p in out.iterdir()) == [DICTIONARY_FILE, SUMMARY_FILE]
    assert result.files[0].parent == out
