"""The command line against a database server: the same answers as on SQLite, several
processes at once, and no password ever on a command line or in a message."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from advice_desk.cli.common import EXIT_BAD_INPUT, EXIT_OK
from advice_desk.cli.main import main
from advice_desk.paths import DATABASE_URL_ENV, resolve_location

HEADER = ("started_at,duration_minutes,caller_type,arrangement,local_authority,topics,outcomes,"
          "consent,caller_name,caller_phone,follow_up_on,safeguarding,children_age_bands")
CALLER_TYPES = ("grandparent", "sibling", "aunt-uncle", "family-friend", "professional-education")
ARRANGEMENTS = ("sgo", "cao", "kinship-foster", "informal")
AUTHORITIES = ("Leeds", "E08000035", "Cardiff", "Kent", "E09000033", "")
TOPICS = ("financial.allowances", "education.virtual-school;legal.sgo", "Family relationships",
          "legal.care-proceedings;financial.benefits", "practical.housing")
OUTCOMES = ("advice", "information;signposted", "referred:Virtual School", "callback-arranged")
SECRET = "s3cret-Pa55"


def spreadsheet(rows: int, seed: int) -> str:
    """A caller log as a spreadsheet would hold it: a quarter of calls, every kind of field."""
    pick = random.Random(seed).choice
    lines = [HEADER]
    for n in range(rows):
        month, day, minute = 7 + n % 3, 1 + n % 28, 10 + n % 40
        consent = pick(("yes", "no"))
        name, phone = (f"Caller {n}", f"07700 9{n:05d}") if consent == "yes" else ("", "")
        lines.append(",".join([
            f"2026-{month:02d}-{day:02d} 1{n % 4}:{minute:02d}", str(3 + n % 37),
            pick(CALLER_TYPES), pick(ARRANGEMENTS), pick(AUTHORITIES), pick(TOPICS),
            pick(OUTCOMES), consent, name, phone,
            f"2026-{month:02d}-{min(day + 7, 28):02d}" if n % 5 == 0 else "",
            "yes" if n % 11 == 0 else "no", pick(("0-4", "5-10;11-15", "16-17", ""))]))
    return "\n".join(lines) + "\n"


def cli(*argv: str | Path) -> None:
    assert main([str(arg) for arg in argv]) == EXIT_OK


def test_an_import_gives_the_same_figures_on_sqlite_and_on_a_server(
        tmp_path: Path, postgres_url: str) -> None:
    sheet = tmp_path / "calls.csv"
    sheet.write_text(spreadsheet(120, seed=9), encoding="utf-8")
    outputs = {}
    for name, store in (("sqlite", ["--data-dir", tmp_path / "sqlite"]),
                        ("server", ["--data-dir", tmp_path / "server",
                                    "--database-url", postgres_url])):
        out = tmp_path / f"out-{name}"
        out.mkdir()
        cli("import", sheet, *store)
        cli("report", "--from", "2026-07-01", "--to", "2026-09-30", "--format", "json",
            "--out", out / "report.json", *store)
        cli("export", "--from", "2026-07-01", "--to", "2026-09-30", "--out", out, *store)
        outputs[name] = {file: (out / file).read_bytes() for file in ("report.json",
                                                                      "summary.csv")}
    assert outputs["sqlite"] == outputs["server"]
    assert b'"total_calls": 120' in outputs["server"]["report.json"]
    assert not (tmp_path / "server" / "advice-desk.sqlite3").exists()  # all on the server


def _import_in_a_process(sheet: Path, url: str, data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "advice_desk", "import", str(sheet), "--data-dir", str(data_dir)],
        env={**os.environ, DATABASE_URL_ENV: url}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def test_two_imports_at_once_both_land_on_a_server(tmp_path: Path, postgres_url: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sheets = []
    for seed in (1, 2):
        sheets.append(tmp_path / f"log-{seed}.csv")
        sheets[-1].write_text(spreadsheet(400, seed), encoding="utf-8")
    imports = [_import_in_a_process(sheet, postgres_url, tmp_path) for sheet in sheets]
    results = [process.communicate(timeout=240) for process in imports]
    for process, (out, err) in zip(imports, results, strict=True):
        assert process.returncode == 0, err
        assert out == f"Imported 400 calls from {sheets[imports.index(process)]}\n"

    cli("report", "--from", "2026-07-01", "--to", "2026-09-30", "--format", "json",
        "--data-dir", tmp_path, "--database-url", postgres_url)
    assert '"total_calls": 800' in capsys.readouterr().out


def test_demo_and_retention_run_against_a_server(tmp_path: Path, postgres_url: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--data-dir", tmp_path, "--database-url", postgres_url]
    cli("demo", "--calls", "300", "--days", "30", *store)
    added = capsys.readouterr().out
    assert added.startswith("Added 300 calls to postgresql+psycopg://postgres@/")
    cli("retention", "--dry-run", *store)
    assert capsys.readouterr().out.startswith("Would erase the personal details of 0 calls")


@pytest.mark.parametrize("url", [
    f"postgresql+psycopg://amy:{SECRET}@db.example.org/advice",
    f"postgresql+psycopg://amy@db.example.org/advice?password={SECRET}&sslmode=require",
])
def test_a_url_with_a_password_is_refused_without_showing_it(
        url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["report", "--date", "2026-11-23", "--data-dir", str(tmp_path),
                 "--database-url", url]) == EXIT_BAD_INPUT
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    assert main(["hours", "--data-dir", str(tmp_path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert SECRET not in err
    assert err.count(".pgpass file (named by PGPASSFILE, mode 0600)") == 2
    assert err.count("***") == 2
    assert not list(tmp_path.iterdir())  # nothing was opened or created


def test_a_store_is_named_without_its_password() -> None:
    plain = resolve_location("/tmp/x", "postgresql+psycopg://amy@db/advice?sslmode=verify-full")
    assert not plain.url_has_password
    assert plain.shown == "postgresql+psycopg://amy@db/advice?sslmode=verify-full"
    secret = resolve_location("/tmp/x", f"postgresql+psycopg://amy:{SECRET}@db:5432/advice")
    assert secret.url_has_password
    assert secret.shown == "postgresql+psycopg://amy:***@db:5432/advice"
    assert resolve_location("/tmp/x").shown == "/tmp/x/advice-desk.sqlite3"
