"""Our CSV files as a spreadsheet reads them: LibreOffice Calc (headless) opens summary.csv,
calls.csv and the report's CSV, guessing types as a person's Calc does, and every cell must
come back as the text we wrote (a count may come back as the number it is).

The import guesses the most it can ("detect special numbers": dates, times, percentages,
scientific notation), in a UK and a US locale. ``make test`` installs LibreOffice
(``libreoffice-calc-nogui``) where it can; without it these tests are skipped, saying so.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from advice_desk.calls.service import Calls
from advice_desk.calls.topics import Topics
from advice_desk.clock import FixedClock
from advice_desk.demo.synthetic import add_demo_calls
from advice_desk.reports import output as report_output
from advice_desk.reports.compute import Reports
from advice_desk.reports.extract import (
    CHILDREN_BANDS,
    CHILDREN_FEW,
    CHILDREN_SOME,
    DURATION_BANDS,
    DURATION_MERGED,
)
from advice_desk.reports.funder_export import ROWS_FILE, SUMMARY_FILE, ExportChoices, FunderExport
from tests.factories import a_call, a_worker, first_supervisor, opened_store, uk

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice (soffice) is not installed: `make test` installs libreoffice-calc-nogui "
           "with apt-get when it runs as root, and that install failed or could not run here")

# LibreOffice's language codes: the locale decides what reads as a date (1/2 is 1 February in
# the UK, 2 January in the US) and how a time is shown.
LOCALES = {"en-GB": 2057, "en-US": 1033}
REPORT_FILE = "report.csv"
PROBES_FILE = "probes.csv"
# Texts a spreadsheet may take for something else, and texts it must not: each is checked
# against what LibreOffice makes of it (test_the_guard_knows_what_a_spreadsheet_misreads).
PROBES = ("3+", "3-", "09:30", "9:30 pm", "10:00:00", "1-2", "1/2", "1/2/2025", "2025-01-15",
          "15 Jan 2025", "Jan 2025", "1 Jan", "January 15", "0", "7", "1.5", "-3", "(3)", "1E5",
          "12,345", "50%", "£5", "$5", "1 1/2", "TRUE", "false", "True",
          "3 or more", "no children", "1 child", "2 children", "09:30-10:00", "23:30-24:00",
          "0-4 min", "5-14 min", "60+ min", "2025-01", "Mon", "May", "marriage", "unknown",
          "<5", "*", "total", "E08000038", "W06000015", "financial.means-test", "yes", "no")
TEXT = "string"
COUNT_COLUMNS = {SUMMARY_FILE: 3, REPORT_FILE: 2}  # where a number is meant as a number
NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
      "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
      "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}


@dataclass(frozen=True)
class Cell:
    kind: str | None  # LibreOffice's value type: string, float, date, time, boolean … (None: empty)
    text: str  # as LibreOffice shows it


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a year's export (summary and rows), the report's CSV, and the probes."""
    folder = tmp_path_factory.mktemp("written")
    clock = FixedClock(uk(2026, 11, 23, 10, 15))
    with opened_store(tmp_path_factory.mktemp("store"), clock) as store:
        sam = first_supervisor(store, clock)
        add_demo_calls(store, 1500, clock, seed=12, days=120, parallel=False)
        # A topic whose code a spreadsheet reads as a number: its cells are guarded.
        code = Topics(store, sam, clock).add("2025", None)
        amy = a_worker(store, clock, sam, "amy")
        Calls(store, amy, clock).log(a_call(uk(2026, 11, 23, 9, 45),
                                            topics=(code,), children_count=5))
        first, last = date(2026, 7, 1), date(2026, 11, 23)
        FunderExport(store, sam, clock).write(first, last, folder,
                                              ExportChoices(rows_secret=b"k" * 32))
        report = Reports(store, sam, clock).compute(first, last)
    (folder / REPORT_FILE).write_text(report_output.as_csv(report), "utf-8")
    with (folder / PROBES_FILE).open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([probe] for probe in ("probe", *PROBES))
    return folder


@pytest.fixture(scope="module", params=sorted(LOCALES))
def read_back(request: pytest.FixtureRequest, written: Path,
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[list[Cell]]]:
    """Every CSV file of ``written`` as LibreOffice reads it in one locale, cell by cell."""
    assert SOFFICE is not None
    out = tmp_path_factory.mktemp("libreoffice")
    # Tokens: comma, double quote, UTF-8, from line 1, standard columns, the locale, quoted
    # fields not forced to text, detect special numbers (the most guessing Calc does).
    options = f"CSV:44,34,76,1,,{LOCALES[request.param]},false,true"
    files = sorted(p.name for p in written.glob("*.csv"))
    subprocess.run([SOFFICE, f"-env:UserInstallation={(out / 'profile').as_uri()}",
                    "--headless", "--norestore", f"--infilter={options}",
                    "--convert-to", "fods", "--outdir", str(out), *files],
                   cwd=written, check=True, capture_output=True, timeout=180)
    return {name: _cells(out / f"{Path(name).stem}.fods") for name in files}


