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
from PySide6.QtCore import QDate, Qt, QUrl, Signal
from PySide6.QtGui import QPainter, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog, QTreeWidgetItem, QWidget

from advice_desk.clock import Clock, uk_today
from advice_desk.gui import errors
from advice_desk.gui.forms import load_form
from advice_desk.gui.taskman import TaskManager
from advice_desk.reports.figures import Report
from advice_desk.reports.measures import breakdowns, charts
from advice_desk.reports.output import headline, labeller, period

Compute = Callable[[date, date], tuple[Report, dict[str, str]]]
SavePdf = Callable[[Report, dict[str, str], Path], None]
PERIODS = ("Today", "Yesterday", "This week", "Last week", "This month", "Last month",
           "This year", "Chosen dates")


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


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(qdate: QDate) -> date:
    return date(qdate.year(), qdate.month(), qdate.day())


class ReportWindow(QWidget):
    """Emits ``shown`` each time a report has been put on screen."""

    shown = Signal()

    def __init__(self, tasks: TaskManager, compute: Compute, save_pdf: SavePdf, clock: Clock,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(self.tr("Calls report"))
        self.resize(1100, 760)
        self.ui = load_form("report_view.ui", self)
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
        self.ui.from_date.setDate(_qdate(date_from))
        self.ui.to_date.setDate(_qdate(date_to))
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
        date_from, date_to = _date(self.ui.from_date.date()), _date(self.ui.to_date.date())
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
        tree = self.ui.figures_tree
        tree.clear()
        summary = QTreeWidgetItem(tree, [self.tr("Summary"), ""])
        for label, value in headline(report):
            QTreeWidgetItem(summary, [self.tr(label), value])
        summary.setExpanded(True)
        for measure in breakdowns():
            counts = report.counts(measure.key)
            group = QTreeWidgetItem(tree, [self.tr(measure.title), str(sum(counts.values()))])
            for code, n in counts.items():
                QTreeWidgetItem(group, [name(measure.key, code), str(n)])
            group.setExpanded(len(counts) <= 12)
        tree.resizeColumnToContents(0)

    def _draw_charts(self, report: Report, name: Callable[[str, str], str]) -> None:
        layout = self.ui.charts_layout
        while layout.count():
            layout.takeAt(0).widget().deleteLater()
        for measure, chart in charts():
            counts = report.counts(measure.key)
            view = QChartView(_bar_chart(self.tr(chart.title), counts,
                                         partial(name, measure.key), chart.vertical))
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setMinimumHeight(260 if chart.vertical else 120 + 22 * len(counts))
            view.setAccessibleName(self.tr(chart.title))
            layout.addWidget(view)

    @property
    def chart_views(self) -> list[QChartView]:
        return self.ui.charts_widget.findChildren(QChartView)

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


def _bar_chart(title: str, counts: dict[str, int], name: Callable[[str], str],
               vertical: bool) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    chart.legend().hide()
    bars = QBarSet(title)
    labels = [name(code) for code in counts]
    bars.append([float(n) for n in counts.values()])
    series: QAbstractBarSeries = QBarSeries() if vertical else QHorizontalBarSeries()
    series.append(bars)
    chart.addSeries(series)
    categories = QBarCategoryAxis()
    categories.append(labels)
    values = QValueAxis()
    values.setLabelFormat("%d")
    values.setRange(0, max([*counts.values(), 1]))
    chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom if vertical
                  else Qt.AlignmentFlag.AlignLeft)
    chart.addAxis(values, Qt.AlignmentFlag.AlignLeft if vertical
                  else Qt.AlignmentFlag.AlignBottom)
    series.attachAxis(categories)
    series.attachAxis(values)
    return chart


def _html(report: Report, name: Callable[[str, str], str], images: str) -> str:
    rows = "".join(f"<tr><td>{escape(k)}</td><td align=right>{escape(v)}</td></tr>"
                   for k, v in headline(report))
    parts = [f"<h1>Calls report</h1><h2>{escape(period(report))}</h2><table>{rows}</table>",
             images]
    for measure in breakdowns():
        counts = report.counts(measure.key)
        body = "".join(f"<tr><td>{escape(name(measure.key, c))}</td><td align=right>{n}</td></tr>"
                       for c, n in counts.items()) or "<tr><td>(none)</td></tr>"
        parts.append(f"<h3>{escape(measure.title)}</h3><table>{body}</table>")
    return "".join(parts)
