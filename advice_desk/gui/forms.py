"""Loading Designer forms from ``ui/`` and naming every control for assistive technology.

A form is loaded with QUiLoader into a child widget (composition, as Picard does with
``setupUi``); :class:`Form` gives attribute access to its named children. Every control gets an
accessible name from its visible label: it is what a screen reader says and how tests find it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtUiTools import QUiLoader
from PySide6.QtWidgets import QAbstractButton, QLabel, QVBoxLayout, QWidget

from advice_desk.resources import ui_path


class Form:
    """The widgets of a loaded ``.ui`` form, by object name: ``form.save_button``."""

    def __init__(self, root: QWidget) -> None:
        self.root = root

    def __getattr__(self, name: str) -> Any:
        child = self.root.findChild(QObject, name)
        if child is None:
            raise AttributeError(f"form {self.root.objectName()!r} has no widget {name!r}")
        setattr(self, name, child)  # cache: findChild walks the whole tree
        return child


@cache
def _loader() -> QUiLoader:
    """One loader for the run, made without Designer's widget plugins: a new QUiLoader loads
    every plugin in ``plugins/designer`` (PySide6 ships Qt Quick and WebEngine ones, which no
    form uses), 20-40 ms before the window's first paint."""
    paths = QCoreApplication.libraryPaths()
    QCoreApplication.setLibraryPaths([])
    try:
        return QUiLoader()
    finally:
        QCoreApplication.setLibraryPaths(paths)


def load_form(name: str, host: QWidget) -> Form:
    """Load ``ui/<name>`` and place it as the whole content of ``host``."""
    loader = _loader()
    root = loader.load(str(ui_path(name)), host)
    if root is None:
        raise RuntimeError(f"cannot load form {name}: {loader.errorString()}")
    layout = host.layout() or QVBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(root)
    name_controls(root)
    give_mnemonic_labels_room(root)
    return Form(root)


def give_mnemonic_labels_room(root: QWidget) -> None:
    """A label with a mnemonic can size itself a pixel short of its drawn text, and a row of
    them then shows "To" as "Tc": every such label gets room for half a character more."""
    for label in root.findChildren(QLabel):
        if "&" in label.text().replace("&&", ""):
            spare = label.fontMetrics().averageCharWidth() // 2 + 1
            label.setMinimumWidth(label.sizeHint().width() + spare)


def plain_label(text: str) -> str:
    """A label as a person reads it: no mnemonic ampersand, no trailing colon."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(":").strip()


def name_controls(root: QWidget) -> None:
    """Give each labelled control, and each button, its visible text as accessible name."""
    for label in root.findChildren(QLabel):
        buddy = label.buddy()
        if buddy is not None and not buddy.accessibleName():
            buddy.setAccessibleName(plain_label(label.text()))
    for button in root.findChildren(QAbstractButton):
        if not button.accessibleName() and button.text():
            button.setAccessibleName(plain_label(button.text()))
