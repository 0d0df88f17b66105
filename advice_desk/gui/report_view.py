"""The supervisor's report window: pick a day or a range, read the figures and the charts,
print them or save them as PDF. The figures are computed on the store thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from html import escape
from pathlib import Path

from PySide6.QtCharts import (
    QAbstractBarSeries,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QEvent, QLocale, Qt, QUrl, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QKeySequence,
    QPainter,
    QPalette,
    QPen,
    QShortcut,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QSizePolicy,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from advice_desk.clock import Clock, uk_today
from advice_desk.gui import errors
from advice_desk.gui.dates import from_qdate, to_qdate
from advice_desk.gui.forms import load_form
from advice_desk.gui.keys import CLOSE_KEYS
from advice_desk.gui.taskman import TaskManager
from advice_desk.reports.figures import Report
from advice_desk.reports.measures import Measure, Unit, breakdowns, charts, single_figures
from advice_desk.reports.output import labeller, nothing_to_chart, period

Compute = Callable[[date, date], tuple[Report, dict[str, str]]]
SavePdf = Callable[[Report, dict[str, str], Path], None]
PERIODS = ("Today", "Yesterday", "This week", "Last week", "This month", "Last month",
           "This year", "Chosen dates")
# The breakdowns in which one call can count more than once, so that they can add up to more
# than the calls: said beside them, in the figures and under the charts.
SEVERAL_SHORT = {
    "by_topic": "A call can name several topics.",
    "by_subtopic": "A call can name several subtopics.",
    "by_outcome": "A call can have several outcomes.",
    "by_referral": "A call can be referred to several places.",
}
SEVERAL = {
    "by_topic": "A call can name several topics, so these add up to more than the calls.",
    "by_subtopic": "A call can name several subtopics, so these add up to more than the calls.",
    "by_outcome": "A call can have several outcomes, so these add up to more than the calls.",
    "by_referral": "A call can be referred to several places, so these add up to more than the "
                   "calls.",
}
CHART_MIN_WIDTH, CHART_MIN_HEIGHT = 300, 200


def period_dates(name: str, today: date) -> tuple[date, date] | None:
    """The days a named period covers, seen from ``today`` (weeks start on Monday)."""
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return {
        "Today": (today, today),
        "Yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
        "This week": (monday, today),
        "Last week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "This month": (first_of_month, today),
        "Last month": (last_month_end.replace(day=1), last_month_end),
        "This year": (today.replace(month=1, day=1), today),
    }.get(name)


def number_locale() -> QLocale:
    """The user's locale for figures; the C locale (no group separator) reads as UK English,
    the helpline's own."""
    locale = QLocale()
    if locale.language() == QLocale.Language.C:
        locale = QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
    return locale


def shown_figure(measure: Measure, value: int | None, locale: QLocale) -> str:
    """A single figure as the window shows it, with the locale's thousands separators."""
    if measure.unit is Unit.SECONDS:
        return "–" if value is None else QApplication.translate(
            "ReportWindow", "{0} min").format(locale.toString(value / 60, "f", 1))
    return "–" if value is None else locale.toString(value)


