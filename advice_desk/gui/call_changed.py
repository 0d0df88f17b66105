"""The offer made when a save is refused because another seat changed the call meanwhile.

The core refuses the edit (:class:`advice_desk.store.versions.CallChanged`, naming who changed
the call and when); this box says so and offers *Reload* (the call as it is now; what was
typed is dropped) or *Keep editing* (what was typed stays, and saving it then replaces the
other change, knowingly). Enter reloads, Esc keeps editing.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from advice_desk.gui.errors import sentence


def _tr(text: str) -> str:
    return QCoreApplication.translate("call_changed", text)


def offer_reload(parent: QWidget, message: str, reload: Callable[[], None],
                 keep_editing: Callable[[], None]) -> QMessageBox:
    """Show ``message`` (the core's refusal) with Reload / Keep editing, without blocking."""
    box = QMessageBox(QMessageBox.Icon.Warning, _tr("Call changed on another desk"),
                      sentence(message), QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("call_changed_box")
    box.setInformativeText(_tr(
        "Reload shows the call as it is now; what you typed here is then dropped. Keep "
        "editing keeps what you typed: saving it then replaces the other change."))
    reload_button = box.addButton(_tr("&Reload"), QMessageBox.ButtonRole.AcceptRole)
    keep_button = box.addButton(_tr("&Keep editing"), QMessageBox.ButtonRole.RejectRole)
    reload_button.setAccessibleName(_tr("Reload"))
    keep_button.setAccessibleName(_tr("Keep editing"))
    box.setDefaultButton(reload_button)
    box.setEscapeButton(keep_button)

    def chosen(button: QAbstractButton) -> None:
        (reload if button is reload_button else keep_editing)()

    box.buttonClicked.connect(chosen)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
