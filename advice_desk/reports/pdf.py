"""The report as a PDF with its charts, drawn by reportlab so it needs no display or Qt.

The charts are the report window's (:func:`advice_desk.reports.measures.charts`), with the
same titles, so the printout and the screen agree.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import IO

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from advice_desk.reference import lists as reference
from advice_desk.reports.figures import Report
from advice_desk.reports.measures import Chart, breakdowns, charts
from advice_desk.reports.output import Labeller, headline, period

WIDTH = A4[0] - 40 * mm
BAR = colors.HexColor("#2e6da4")
TABLE_STYLE = TableStyle([
    ("FONTSIZE", (0, 0), (-1, -1), 9),
    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
])


def _bar_chart(chart: Chart, counts: dict[str, int], name: Callable[[str], str]) -> Drawing:
    vertical = chart.vertical
    labels = [name(code)[:40] for code in counts] or ["(none)"]
    values = list(counts.values()) or [0]
    height = 180 if vertical else 30 + 16 * len(labels)
    drawing = Drawing(WIDTH, height + 20)
    plot = VerticalBarChart() if vertical else HorizontalBarChart()
    plot.x, plot.y = (30, 30) if vertical else (170, 10)
    # reportlab takes any number here; its stubs say int
    plot.width = WIDTH - plot.x - 10  # type: ignore[assignment]
    plot.height = height - plot.y
    plot.data = [values if vertical else values[::-1]]
    plot.categoryAxis.categoryNames = labels if vertical else labels[::-1]
    plot.categoryAxis.labels.fontSize = 7
    plot.valueAxis.valueMin = 0
    plot.valueAxis.valueStep = max(1, -(-max(values) // 5))  # whole calls on the axis
    plot.valueAxis.labels.fontSize = 7
    plot.bars[0].fillColor = BAR
    drawing.add(plot)
    drawing.add(String(0, height + 8, chart.title, fontSize=10, fontName="Helvetica-Bold"))
    return drawing


def _table(rows: list[tuple[str, str]]) -> Table:
    table = Table(rows, colWidths=[WIDTH - 30 * mm, 30 * mm])
    table.setStyle(TABLE_STYLE)
    return table


def report_flowables(report: Report, name: Labeller) -> list[Flowable]:
    styles = getSampleStyleSheet()
    story: list[Flowable] = [
        Paragraph(f"{reference.helpline().name}: calls report", styles["Title"]),
        Paragraph(period(report), styles["Heading2"]),
        _table(headline(report)), Spacer(1, 6 * mm)]
    for measure, chart in charts():
        story += [_bar_chart(chart, report.counts(measure.key),
                             functools.partial(name, measure.key)),
                  Spacer(1, 4 * mm)]
    for measure in breakdowns():
        counts = report.counts(measure.key)
        story += [Paragraph(measure.title, styles["Heading3"]),
                  _table([(name(measure.key, code), str(n)) for code, n in counts.items()]
                         or [("(none)", "")])]
    return story


def build_pdf(report: Report, name: Labeller, f: IO[bytes]) -> None:
    """Lay the report out on A4 pages and write the PDF to ``f``."""
    document = SimpleDocTemplate(f, pagesize=A4, title=f"Calls report: {period(report)}",
                                 leftMargin=20 * mm, rightMargin=20 * mm,
                                 topMargin=18 * mm, bottomMargin=18 * mm)
    document.build(report_flowables(report, name))
