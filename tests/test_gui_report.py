"""The supervisor's report window: figures, charts, print and PDF (offscreen Qt)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter

from advice_desk.calls.service import Calls
from advice_desk.clock import UK
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.people.permissions import Role
from advice_desk.store.engine import open_store
from tests.factories import a_call
from tests.gui_support import open_window


def seed_calls(location, clock) -> None:
    store = open_store(location, clock)
    amy = get_or_create_user(store, "amy", clock)
    start = datetime(2026, 11, 23, 9, 30, tzinfo=UK)  # the clock reads 10:15
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
