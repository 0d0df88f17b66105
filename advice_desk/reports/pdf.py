"""The report as a PDF with its charts, drawn by reportlab so it needs no display or Qt."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from advice_desk.files import atomic_file
from advice_desk.reference import lists as reference
from advice_desk.reports.compute import Report
from advice_desk.reports.output import BREAKDOWNS, headline, period

WIDTH = A4[0] - 40 * mm
BAR = colors.HexColor("#2e6da4")
CHARTS = (("Calls by topic", "by_topic"), ("Calls per 30 minutes of opening", "by_slot"),
          ("Calls by outcome", "by_outcome"))
TABLE_STYLE = TableStyle([
    ("FONTSIZE", (0, 0), (-1, -1), 9),
    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
])


def _bar_chart(title: str, counts: dict[str, int], name: Callable[[str], str],
               vertical: bool) -> Drawing:
    labels = [name(code)[:40] for code in counts] or ["(none)"]
    values = list(counts.values()) or [0]
    height = 180 if vertical else 30 + 16 * len(labels)
    drawing = Drawing(WIDTH, height + 20)
    chart = VerticalBarChart() if vertical else HorizontalBarChart()
    chart.x, chart.y = (30, 30) if vertical else (170, 10)
    chart.width = WIDTH - chart.x - 10
    chart.height = height - chart.y
    chart.data = [values if vertical else values[::-1]]
    chart.categoryAxis.categoryNames = labels if vertical else labels[::-1]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueStep = max(1, -(-max(values) // 5))  # whole calls on the axis
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = BAR
    drawing.add(chart)
    drawing.add(String(0, height + 8, title, fontSize=10, fontName="Helvetica-Bold"))
    return drawing


def _table(rows: list[tuple[str, str]]) -> Table:
    table = Table(rows, colWidths=[WIDTH - 30 * mm, 30 * mm])
    table.setStyle(TABLE_STYLE)
    return table


def report_flowables(report: Report, name: Callable[[str, str], str]) -> list[Flowable]:
    styles = getSampleStyleSheet()
    story: list[Flowable] = [
        Paragraph(f"{reference.helpline().name}: calls report", styles["Title"]),
        Paragraph(period(report), styles["Heading2"]),
        _table(headline(report)), Spacer(1, 6 * mm)]
    for title, measure in CHARTS:
        story += [_bar_chart(title, getattr(report, measure),
                             lambda code, m=measure: name(m, code), measure == "by_slot"),
                  Spacer(1, 4 * mm)]
    for title, measure in BREAKDOWNS:
        counts = getattr(report, measure)
        story += [Paragraph(title, styles["Heading3"]),
                  _table([(name(measure, code), str(n)) for code, n in counts.items()]
                         or [("(none)", "")])]
    return story


def write_pdf(report: Report, name: Callable[[str, str], str], path: Path) -> None:
    with atomic_file(path, "wb") as f:
        _build(report, name, f)


def _build(report: Report, name: Callable[[str, str], str], f: IO[bytes]) -> None:
    document = SimpleDocTemplate(f, pagesize=A4, title=f"Calls report: {period(report)}",
                                 leftMargin=20 * mm, rightMargin=20 * mm,
                                 topMargin=18 * mm, bottomMargin=18 * mm)
    document.build(report_flowables(report, name))
