"""The history's sort arrow drawn the way it is read, put on its header after the window's
first paint: the style classes it needs cost ~5 ms to load (PRODUCT.md §11, start-up), and the
table is empty until the store is open. Until then the header shows no arrow."""

from __future__ import annotations

from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QHeaderView,
    QProxyStyle,
    QStyle,
    QStyleOption,
    QStyleOptionHeader,
    QWidget,
)


class SortArrowStyle(QProxyStyle):
    """Qt draws a descending order as an arrow pointing up; people read an arrow pointing down
    as "largest, newest first". This style draws the arrow the way it is read."""

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption,
                      painter: QPainter, widget: QWidget | None = None) -> None:
        if (element == QStyle.PrimitiveElement.PE_IndicatorHeaderArrow
                and isinstance(option, QStyleOptionHeader)):
            flipped = QStyleOptionHeader(option)
            up, down = QStyleOptionHeader.SortIndicator.SortUp, \
                QStyleOptionHeader.SortIndicator.SortDown
            if option.sortIndicator in (up, down):
                flipped.sortIndicator = down if option.sortIndicator == up else up
            option = flipped
        super().drawPrimitive(element, option, painter, widget)


def show_sort_arrow(header: QHeaderView) -> None:
    """Give ``header`` the style that draws its arrow as it is read, and show the arrow."""
    style = SortArrowStyle(header.style().name())
    style.setParent(header)
    header.setStyle(style)
    header.setSortIndicatorShown(True)
