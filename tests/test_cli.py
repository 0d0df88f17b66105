"""The command line as supervisors script it: exit codes, one-line errors, output on stdout."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from advice_desk import __main__ as entry_point
from advice_desk.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from advice_desk.cli.main import main
from advice_desk.paths import DATABASE_FILE, Location
from tests.factories import opened_store

HEADER = "started_at,caller_type,arrangement,topics,outcomes"


def _csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "calls.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _count_calls(location: Location) -> int:
    with opened_store(location) as store, store.engine.connect() as connection:
        return connection.exec_driver_sql("SELECT count(*) FROM call").scalar_one()


def test_the_command_line_loads_no_database_code_until_a_command_runs() -> None:
    """``--version`` and ``--help`` stay instant: SQLAlchemy is imported by commands only."""
    script = ("import sys, advice_desk.__main__; "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in "
              "('sqlalchemy', 'sqlmodel', 'alembic', 'holidays')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("argv, store", [
    ([], (None, None)),
    (["--data-dir", "/d"], ("/d", None)),
    (["--data-dir=/d", "--database-url", "postgresql://h/x"], ("/d", "postgresql://h/x")),
    (["--data-dir"], None), (["--data-dir", "--smoke"], None), (["--smoke"], None),
    (["--data-dir", "/d", "--data-dir", "/e"], None), (["report", "--day", "2026-01-01"], None),
    (["--version"], None)])
def test_a_command_line_of_store_options_alone_is_told_apart(argv, store) -> None:
    """What starts the app without the command line's parser (that its modules then stay
    unloaded before the first paint, tests/test_gui_startup.py checks); anything else goes
    to the command line."""
    assert entry_point._store_options_only(argv) == store


def test_demo_fills_the_store(cli_location: list[str], location: Location,
                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", *cli_location, "--calls", "300", "--seed", "4", "--days", "30"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK
    assert err == ""
    assert re.fullmatch(rf"Added 300 calls to {re.escape(location.shown)} in \d+\.\d s\n", out)
    assert _count_calls(location) == 300


@pytest.mark.parametrize(("arguments", "message"), [
    (["--calls", "0"], "argument --calls: '0' must be 1 or more"),
    (["--calls", "many"], "argument --calls: 'many' is not a whole number"),
    (["--calls", "5", "--days", "-3"], "argument --days: '-3' must be 1 or more"),
    ([], "the following arguments are required: --calls"),
])
def test_demo_refuses_bad_numbers(cli_location: list[str], capsys: pytest.CaptureFixture[str],
                                  arguments: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*cli_location, "demo", *arguments])
    assert exited.value.code == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


def test_import_reports_how_many_calls_it_imported(tmp_path: Path, cli_location: list[str],
                                                   location: Location,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, "2026-03-02 10:15,Grandparent,SGO,legal,advice",
                "2026-03-03 11:40,aunt-uncle,informal,Education,information")
    code = entry_point.main([*cli_location, "import", str(path)])
    out, err = capsys.readouterr()
    assert (code, out, err) == (EXIT_OK, f"Imported 2 calls from {path}\n", "")
    assert _count_calls(location) == 2


def test_a_bad_import_lists_every_problem_and_imports_nothing(
        tmp_path: Path, cli_location: list[str], location: Location,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, "2026-03-02 10:15,grandparent,sgo,legal,advice",
                "2026-03-29 01:30,grandparent,sgo,legal,advice",
                "2026-03-03 11:40,cousin,informal,legal,")
    code = main([*cli_location, "import", str(path)])
    out, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert err.splitlines() == [
        f"advice-desk: error: {path}: 3 errors; nothing was imported",
        "row 3, column started_at: 2026-03-29 01:30 did not happen in the UK: the clocks "
        "went forward an hour that night",
        "row 4, column caller_type: unknown code 'cousin'",
        "row 4, column outcomes: choose at least one outcome",
    ]
    assert _count_calls(location) == 0


def test_an_unreadable_file_is_one_line_and_creates_no_store(
        tmp_path: Path, cli_location: list[str], location: Location,
        capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.csv"
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(f"{HEADER}\n2026-03-02 10:15,grandparent,sgo,legal,Zoë\n"
                       .encode("latin-1"))
    for path, reason in ((missing, "cannot read it: No such file or directory"),
                         (latin1, "is not UTF-8 text; in Excel, save it as 'CSV UTF-8'\n"
                                  "row 2, column outcomes: is not UTF-8 text (a byte 0xEB)")):
        assert main([*cli_location, "import", str(path)]) == EXIT_BAD_INPUT
        assert capsys.readouterr().err == f"advice-desk: error: {path}: {reason}\n"
    assert not location.data_dir.exists()


def test_import_for_a_user_who_does_not_exist_is_refused(
        tmp_path: Path, cli_location: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, "2026-03-02 10:15,grandparent,sgo,legal,advice")
    code = main([*cli_location, "import", str(path), "--worker", "bob"])
    assert code == EXIT_BAD_INPUT
    assert capsys.readouterr().err == (
        f"advice-desk: error: {path}: there is no user 'bob' to import the calls for\n")


@pytest.mark.sqlite_only("a damaged SQLite file, or a file in place of its data folder")
@pytest.mark.parametrize("broken", ["not a database", "a file for a folder"])
def test_a_store_that_cannot_be_opened_is_a_failure_not_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str) -> None:
    data_dir = tmp_path / "data"
    if broken == "not a database":
        data_dir.mkdir()
        (data_dir / DATABASE_FILE).write_bytes(b"this is not a database" * 100)
    else:
        data_dir.write_text("a file, not a folder")
    code = main(["--data-dir", str(data_dir), "demo", "--calls", "10"])
    err = capsys.readouterr().err
    assert code == EXIT_FAILED
    assert err.startswith("advice-desk: error: cannot open the store ")
    assert err.count("\n") == 1
