"""The supervisor's report window: figures, charts, print and PDF (offscreen Qt)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QLabel

from advice_desk.calls.service import Calls
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.people.permissions import Role
from advice_desk.store.engine import open_store
from tests.factories import a_call, opened_store, uk
from tests.gui_support import open_window


def seed_calls(location, clock) -> None:
    store = open_store(location, clock)
    amy = get_or_create_user(store, "amy", clock)
    start = uk(2026, 11, 23, 9, 30)  # the clock reads 10:15
    for minutes, topics in ((0, ("education.virtual-school",)), (40, ("financial", "legal.sgo"))):
        at = start + timedelta(minutes=minutes)
        Calls(store, actor_of(amy), clock).log(a_call(at, 720, topics=topics))
    Calls(store, actor_of(amy), clock).log_non_data("silent", started_at=start)
    store.close()


def open_report(qtbot, location, clock):
    seed_calls(location, clock)
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    assert window.supervisor_menu.menuAction().isVisible()
    with qtbot.waitSignal(window.tasks._finished, timeout=5000):
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    report_window = window.report_window
    qtbot.waitUntil(lambda: report_window.report is not None)
    return window, report_window


def test_todays_report_shows_the_figures_and_three_charts(qtbot, location, clock):
    _, view = open_report(qtbot, location, clock)
    assert view.report.total_calls == 3
    assert view.report.by_topic == {"education": 1, "financial": 1, "legal": 1}
    tree = view.ui.figures_tree
    summary = tree.topLevelItem(0)
    rows = {summary.child(i).text(0): summary.child(i).text(1)
            for i in range(summary.childCount())}
    assert rows["Total calls"] == "3"
    assert rows["Non-data calls"] == "1"
    assert rows["Median duration"] == "12.0 min"
    assert [v.chart().title() for v in view.chart_views] == [
        "Calls by topic", "Calls per 30 minutes", "Outcomes"]


def test_a_chosen_range_is_counted_again(qtbot, location, clock):
    _, view = open_report(qtbot, location, clock)
    view.ui.report_period_combo.setCurrentIndex(1)  # yesterday: nothing
    qtbot.waitUntil(lambda: view.report.date_from.isoformat() == "2026-11-22")
    assert view.report.total_calls == 0


def test_a_day_without_calls_says_so_in_each_chart_instead_of_blank_axes(qtbot, location,
                                                                         clock):
    _, view = open_report(qtbot, location, clock)
    view.ui.report_period_combo.setCurrentIndex(1)  # yesterday: nothing
    qtbot.waitUntil(lambda: view.report.date_from.isoformat() == "2026-11-22")
    _at_1366(qtbot, view)
    assert [v.chart().title() for v in view.chart_views] == [
        "Calls by topic", "Calls per 30 minutes", "Outcomes"]
    for chart_view in view.chart_views:
        assert chart_view.chart().axes() == [], chart_view.chart().title()
        (said,) = chart_view.findChildren(QLabel)
        assert said.text() == said.accessibleName() == "No calls on this day"
        assert not said.visibleRegion().isEmpty()
    # The charts and their notes fit the area, which does not scroll (an empty chart's view
    # asked for two thirds of the screen, and the area scrolled by a few pixels), once the
    # layout requests the new charts posted are done.
    QApplication.sendPostedEvents()
    QApplication.processEvents()
    assert not view.ui.charts_area.verticalScrollBar().isVisible()
    viewport = view.ui.charts_area.viewport()
    notes = [label for label in view.ui.charts_widget.findChildren(QLabel)
             if label.text().startswith("A call can")]
    assert len(notes) == 2
    for note in notes:
        assert note.mapTo(viewport, note.rect().bottomRight()).y() <= viewport.height()


def test_the_report_prints_and_saves_as_pdf_with_its_charts(qtbot, location, clock,
                                                             tmp_path: Path):
    _, view = open_report(qtbot, location, clock)
    printed = tmp_path / "printed.pdf"
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(printed))
    view.print_to(printer)
    assert printed.read_bytes().startswith(b"%PDF")
    assert printed.stat().st_size > 10_000  # the chart images are in it

    saved = tmp_path / "saved.pdf"
    view.save_pdf_to(saved)
    qtbot.waitUntil(lambda: view.ui.report_status.text().startswith("Saved"))
    assert saved.read_bytes().startswith(b"%PDF")


def test_a_worker_has_no_report(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    assert not window.supervisor_menu.menuAction().isVisible()
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.report_window is None


def _at_1366(qtbot, view) -> None:
    view.showNormal()
    view.resize(1366, 768)
    qtbot.waitUntil(lambda: view.width() == 1366 and view.height() == 768)
    qtbot.waitUntil(lambda: all(v.chart().plotArea().width() > 0 for v in view.chart_views))


def _unreadable(chart_view) -> list[str]:
    """What of the chart is cut short: the title wider than the view, an axis whose labels Qt
    had to truncate ("…"). Asked of Qt itself: the binding does not type the scene's items."""
    from PySide6.QtGui import QFontMetrics

    chart = chart_view.chart()
    cut = [chart.title()] if (QFontMetrics(chart.titleFont()).horizontalAdvance(chart.title())
                              > chart_view.width() - 20) else []
    return cut + [f"{axis.titleText() or 'axis'} labels" for axis in chart.axes()
                  if axis.labelsTruncated()]