class ReportWindow(QWidget):
    """Emits ``shown`` each time a report has been put on screen."""

    shown = Signal()

    def __init__(self, tasks: TaskManager, compute: Compute, save_pdf: SavePdf, clock: Clock,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Calls report"))
        self.resize(1280, 760)
        self.ui = load_form("report_view.ui", self)
        self.setMinimumSize(960, 560)
        self.ui.report_splitter.setStretchFactor(0, 1)
        self.ui.report_splitter.setStretchFactor(1, 3)
        self.ui.report_splitter.setSizes([380, 900])
        self.ui.figures_tree.setMinimumWidth(260)
        # Two charts side by side, never a horizontal scroll bar.
        self.ui.charts_area.setMinimumWidth(2 * CHART_MIN_WIDTH + 40)
        self.ui.charts_area.setAccessibleName(self.tr("Charts"))
        self._views: list[QChartView] = []
        for keys in CLOSE_KEYS:  # listed by F1
            QShortcut(QKeySequence(keys), self, self.close)
        self.tasks, self._compute, self._save_pdf, self.clock = tasks, compute, save_pdf, clock
        self.report: Report | None = None
        self._labels: dict[str, str] = {}
        self.ui.figures_tree.setHeaderLabels([self.tr("Figure"), self.tr("Calls")])
        self.ui.figures_tree.setAccessibleName(self.tr("Report figures"))
        for name in PERIODS:
            self.ui.report_period_combo.addItem(self.tr(name), name)
        self.ui.report_period_combo.currentIndexChanged.connect(self._period_chosen)
        self.ui.from_date.dateChanged.connect(self._dates_typed)
        self.ui.to_date.dateChanged.connect(self._dates_typed)
        self.ui.show_button.clicked.connect(self.refresh)
        self.ui.print_button.clicked.connect(self.print_report)
        self.ui.pdf_button.clicked.connect(self.save_pdf)
        self._setting_dates = False
        self._period_chosen()

    # --- period ---------------------------------------------------------------------------

    def _today(self) -> date:
        return uk_today(self.clock)

    def set_period(self, date_from: date, date_to: date) -> None:
        self._setting_dates = True
        self.ui.from_date.setDate(to_qdate(date_from))
        self.ui.to_date.setDate(to_qdate(date_to))
        self._setting_dates = False

    def _period_chosen(self) -> None:
        dates = period_dates(self.ui.report_period_combo.currentData(), self._today())
        if dates is not None:
            self.set_period(*dates)
            self.refresh()

    def _dates_typed(self) -> None:
        if not self._setting_dates:
            self.ui.report_period_combo.blockSignals(True)
            self.ui.report_period_combo.setCurrentIndex(len(PERIODS) - 1)
            self.ui.report_period_combo.blockSignals(False)

    # --- computing ------------------------------------------------------------------------

    def refresh(self) -> None:
        date_from = from_qdate(self.ui.from_date.date())
        date_to = from_qdate(self.ui.to_date.date())
        if date_to < date_from:
            self.ui.report_status.setText(self.tr("The period ends before it starts."))
            return
        self.ui.report_status.setText(self.tr("Counting…"))
        self.ui.show_button.setEnabled(False)
        compute = self._compute
        self.tasks.run(lambda: compute(date_from, date_to)).success(self._show).failure(
            self._failed)

    def _failed(self, error: BaseException) -> None:
        self.ui.show_button.setEnabled(True)
        self.ui.report_status.setText(self.tr("The report could not be made: {0}").format(
            errors.describe(error)))

    def _show(self, result: tuple[Report, dict[str, str]]) -> None:
        self.report, self._labels = result
        self.ui.show_button.setEnabled(True)
        self.ui.report_status.setText(period(self.report))
        self._fill_figures(self.report, labeller(self._labels))
        self._draw_charts(self.report, labeller(self._labels))
        self.shown.emit()

    def _fill_figures(self, report: Report, name: Callable[[str, str], str]) -> None:
        tree, locale = self.ui.figures_tree, number_locale()
        tree.clear()
        summary = QTreeWidgetItem(tree, [self.tr("Summary"), ""])
        for measure in single_figures():
            item = QTreeWidgetItem(summary, [
                self.tr(measure.title), shown_figure(measure, report.figure(measure.key), locale)])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        summary.setExpanded(True)
        for measure in breakdowns():
            counts = report.counts(measure.key)
            note = SEVERAL.get(measure.key)
            # Where a call counts more than once, the sum of the rows is no count of calls.
            group = QTreeWidgetItem(tree, [self.tr(measure.title), "" if note else
                                           locale.toString(sum(counts.values()))])
            group.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if note:
                note_item = QTreeWidgetItem(group, [self.tr(SEVERAL_SHORT[measure.key])])
                note_item.setFirstColumnSpanned(True)
                note_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                italic = QFont(tree.font())
                italic.setItalic(True)
                note_item.setFont(0, italic)
                group.setToolTip(0, self.tr(note))
            for code, n in counts.items():
                item = QTreeWidgetItem(group, [name(measure.key, code), locale.toString(n)])
                item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            group.setExpanded(len(counts) <= 12)
        tree.resizeColumnToContents(0)

    def _draw_charts(self, report: Report, name: Callable[[str, str], str]) -> None:
        """The charts in a grid: an upright one (time of day) across the whole width, the
        others two to a row, each with its note when its bars can add up to more than the
        calls."""
        layout = self.ui.charts_layout
        while layout.count():
            item = layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        placed: list[tuple[int, QChartView]] = []
        ordered = sorted(charts(), key=lambda mc: (not mc[1].vertical, mc[1].position))
        row, column = 0, 0
        for measure, chart in ordered:
            counts = report.counts(measure.key)
            if any(counts.values()):
                view = QChartView(_bar_chart(self.tr(chart.title), counts,
                                             partial(name, measure.key), chart.vertical))
                rows = 1 if chart.vertical else len(counts)
            else:  # no bars: blank axes would look like a chart that failed to draw
                view = _empty_chart(self.tr(chart.title), self.tr(nothing_to_chart(report)))
                rows = 1
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setMinimumSize(CHART_MIN_WIDTH, max(CHART_MIN_HEIGHT, 90 + 24 * rows))
            # Its height is what the area spares beyond that: a chart view asks for two
            # thirds of the screen (its scene's size), and the charts' area then scrolled.
            view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
            view.setAccessibleName(self.tr(chart.title))
            _style_chart(view.chart(), self.palette())
            placed.append((chart.position, view))
            cell = _chart_cell(view, self.tr(SEVERAL[measure.key])
                               if measure.key in SEVERAL else None)
            if chart.vertical:
                if column:
                    row, column = row + 1, 0
                layout.addWidget(cell, row, 0, 1, 2)
                row += 1
            else:
                layout.addWidget(cell, row, column)
                row, column = (row + 1, 0) if column else (row, 1)
        for index in range(layout.rowCount()):
            layout.setRowStretch(index, 1)
        layout.setColumnStretch(0, 1)
        layout.setColumnStretch(1, 1)
        self._views = [view for _, view in sorted(placed, key=lambda pv: pv[0])]

    @property
    def chart_views(self) -> list[QChartView]:
        """The charts, in the order of their positions."""
        return list(self._views)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            for view in self._views:
                _style_chart(view.chart(), self.palette())

    # --- output ---------------------------------------------------------------------------

    def save_pdf(self) -> None:
        if self.report is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save report as PDF"),
                                              f"calls-report-{self.report.date_from}.pdf",
                                              self.tr("PDF files (*.pdf)"))
        if path:
            self.save_pdf_to(Path(path))

    def save_pdf_to(self, path: Path) -> None:
        assert self.report is not None
        report, labels, save = self.report, self._labels, self._save_pdf
        self.ui.report_status.setText(self.tr("Saving {0}…").format(path.name))
        self.tasks.run(lambda: save(report, labels, path)).success(
            lambda _: self.ui.report_status.setText(self.tr("Saved {0}.").format(path))
        ).failure(self._failed)

    def print_report(self) -> None:
        if self.report is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if QPrintDialog(printer, self).exec() == QPrintDialog.DialogCode.Accepted:
            self.print_to(printer)

    def print_to(self, printer: QPrinter) -> None:
        """The figures and the charts, as a document laid out on the printer's pages."""
        assert self.report is not None
        document = QTextDocument(self)
        images = []
        for index, view in enumerate(self.chart_views):
            url = QUrl(f"chart://{index}")
            document.addResource(QTextDocument.ResourceType.ImageResource, url,
                                 view.grab().toImage())
            images.append(f'<p><img src="{url.toString()}" width="600"></p>')
        document.setHtml(_html(self.report, labeller(self._labels), "".join(images)))
        document.print_(printer)


