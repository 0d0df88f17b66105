"""Render resources/icons/advice-desk.svg to the PNG sizes and the Windows .ico beside it.

Run by ``make icons`` after the SVG changes; the results are committed, so neither the wheel
nor ``make package`` needs a renderer. Qt's own SVG renderer draws them (PySide6 is in .venv).
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # Windows reads up to 256 (stored as 0)


def png_name(size: int) -> str:
    return f"advice-desk-{size}.png"


def render(svg: Path, size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """An .ico holding each size as PNG (Windows Vista and later read these)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, images = b"", b""
    for size, data in sorted(pngs.items()):
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])  # noqa: F841  (QImage and QPainter need one)
    svg = ICONS / "advice-desk.svg"
    pngs = {size: render(svg, size) for size in SIZES}
    for size, data in pngs.items():
        (ICONS / png_name(size)).write_bytes(data)
    (ICONS / "advice-desk.ico").write_bytes(ico({s: pngs[s] for s in ICO_SIZES}))
    print(f"wrote {len(pngs)} PNGs and advice-desk.ico in {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