def _cells(path: Path) -> list[list[Cell]]:
    """The first sheet of a flat ODF spreadsheet, row by row (repeated empty cells expanded)."""
    table = ET.parse(path).getroot().find(".//table:table", NS)
    assert table is not None, f"no sheet in {path}"
    rows = []
    for row in table.iterfind("table:table-row", NS):
        cells = []
        for cell in row.iterfind("table:table-cell", NS):
            kind = cell.get(f"{{{NS['office']}}}value-type")
            text = "\n".join(_text(p) for p in cell.iterfind("text:p", NS))
            repeat = int(cell.get(f"{{{NS['table']}}}number-columns-repeated", "1"))
            cells += [Cell(kind, text)] * min(repeat, 64)
        rows.append(cells)
    return rows


def _text(element: ET.Element) -> str:
    """A paragraph's text, ``<text:s text:c="n"/>`` being n spaces."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == f"{{{NS['text']}}}s":
            parts.append(" " * int(child.get(f"{{{NS['text']}}}c", "1")))
        else:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def misread(name: str, written: Path, read: list[list[Cell]]) -> list[str]:
    """Every cell that does not come back as the text we wrote (or a count as its number)."""
    ours = list(csv.reader(io.StringIO((written / name).read_text("utf-8"))))
    wrong = []
    for r, row in enumerate(ours):
        cells = read[r] if r < len(read) else []
        for c, text in enumerate(row):
            cell = cells[c] if c < len(cells) else Cell(None, "")
            expected = {TEXT} if text else {None}
            if r and c == COUNT_COLUMNS.get(name) and text.isdigit():
                expected = {"float"}
            if cell.text != text or cell.kind not in expected:
                wrong.append(f"{name} row {r + 1} column {c + 1}: wrote {text!r}, "
                             f"read {cell.text!r} ({cell.kind})")
    return wrong


def test_every_cell_of_the_export_and_the_report_reads_back_as_written(
        written: Path, read_back: dict[str, list[list[Cell]]]) -> None:
    names = (SUMMARY_FILE, ROWS_FILE, REPORT_FILE)
    assert set(names) <= set(read_back)
    wrong = [line for name in names for line in misread(name, written, read_back[name])]
    assert not wrong, f"{len(wrong)} cells misread, e.g.:\n" + "\n".join(wrong[:20])
    # What was at stake: the bands, the slots and the guarded topic are there to be misread.
    rows = list(csv.DictReader(io.StringIO((written / ROWS_FILE).read_text("utf-8"))))
    bands = {row["children_band"] for row in rows}
    # In words at whatever level the anonymisation chose, never a bare number.
    words = {*CHILDREN_BANDS, CHILDREN_FEW, CHILDREN_SOME}
    assert bands & words and bands <= {*words, "unknown", "*"}
    assert "'2025" in {row["topics"] for row in rows}
    summary = (written / SUMMARY_FILE).read_text("utf-8")
    assert "by_slot,09:30-10:00," in summary and "by_topic,'2025," in summary
    assert "by_slot,09:30-10:00," in (written / REPORT_FILE).read_text("utf-8")


def test_the_guard_knows_what_a_spreadsheet_misreads(
        read_back: dict[str, list[list[Cell]]]) -> None:
    """Whatever LibreOffice reads as a value, :func:`looks_like_a_value` says so; our own
    labels it reads as text, and the guard leaves them alone."""
    read = dict(zip(PROBES, (row[0] for row in read_back[PROBES_FILE][1:]), strict=True))
    missed = [f"{probe!r} read as {cell.kind} {cell.text!r}" for probe, cell in read.items()
              if cell.kind != TEXT and not report_output.looks_like_a_value(probe)]
    assert not missed
    ours = (*CHILDREN_BANDS, CHILDREN_FEW, CHILDREN_SOME, *(band for _, band in DURATION_BANDS),
            "60+ min", *{merged for step in DURATION_MERGED for merged in step.values()},
            "2025-Q1",
            report_output.slot_name("09:30"), report_output.slot_name("23:30"))
    assert [label for label in ours if label in read and read[label].kind != TEXT] == []
    assert [label for label in ours if report_output.looks_like_a_value(label)] == []
    assert {read[probe].kind for probe in ("3+", "09:30", "1/2", "TRUE", "50%")} == \
        {"float", "time", "date", "boolean", "percentage"}  # the misreadings are real
