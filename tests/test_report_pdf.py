"""The report's PDF as a supervisor pins it up: read back as text with pypdf."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing

from advice_desk.reports import output as report_output
from advice_desk.reports.figures import Report
from advice_desk.reports.pdf import build_pdf, nice_ticks, report_flowables

DAY = date(2026, 11, 23)
NAME = report_output.labeller({})


def pdf_pages(report: Report) -> list[str]:
    buffer = io.BytesIO()
    build_pdf(report, NAME, buffer)
    return [page.extract_text() for page in PdfReader(io.BytesIO(buffer.getvalue())).pages]


def drawn_text(drawing: Drawing) -> str:
    """The text of one chart, drawn alone on a page."""
    return PdfReader(io.BytesIO(renderPDF.drawToString(drawing))).pages[0].extract_text()


def a_big_report(date_from: date = DAY, date_to: date = DAY) -> Report:
    """A long report with large counts: several pages, thousands separators."""
    return Report(date_from, date_to, total_calls=23_456, data_calls=21_000,
                  non_data_calls=2_456, in_hours_calls=20_000, out_of_hours_calls=3_456,
                  by_topic={"financial": 12_345, "legal": 1_136, "education": 7},
                  by_subtopic={f"financial.sub-{n}": 1_000 + n for n in range(60)},
                  by_local_authority={f"E0{n:07d}": 5 * n for n in range(80, 0, -1)},
                  by_slot={"09:30": 99, "10:00": 132, "10:30": 0, "11:00": 41},
                  by_outcome={"advice": 1_500},
                  duration_median_s=600, duration_p90_s=1_500)


@pytest.mark.parametrize("largest, ticks", [
    (0, [0, 1]), (1, [0, 1]), (3, [0, 1, 2, 3]), (6, [0, 1, 2, 3, 4, 5, 6]), (7, [0, 2, 4, 6, 8]),
    (99, [0, 20, 40, 60, 80, 100]), (100, [0, 20, 40, 60, 80, 100]),
    (132, [0, 50, 100, 150]),  # not 0/33/66/99/132
    (1_136, [0, 200, 400, 600, 800, 1_000, 1_200]), (12_345, [0, 5_000, 10_000, 15_000])])
def test_the_axis_ticks_are_nice_numbers(largest: int, ticks: list[int]) -> None:
    assert nice_ticks(largest) == ticks


def test_the_ticks_always_cover_the_longest_bar_in_1_2_5_steps() -> None:
    nice_steps = {m * 10 ** p for m in (1, 2, 5) for p in range(7)}
    for largest in [*range(1, 3_000), 999_999, 1_000_000, 1_000_001]:
        ticks = nice_ticks(largest)
        step = ticks[1]
        assert step in nice_steps
        assert ticks == [step * i for i in range(len(ticks))]
        assert ticks[-1] >= largest > ticks[-2]  # covers it, and no tick more than needed
        assert len(ticks) - 1 <= 6
    with pytest.raises(ValueError):
        nice_ticks(-1)


def test_every_page_says_its_number_and_the_period() -> None:
    pages = pdf_pages(a_big_report())
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "calls report, Monday 23 November 2026" in text  # the running header
    week = pdf_pages(a_big_report(DAY, DAY + timedelta(days=6)))
    assert all("calls report, 23 November 2026 to 29 November 2026" in text for text in week)


def test_each_bar_shows_its_value_on_an_axis_past_the_longest_bar() -> None:
    drawings = [f for f in report_flowables(a_big_report(), NAME) if isinstance(f, Drawing)]
    topics, slots, outcomes = (drawn_text(d) for d in drawings)
    words = topics.split()
    for value in ("12,345", "1,136", "7"):  # each bar's value
        assert value in words
    for tick in ("0", "5,000", "10,000", "15,000"):  # ticks that cover 12,345
        assert tick in words
    words = slots.split()
    for shown in ("99", "132", "41", "150", "100", "50"):  # values, and ticks up to 150
        assert shown in words
    assert "33" not in words and "66" not in words
    assert "1,500" in outcomes.split()


def test_large_counts_have_thousands_separators() -> None:
    first = pdf_pages(a_big_report())[0]
    assert "23,456" in first and "21,000" in first and "3,456" in first
    assert "23456" not in first


@pytest.mark.parametrize("date_to, says", [(DAY, "No calls on this day"),
                                           (DAY + timedelta(days=30), "No calls in this period")])
def test_an_empty_period_says_so_instead_of_drawing_empty_axes(date_to: date, says: str) -> None:
    empty = Report(DAY, date_to, by_slot={"09:30": 0, "10:00": 0})
    drawings = [f for f in report_flowables(empty, NAME) if isinstance(f, Drawing)]
    assert [drawn_text(d).count(says) for d in drawings] == [1, 1, 1]
    assert pdf_pages(empty)[0].count(says) == 3
    # A period with calls but none in a chart says there is nothing, not that nobody called.
    quiet = Report(DAY, DAY, total_calls=2, non_data_calls=2, by_slot={"09:30": 0})
    assert "None on this day" in drawn_text(
        next(f for f in report_flowables(quiet, NAME) if isinstance(f, Drawing)))
