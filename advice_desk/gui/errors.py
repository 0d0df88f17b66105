"""What the person at the desk is told when an operation fails: one display for every window.

The core's refusals (a field that is wrong, a role that may not, a wrong password, a store
that cannot be opened, a cancelled export, a person not described well enough) carry messages
written for that person, and are shown as they are. Anything else is a fault whose message may
hold whatever the failing code had in hand, stored personal details included: it is never
shown. A database or file failure (disk full, read-only, damaged, locked) is told by its kind,
in the words the command line uses, with what to do. The log gets the fault's type, its kind
and where it happened, never its message.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from advice_desk.paths import Location
from advice_desk.store.failures import Failure, Kind, failure_of, is_refusal, with_store_options
from advice_desk.validation import ValidationError

log = logging.getLogger(__name__)

FieldsWording = Callable[[ValidationError], str]
# The window's store: a restore command in a message names its folder when not the default.
_store: list[Location] = []


def name_store(location: Location) -> None:
    _store[:] = [location]


def _translate(text: str) -> str:
    return QCoreApplication.translate("errors", text)


def unexpected_text() -> str:
    return _translate("an unexpected fault, recorded in the log; try again, and if it happens "
                      "again, tell your supervisor")


def describe(error: BaseException, fields: FieldsWording = str) -> str:
    """What to tell the person about a failed operation. ``fields`` words a ValidationError
    for the window showing it; by default it is the core's ``field: message; …``."""
    if isinstance(error, ValidationError):
        return fields(error)
    if is_refusal(error):
        return str(error)
    failure = failure_of(error)
    log_fault(error, failure)
    if failure is not None and failure.kind is not Kind.OTHER:
        return with_store_options(QCoreApplication.translate("failures", failure.advice),
                                  _store[0] if _store else None)
    return unexpected_text()


def log_fault(error: BaseException, failure: Failure | None = None) -> None:
    """Log where an unexpected exception happened, its type and kind, never its message."""
    kind = type(error)
    what = f" ({failure.kind.value}, {failure.code})" if failure is not None else ""
    where = "".join(traceback.format_tb(error.__traceback__))
    log.error("unexpected %s.%s%s in a store operation\n%s", kind.__module__,
              kind.__qualname__, what, where.rstrip())


def show_failure(parent: QWidget | None, error: BaseException) -> None:
    """The default display of a failed operation: a warning over ``parent`` that does not
    block the event loop, and a line in the main window's status bar."""
    message = describe(error)
    window = parent.window() if parent is not None else None
    if isinstance(window, QMainWindow):
        window.statusBar().showMessage(_translate("Something went wrong: {0}").format(message))
    box = QMessageBox(QMessageBox.Icon.Warning, _translate("Advice Desk"),
                      _translate("{0}\n\nWhat you typed is kept.").format(sentence(message)),
                      QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def sentence(text: str) -> str:
    """A message as a sentence: a capital first letter and a full stop."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
