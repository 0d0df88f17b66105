"""Helpers for driving the real window with the keyboard, as a worker would."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from advice_desk.gui.main_window import MainWindow
from advice_desk.people import accounts
from advice_desk.people.accounts import Users
from advice_desk.people.permissions import Role
from tests.factories import add_account, first_supervisor, opened_store, signed_in
from tests.support import PASSWORD


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def focused_name() -> str:
    return focused().accessibleName()


def press(qtbot, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focused(), key, modifier)


def type_text(qtbot, text: str) -> None:
    qtbot.keyClicks(focused(), text)


def choose_first_history_row(qtbot, window: MainWindow) -> None:
    """Ctrl+H to the history, then Down onto its first row, as a worker would."""
    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert focused_name() == "Call history"
    press(qtbot, Qt.Key.Key_Down)


def open_first_history_call(qtbot, window: MainWindow) -> None:
    """The first row of the history opened for editing with Enter."""
    choose_first_history_row(qtbot, window)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.form.editing_call_id is not None)


def unnamed_controls(top: QWidget) -> list[str]:
    """The controls in ``top`` a screen reader could reach but not name (Qt's own parts of a
    combo box or spin box aside)."""
    return [
        f"{type(w).__name__} {w.objectName()}"
        for w in top.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.isVisibleTo(top)
        and not w.accessibleName() and not w.objectName().startswith("qt_")
        and type(w.parent()).__name__ not in ("QComboBox", "QAbstractSpinBox")
    ]


def make_account(location, clock, username: str = "amy", role: Role = Role.WORKER) -> None:
    """The store's first supervisor (sam) and the named user, unless they exist already."""
    with opened_store(location, clock) as store:
        if accounts.needs_first_supervisor(store):
            first_supervisor(store, clock)
        sam = signed_in(store, clock, "sam")
        if username not in {a.username for a in Users(store, sam, clock).accounts()
                            if a.can_sign_in}:
            add_account(store, clock, sam, username, role)


def sign_in_with_keyboard(qtbot, window: MainWindow, username: str,
                          password: str = PASSWORD) -> None:
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None)
    dialog = window.sign_in_dialog
    qtbot.waitUntil(lambda: dialog.ui.username_edit.hasFocus())
    type_text(qtbot, username)
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, password)
    press(qtbot, Qt.Key.Key_Return)


def start_window(qtbot, location, clock) -> MainWindow:
    """A freshly started window, waiting for whoever comes to the desk."""
    window = MainWindow(location, clock)
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    window.open_store()
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None)
    return window


def open_window(qtbot, location, clock, username: str = "amy",
                role: Role = Role.WORKER) -> MainWindow:
    """A window on the store at ``location``, signed in as ``username`` with the keyboard."""
    make_account(location, clock, username, role)
    window = start_window(qtbot, location, clock)
    sign_in_with_keyboard(qtbot, window, username)
    qtbot.waitUntil(lambda: window.save_action.isEnabled())
    qtbot.waitUntil(lambda: not window.tasks.busy)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window
