"""No wheel accidents: a combo box or spin box only takes the mouse wheel when it has the focus.

Qt lets the wheel change the value under the pointer, and gives such a widget the focus by the
wheel (``Qt.WheelFocus``): a worker scrolling a long form changes answers without seeing it. One
event filter on the application, installed once at start-up, sets those widgets to
``Qt.StrongFocus`` (Tab and click, never the wheel) as they are polished, and passes the wheel
over an unfocused one on to its parent (the form scrolls instead).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QWidget

GUARDED = (QComboBox, QAbstractSpinBox)
GUARD_NAME = "advice_desk_wheel_guard"


def _guarded_widget(obj: QObject) -> QWidget | None:
    """The combo box or spin box ``obj`` is, or is the line edit of."""
    if isinstance(obj, GUARDED):
        return obj
    parent = obj.parent() if isinstance(obj, QWidget) else None
    if isinstance(parent, GUARDED):
        return parent
    return None


def _has_focus(widget: QWidget) -> bool:
    focus = QApplication.focusWidget()
    return focus is not None and (focus is widget or widget.isAncestorOf(focus))


class WheelGuard(QObject):
    """The application's event filter; see the module's docstring."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish and isinstance(watched, GUARDED):
            if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif kind == QEvent.Type.Wheel:
            widget = _guarded_widget(watched)
            if widget is not None and not _has_focus(widget):
                event.ignore()  # Qt hands an ignored wheel event on to the parent
                return True
        return False


def install_wheel_guard(app: QCoreApplication) -> WheelGuard:
    """Install the guard on ``app`` (once: a second call returns the first guard)."""
    existing = app.findChild(WheelGuard, GUARD_NAME)
    if existing is not None:
        return existing
    guard = WheelGuard(app)
    guard.setObjectName(GUARD_NAME)
    app.installEventFilter(guard)
    for widget in QApplication.allWidgets():  # those made before it
        if isinstance(widget, GUARDED) and widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return guard
