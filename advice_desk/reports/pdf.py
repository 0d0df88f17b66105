"""The report as a PDF with its charts, drawn by reportlab so it needs no display or Qt.

The charts are the report window's (:func:`advice_desk.reports.measures.charts`), with the
same titles, so the printout and the screen agree. A page may be pinned up on its own: every
page names the line, the period it covers and its number ("Page 2 of 5"). Axes count in steps
of 1, 2 or 5 (times a power of ten) up to a tick at or past the longest bar, each bar shows its
value, and a chart with nothing to draw says so rather than drawing empty axes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import IO

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from advice_desk.reference import lists as reference
from advice_desk.reports.figures import Report
from advice_desk.reports.measures import Chart, breakdowns, charts
from advice_desk.reports.output import Labeller, headline, nothing_to_chart, period

WIDTH = A4[0] - 40 * mm
MARGIN = 20 * mm
BAR = colors.HexColor("#2e6da4")
FURNITURE = colors.HexColor("#555555")  # the running header and footer
TABLE_STYLE = TableStyle([
    ("FONTSIZE", (0, 0), (-1, -1), 9),
    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
])
MOST_INTERVALS = 6  # an axis has at most this many steps between its ticks
VALUE_ROOM = 34  # points beside (or above) the longest bar for its value


def nice_ticks(largest: int, most: int = MOST_INTERVALS) -> list[int]:
    """The ticks of a count axis: 0 and whole steps of 1, 2 or 5 times a power of ten, the
    smallest such step that needs at most ``most`` intervals, up to the first tick at or past
    ``largest`` (0 to 1 when there is nothing to count)."""
    if largest < 0 or most < 1:
        raise ValueError(f"no axis for a largest value of {largest} in {most} steps")
    if largest == 0:
        return [0, 1]
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            intervals = -(-largest // step)  # rounded up: the last tick covers the largest
            if intervals <= most:
                return [step * i for i in range(intervals + 1)]
        power *= 10


def thousands(value: float) -> str:
    """A count as people read it: ``12,345``."""
    return f"{round(value):,}"


def _bar_chart(chart: Chart, counts: dict[str, int], name: Callable[[str], str],
               nothing: str) -> Drawing:
    if not any(counts.values()):
        drawing = Drawing(WIDTH, 44)
        drawing.add(String(0, 30, chart.title, fontSize=10, fontName="Helvetica-Bold"))
        drawing.add(String(WIDTH / 2, 8, nothing, fontSize=10, fillColor=FURNITURE,
                           textAnchor="middle"))
        return drawing
    vertical = chart.vertical
    labels = [name(code)[:40] for code in counts]
    values = list(counts.values())
    ticks = nice_ticks(max(values))
    height = 180 if vertical else 30 + 16 * len(labels)
    drawing = Drawing(WIDTH, height + 20)
    plot = VerticalBarChart() if vertical else HorizontalBarChart()
    plot.x, plot.y = (40, 30) if vertical else (170, 16)
    # reportlab takes any number here; its stubs say int
    plot.width = WIDTH - plot.x - (10 if vertical else VALUE_ROOM)  # type: ignore[assignment]
    plot.height = height - plot.y - (14 if vertical else 0)
    plot.data = [values if vertical else values[::-1]]
    plot.categoryAxis.categoryNames = labels if vertical else labels[::-1]
    plot.categoryAxis.labels.fontSize = 7
    plot.valueAxis.valueMin = 0
    plot.valueAxis.valueMax = ticks[-1]
    plot.valueAxis.valueSteps = ticks
    plot.valueAxis.labelTextFormat = thousands
    plot.valueAxis.labels.fontSize = 7
    plot.bars[0].fillColor = BAR
    # Each bar's value at its end.
    plot.barLabelFormat = thousands
    plot.barLabels.fontSize = 7
    plot.barLabels.boxAnchor = "s" if vertical else "w"
    plot.barLabels.dy, plot.barLabels.dx = (3, 0) if vertical else (0, 3)
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
                             functools.partial(name, measure.key), nothing_to_chart(report)),
                  Spacer(1, 4 * mm)]
    for measure in breakdowns():
        counts = report.counts(measure.key)
        story += [Paragraph(measure.title, styles["Heading3"]),
                  _table([(name(measure.key, code), thousands(n)) for code, n in counts.items()]
                         or [("(none)", "")])]
    return story


def _furniture(canvas: Canvas, running_title: str, pages: int) -> None:
    """The running header (the line and the period) and the footer ("Page 2 of 5")."""
    width, height = A4
    canvas.saveState()
    canvas.setFont("Helvetica", 8)
    canvas.setFillColor(FURNITURE)
    canvas.drawString(MARGIN, height - 11 * mm, running_title)
    canvas.drawRightString(width - MARGIN, 10 * mm,
                           f"Page {canvas.getPageNumber()} of {pages}")
    canvas.setStrokeColor(colors.lightgrey)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, height - 12.5 * mm, width - MARGIN, height - 12.5 * mm)
    canvas.restoreState()


def _document(f: IO[bytes], report: Report) -> SimpleDocTemplate:
    return SimpleDocTemplate(f, pagesize=A4, title=f"Calls report: {period(report)}",
                             leftMargin=MARGIN, rightMargin=MARGIN,
                             topMargin=18 * mm, bottomMargin=18 * mm)


def build_pdf(report: Report, name: Labeller, f: IO[bytes]) -> None:
    """Lay the report out on A4 pages and write the PDF to ``f``. It is laid out twice: the
    first time to count the pages that every footer names."""
    trial = _document(io.BytesIO(), report)
    trial.build(report_flowables(report, name))
    running_title = f"{reference.helpline().name}: calls report, {period(report)}"

    def on_page(canvas: Canvas, _: object) -> None:
        _furniture(canvas, running_title, trial.page)

    _document(f, report).build(report_flowables(report, name), onFirstPage=on_page,
                               onLaterPages=on_page)
