"""What the person at the desk is told when an operation fails: one display for every window.

The core's refusals (a field that is wrong, a role that may not, a wrong password, a store
that cannot be opened, a cancelled export, a person not described well enough) carry messages
written for that person, and are shown as they are. Anything else is a fault whose message may
hold whatever the failing code had in hand, stored personal details included: it is never
shown. The log gets the fault's type and where it happened, and the person is told what to do.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from advice_desk.people.permissions import PermissionDenied
from advice_desk.validation import ValidationError

log = logging.getLogger(__name__)

# The core's refusals defined beside the database layer, by module and class. The window must
# not load that layer before it paints, and an error can only be of one of these classes once
# its module is loaded, so they are looked for among the modules loaded so far.
REFUSALS_BESIDE_THE_DATABASE = (
    ("advice_desk.people.accounts", "SignInError"),
    ("advice_desk.store.engine", "StoreError"),
    ("advice_desk.reports.funder_export", "ExportCancelled"),
    ("advice_desk.reports.extract", "ExportKeyError"),
    ("advice_desk.privacy.identity", "SearchError"),
)

FieldsWording = Callable[[ValidationError], str]


def _translate(text: str) -> str:
    return QCoreApplication.translate("errors", text)


def unexpected_text() -> str:
    return _translate("an unexpected fault, recorded in the log; try again, and if it happens "
                      "again, tell your supervisor")


def is_refusal(error: BaseException) -> bool:
    """Whether ``error`` is one of the core's refusals, whose message is meant to be read."""
    if isinstance(error, ValidationError | PermissionDenied):
        return True
    for module_name, class_name in REFUSALS_BESIDE_THE_DATABASE:
        refusal = getattr(sys.modules.get(module_name), class_name, None)
        if refusal is not None and isinstance(error, refusal):
            return True
    return False


def describe(error: BaseException, fields: FieldsWording = str) -> str:
    """What to tell the person about a failed operation. ``fields`` words a ValidationError
    for the window showing it; by default it is the core's ``field: message; …``."""
    if isinstance(error, ValidationError):
        return fields(error)
    if is_refusal(error):
        return str(error)
    log_fault(error)
    return unexpected_text()


def log_fault(error: BaseException) -> None:
    """Log where an unexpected exception happened and its type, never its message."""
    kind = type(error)
    where = "".join(traceback.format_tb(error.__traceback__))
    log.error("unexpected %s.%s in a store operation\n%s", kind.__module__, kind.__qualname__,
              where.rstrip())


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