def _chart_cell(view: QChartView, note: str | None) -> QWidget:
    """A chart with its note (if any) below it."""
    cell = QWidget()
    layout = QVBoxLayout(cell)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(view, 1)
    if note:
        label = QLabel(note)
        label.setWordWrap(True)
        label.setAccessibleName(note)
        italic = label.font()
        italic.setItalic(True)
        label.setFont(italic)
        layout.addWidget(label)
    return cell


def _empty_chart(title: str, nothing: str) -> QChartView:
    """A chart's title and, where its bars would be, what it has none of."""
    chart = QChart()
    chart.setTitle(title)
    chart.legend().hide()
    view = QChartView(chart)
    label = QLabel(nothing)
    label.setAccessibleName(nothing)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    QVBoxLayout(view).addWidget(label)
    return view


def _style_chart(chart: QChart, palette: QPalette) -> None:
    """Colour a chart from the window's palette, light or dark: QtCharts keeps its own theme
    otherwise."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    chart.setTheme(QChart.ChartTheme.ChartThemeDark if dark else QChart.ChartTheme.ChartThemeLight)
    text = palette.color(QPalette.ColorRole.WindowText)
    chart.setBackgroundBrush(QBrush(palette.color(QPalette.ColorRole.Base)))
    chart.setBackgroundPen(QPen(palette.color(QPalette.ColorRole.Mid)))
    chart.setTitleBrush(QBrush(text))
    grid = QColor(palette.color(QPalette.ColorRole.Mid))
    for axis in chart.axes():
        axis.setLabelsBrush(QBrush(text))
        axis.setLabelsColor(text)
        axis.setTitleBrush(QBrush(text))
        axis.setLinePenColor(grid)
        axis.setGridLineColor(grid)
    for series in chart.series():
        if isinstance(series, QAbstractBarSeries):
            for bars in series.barSets():
                bars.setColor(palette.color(QPalette.ColorRole.Highlight))
                bars.setBorderColor(palette.color(QPalette.ColorRole.Highlight))


def _bar_chart(title: str, counts: dict[str, int], name: Callable[[str], str],
               vertical: bool) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    chart.legend().hide()
    bars = QBarSet(title)
    pairs = list(counts.items())
    if not vertical:
        pairs.reverse()  # a horizontal chart is drawn from the bottom: the largest on top
    labels = [name(code) for code, _ in pairs]
    bars.append([float(n) for _, n in pairs])
    series: QAbstractBarSeries = QBarSeries() if vertical else QHorizontalBarSeries()
    series.append(bars)
    chart.addSeries(series)
    categories = QBarCategoryAxis()
    categories.append(labels)
    values = QValueAxis()
    values.setLabelFormat("%d")
    top = max([*counts.values(), 1])
    step = _tick_step(top)
    values.setRange(0, -(-top // step) * step)
    values.setTickType(QValueAxis.TickType.TicksDynamic)
    values.setTickAnchor(0)
    values.setTickInterval(step)
    chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom if vertical
                  else Qt.AlignmentFlag.AlignLeft)
    chart.addAxis(values, Qt.AlignmentFlag.AlignLeft if vertical
                  else Qt.AlignmentFlag.AlignBottom)
    series.attachAxis(categories)
    series.attachAxis(values)
    return chart


def _tick_step(top: int) -> int:
    """A whole, round step for a value axis up to ``top``: at most about six ticks, so that
    "%d" labels never repeat a number."""
    step = 1
    while top / step > 6:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if top / step <= 6:
                break
    return step


def _html(report: Report, name: Callable[[str, str], str], images: str) -> str:
    locale = number_locale()
    rows = "".join(f"<tr><td>{escape(m.title)}</td><td align=right>"
                   f"{escape(shown_figure(m, report.figure(m.key), locale))}</td></tr>"
                   for m in single_figures())
    parts = [f"<h1>Calls report</h1><h2>{escape(period(report))}</h2><table>{rows}</table>",
             images]
    for measure in breakdowns():
        counts = report.counts(measure.key)
        body = "".join(f"<tr><td>{escape(name(measure.key, c))}</td>"
                       f"<td align=right>{escape(locale.toString(n))}</td></tr>"
                       for c, n in counts.items()) or "<tr><td>(none)</td></tr>"
        note = f"<p><i>{escape(SEVERAL[measure.key])}</i></p>" if measure.key in SEVERAL else ""
        parts.append(f"<h3>{escape(measure.title)}</h3>{note}<table>{body}</table>")
    return "".join(parts)
