"""Help in the real window: the shortcuts list (F1) made from the window's own actions, About,
the keys shown on the toolbar, and the window's size and splitter remembered between starts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QToolBar, QWidget

from advice_desk import __version__
from advice_desk.gui.help_window import AboutDialog, ShortcutsWindow
from advice_desk.gui.main_window import WINDOW_STATE_FILE
from advice_desk.paths import config_dir
from advice_desk.people.permissions import Role
from tests.gui_support import open_window


def test_f1_lists_every_shortcut_grouped_by_menu(qtbot, location, clock):
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    shortcuts = window.findChild(ShortcutsWindow)
    qtbot.waitUntil(lambda: shortcuts is not None and shortcuts.isVisible())
    rows = shortcuts.rows()
    assert ("File", "New call", "Ctrl+N") in rows
    assert ("File", "Save call", "Ctrl+Return or Ctrl+Enter") in rows
    assert ("File", "Lock", "Ctrl+L") in rows
    assert ("Calls", "Silent call", "F5") in rows
    assert ("Supervisor", "Report", "Ctrl+R") in rows
    assert ("Help", "Keyboard shortcuts", "F1") in rows
    # Every action of the window with a key is listed, and nothing without one.
    keyed = {a.text().replace("&", "").rstrip("…") for a in window.actions() if a.shortcuts()}
    menus = {"File", "Calls", "Supervisor", "Help", "Other"}
    assert {text for menu, text, _ in rows if menu in menus} == keyed
    assert all(keys for _, _, keys in rows), rows
    assert shortcuts.focusWidget() is shortcuts.tree
    qtbot.keyClick(shortcuts.tree, Qt.Key.Key_Escape)
    assert not shortcuts.isVisible()


def test_f1_lists_the_keys_of_the_form_and_of_the_other_windows(qtbot, location, clock):
    """Not only the menus: the form's buttons, and Review's, Report's and Backups' own keys,
    as those windows really answer them."""
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    shortcuts = window.findChild(ShortcutsWindow)
    qtbot.waitUntil(lambda: shortcuts is not None and shortcuts.isVisible())
    rows = shortcuts.rows()
    for row in (("Call form", "Discard", "Alt+D"),
                ("Review calls", "Mark the shown call reviewed", "Ctrl+Return or Ctrl+Enter"),
                ("Review calls", "Close the window", "Esc or Ctrl+W"),
                ("Review calls", "On legal hold", "Alt+L"),
                ("Calls report", "Close the window", "Esc or Ctrl+W"),
                ("Backups", "Back up now", "Alt+B"),
                ("Backups", "Restore selected", "Alt+R"),
                ("Topics", "Move the topic up", "Ctrl+Up")):
        assert row in rows, row
    shortcuts.close()
    # The keys listed are the ones the windows have.
    window.review_action.trigger()
    review = window.review_window
    qtbot.waitUntil(review.isVisible)
    assert review.ui.legal_hold_check.text() == "On &legal hold"
    from PySide6.QtGui import QShortcut

    review_keys = {s.key().toString() for s in review.findChildren(QShortcut)}
    assert {"Ctrl+Return", "Ctrl+Enter", "Esc", "Ctrl+W"} <= review_keys
    assert window.form.ui.discard_button.text() == "&Discard"


def test_a_worker_sees_no_supervisor_shortcuts(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    window.shortcuts_action.trigger()
    rows = window.findChild(ShortcutsWindow).rows()
    assert not any(menu in ("Supervisor", "Review calls", "Backups") for menu, _, _ in rows)
    assert ("Calls", "Go to call history", "Ctrl+H") in rows


def test_about_names_the_version_the_store_and_the_licence(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    window.about_action.trigger()
    about = window.findChild(AboutDialog)
    qtbot.waitUntil(about.isVisible)
    text = about.text.text()
    assert f"Advice Desk {__version__}" in text
    assert f"Store: {location.shown}" in text
    assert "GPL-3.0-or-later" in text
    help_menu = window.menuBar().actions()[-1]
    assert help_menu.text() == "&Help"


def test_the_toolbar_buttons_show_their_keys(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    toolbar = window.findChild(QToolBar)
    texts = [toolbar.widgetForAction(a).text() for a in window.non_data_actions]
    assert "Silent call (F5)" in texts
    assert all(t.endswith(")") and "(F" in t for t in texts)
    button = toolbar.widgetForAction(window.non_data_actions[0])
    assert not button.visibleRegion().isEmpty()


def test_the_window_size_and_splitter_are_remembered(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    window.resize(760, 580)  # the offscreen screen is 800 px square: a size that fits it
    window.ui.splitter.setSizes([480, 260])
    sizes = window.ui.splitter.sizes()
    window.close()
    assert (config_dir() / WINDOW_STATE_FILE).is_file()

    again = open_window(qtbot, location, clock)
    assert (again.width(), again.height()) == (760, 580)
    assert again.ui.splitter.sizes() == sizes
    QApplication.processEvents()


def test_the_app_keeps_the_platform_style_and_follows_its_palette(qapp):
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QStyleFactory

    from advice_desk.gui.app import configure

    style = qapp.style().name()
    configure(qapp)
    assert qapp.style().name() == style  # nothing forced
    assert style.lower() in [k.lower() for k in QStyleFactory.keys()]  # noqa: SIM118
    stale = QPalette(qapp.palette())
    stale.setColor(QPalette.ColorRole.Window, QColor("black"))
    qapp.setPalette(stale)
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # the person switched
    assert qapp.palette().color(QPalette.ColorRole.Window) == (
        qapp.style().standardPalette().color(QPalette.ColorRole.Window))


def _content_rect(window):
    """Where the window's visible controls are, in its own coordinates."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QLabel, QLineEdit

    rect = QRect()
    for widget in window.findChildren(QWidget):
        if (isinstance(widget, QAbstractButton | QLabel | QLineEdit | QAbstractScrollArea)
                and widget.isVisible() and widget.window() is window and widget.width() > 1):
            rect = rect.united(QRect(widget.mapTo(window, QPoint(0, 0)), widget.size()))
    return rect


def test_every_dialog_has_inner_margins_and_a_sensible_minimum_size(qtbot, location, clock):
    from PySide6.QtWidgets import QDialog

    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    for action in (window.export_action, window.users_action, window.topics_action,
                   window.audit_action, window.settings_action, window.shortcuts_action,
                   window.about_action, window.follow_ups_action, window.people_action):
        action.trigger()
        dialog = next(d for d in window.findChildren(QDialog) if d.isVisible())
        qtbot.waitUntil(lambda d=dialog: not window.tasks.busy and d.isVisible())
        inner = _content_rect(dialog)
        name = dialog.windowTitle()
        assert inner.left() >= 8 and inner.top() >= 8, name
        assert dialog.width() - inner.right() >= 8, name
        assert dialog.height() - inner.bottom() >= 8, name
        least = dialog.minimumSize().expandedTo(dialog.minimumSizeHint())
        assert least.width() >= 360, name
        dialog.close()
        dialog.deleteLater()
        qtbot.waitUntil(lambda d=dialog: not d.isVisible())


def test_the_earlier_calls_panel_is_not_reopened_from_the_last_session(qtbot, location, clock):
    """The panel is one caller's calls: remembered open, it would squeeze the next call's
    form at 1366x768 before anyone asked for it."""
    window = open_window(qtbot, location, clock)
    window.callers_panel.toggle()
    assert window.callers_panel.isVisible()
    window.close()

    again = open_window(qtbot, location, clock)
    assert again.isVisible() and not again.callers_panel.isVisible()