def test_at_1366x768_the_figures_and_every_chart_are_on_screen_and_readable(qtbot, location,
                                                                            clock):
    _, view = open_report(qtbot, location, clock)
    _at_1366(qtbot, view)
    assert not view.ui.figures_tree.visibleRegion().isEmpty()
    assert len(view.chart_views) == 3
    for chart_view in view.chart_views:
        title = chart_view.chart().title()
        assert chart_view.width() >= 300 and chart_view.height() >= 200, title
        # (A chart view is a scroll area: what shows is its viewport.)
        assert not chart_view.viewport().visibleRegion().isEmpty(), title
        # Fully inside the scroll area's viewport: nothing needs scrolling, across or down.
        viewport = view.ui.charts_area.viewport()
        corner = chart_view.mapTo(viewport, chart_view.rect().bottomRight())
        assert corner.x() <= viewport.width() and corner.y() <= viewport.height(), title
        assert _unreadable(chart_view) == [], title
    assert not view.ui.charts_area.horizontalScrollBar().isVisible()
    # No empty band: the period row is as high as its controls, the rest is the report.
    assert view.ui.report_splitter.height() > 768 - 80


def test_the_period_row_is_compact(qtbot, location, clock):
    _, view = open_report(qtbot, location, clock)
    _at_1366(qtbot, view)
    top = view.ui.report_splitter.mapTo(view, view.ui.report_splitter.rect().topLeft()).y()
    assert top <= view.ui.show_button.height() + 30
    assert view.ui.report_status.text() == "Monday 23 November 2026"
    assert not view.ui.report_status.visibleRegion().isEmpty()


def test_esc_and_ctrl_w_close_the_report(qtbot, location, clock):
    window, view = open_report(qtbot, location, clock)
    qtbot.waitUntil(lambda: view.isActiveWindow())
    qtbot.keyClick(view.ui.figures_tree, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not view.isVisible())
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow())
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.isVisible() and view.isActiveWindow())
    qtbot.keyClick(view.ui.figures_tree, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not view.isVisible())


def _figures(view) -> dict[str, dict[str, str]]:
    tree = view.ui.figures_tree
    groups = {}
    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        groups[group.text(0)] = {group.child(j).text(0): group.child(j).text(1)
                                 for j in range(group.childCount())}
    return groups


def test_figures_have_thousands_separators(qtbot, location, clock):
    from advice_desk.demo.synthetic import add_demo_calls

    with opened_store(location, clock) as store:
        add_demo_calls(store, 1500, clock, days=30, parallel=False)
    _, view = open_report(qtbot, location, clock)
    view.ui.report_period_combo.setCurrentIndex(6)  # this year
    qtbot.waitUntil(lambda: view.report.total_calls > 1000)
    total = f"{view.report.total_calls:,}"
    qtbot.waitUntil(lambda: _figures(view)["Summary"]["Total calls"] == total)
    assert "," in total


def test_a_breakdown_that_can_add_up_to_more_than_the_calls_says_so(qtbot, location, clock):
    _, view = open_report(qtbot, location, clock)
    figures = _figures(view)
    assert "A call can name several topics." in figures["Calls by topic"]
    assert "A call can have several outcomes." in figures["Calls by outcome"]
    assert not any(k.startswith("A call") for k in figures["Calls by caller type"])
    _at_1366(qtbot, view)
    notes = [label for label in view.ui.charts_widget.findChildren(QLabel)
             if label.text().startswith("A call can")]
    assert {n.text().split(",")[0] for n in notes} == {
        "A call can name several topics", "A call can have several outcomes"}
    assert all(not n.visibleRegion().isEmpty() for n in notes)


def test_the_charts_follow_a_dark_palette(qtbot, location, clock):
    _, view = open_report(qtbot, location, clock)
    dark = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#202124"),
                         (QPalette.ColorRole.Base, "#2b2c2f"),
                         (QPalette.ColorRole.WindowText, "#e8eaed"),
                         (QPalette.ColorRole.Text, "#e8eaed")):
        dark.setColor(role, QColor(colour))
    view.setPalette(dark)
    for chart_view in view.chart_views:
        chart = chart_view.chart()
        qtbot.waitUntil(lambda c=chart: c.backgroundBrush().color() == QColor("#2b2c2f"))
        assert chart.titleBrush().color() == QColor("#e8eaed")
        assert all(axis.labelsBrush().color() == QColor("#e8eaed") for axis in chart.axes())
    view.setPalette(QPalette(QColor("#f0f0f0")))
    chart = view.chart_views[0].chart()
    qtbot.waitUntil(lambda: chart.backgroundBrush().color().lightness() > 128)
    assert chart.titleBrush().color().lightness() < 128
