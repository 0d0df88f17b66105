"""The app's window icon: drawn for it (resources/icons/advice-desk.svg), in every size."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QImage
from PySide6.QtWidgets import QApplication

from advice_desk.gui.app import configure
from advice_desk.gui.icon import SIZES
from advice_desk.resources import resource_path


def test_each_png_is_its_size_and_not_blank(qapp):
    for size in SIZES:
        image = QImage(str(resource_path(f"icons/advice-desk-{size}.png")))
        assert (image.width(), image.height()) == (size, size)
        centre = image.pixelColor(size // 2, size // 2)
        corner = image.pixelColor(0, 0)
        assert centre.alpha() == 255 and corner.alpha() < 255  # a tile with rounded corners


def test_the_app_gives_every_window_its_icon(qapp):
    try:
        configure(qapp)
        icon = QApplication.windowIcon()
        assert {(s.width(), s.height()) for s in icon.availableSizes()} == {
            (s, s) for s in SIZES}
        assert not icon.pixmap(QSize(32, 32)).isNull()
        assert QApplication.desktopFileName() == "org.advicedesk.AdviceDesk"
    finally:
        QApplication.setWindowIcon(QIcon())
