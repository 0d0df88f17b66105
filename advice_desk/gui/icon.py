"""The app's icon (resources/icons/, drawn for it; packaging/make_icons.py renders the sizes)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from advice_desk.resources import resource_path

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
APP_ID = "org.advicedesk.AdviceDesk"  # the .desktop file's and the AppStream component's name


def app_icon() -> QIcon:
    """Every PNG size: Qt loads only the one a title bar or task bar asks for, when it does."""
    icon = QIcon()
    for size in SIZES:
        icon.addFile(str(resource_path(f"icons/advice-desk-{size}.png")), QSize(size, size))
    return icon
