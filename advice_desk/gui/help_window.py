"""Help: the keyboard shortcuts, listed from the window's own actions (so the list is never
out of date), and About (version, where the store is, the licence)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QMenuBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from advice_desk import __version__
from advice_desk.gui.forms import plain_label
from advice_desk.gui.keys import BACKUP_BUTTONS, CLOSE_KEYS, MARK_REVIEWED_KEYS, MOVE_TOPIC_KEYS

LICENCE = "GPL-3.0-or-later"


def _tr(text: str) -> str:
    return QCoreApplication.translate("Help", text)


MARGIN = 12
KeyRows = list[tuple[str, str]]


def shortcut_text(action: QAction) -> str:
    """The action's keys as the keyboard shows them: ``Ctrl+Return or Ctrl+Enter``."""
    keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()]
    return _tr(" or ").join(k for k in keys if k)


def shortcuts_by_menu(menu_bar: QMenuBar, others: list[QAction]) -> list[tuple[str, list[tuple[
        str, str]]]]:
    """(menu title, [(action, keys)]) for every menu of the bar, in order, holding only the
    actions that have a shortcut; actions of the window in no menu come last, as "Other"."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    listed: set[int] = set()

    def walk(menu: QMenu, into: list[tuple[str, str]]) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, into)
            elif not action.isSeparator():
                listed.add(id(action))
                if action.shortcuts():
                    into.append((plain_label(action.text()).rstrip("…"), shortcut_text(action)))

    for top in menu_bar.actions():
        menu = top.menu()
        if not isinstance(menu, QMenu) or not top.isVisible():
            continue
        rows: list[tuple[str, str]] = []
        walk(menu, rows)
        if rows:
            groups.append((plain_label(top.text()), rows))
    rest = [(plain_label(a.text()).rstrip("…"), shortcut_text(a)) for a in others
            if id(a) not in listed and a.shortcuts() and a.text()]
    if rest:
        groups.append((_tr("Other"), rest))
    return groups


def keys_text(keys: tuple[str, ...] | list[str]) -> str:
    native = [QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in keys]
    return _tr(" or ").join(k for k in native if k)


def mnemonic(text: str) -> str:
    """The Alt+letter of a button's text ("&Back up now": Alt+B), or "" when it has none."""
    return keys_text([QKeySequence.mnemonic(text).toString()])


def ui_buttons(form: str) -> KeyRows:
    """(button, Alt+letter) for the buttons and check boxes of a Designer form, read from the
    form itself: the list never goes out of step with it."""
    from xml.etree import ElementTree

    from advice_desk.resources import ui_path

    rows: KeyRows = []
    root = ElementTree.parse(ui_path(form)).getroot()
    for widget in root.iter("widget"):
        if widget.get("class") not in ("QPushButton", "QCheckBox", "QRadioButton"):
            continue
        text = widget.findtext("property[@name='text']/string") or ""
        keys = mnemonic(text)
        if keys:
            rows.append((plain_label(text).rstrip("…"), keys))
    return rows


def other_windows_keys(supervisor: bool) -> list[tuple[str, KeyRows]]:
    """The keys of the form's buttons and of the windows opened from the menus (Review, the
    report, Backups, Topics): each is a window's own, so its shortcut works there."""
    close = (_tr("Close the window"), keys_text(CLOSE_KEYS))
    groups: list[tuple[str, KeyRows]] = [(_tr("Call form"), ui_buttons("intake_form.ui"))]
    if supervisor:
        groups += [
            (_tr("Review calls"), [(_tr("Mark the shown call reviewed"),
                                    keys_text(MARK_REVIEWED_KEYS)), close,
                                   *ui_buttons("review_window.ui")]),
            (_tr("Calls report"), [close]),
            (_tr("Backups"), [(plain_label(t).rstrip("…"), mnemonic(t)) for t in BACKUP_BUTTONS]),
            (_tr("Topics"), [(_tr("Move the topic up"), keys_text([MOVE_TOPIC_KEYS[0][0]])),
                             (_tr("Move the topic down"), keys_text([MOVE_TOPIC_KEYS[1][0]])),
                             *ui_buttons("taxonomy_dialog.ui")]),
        ]
    return [(title, rows) for title, rows in groups if rows]


class ShortcutsWindow(QDialog):
    """Every key the window answers, grouped by menu; Esc closes it."""

    def __init__(self, groups: list[tuple[str, list[tuple[str, str]]]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.setMinimumSize(460, 420)
        self.resize(520, 600)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        note = QLabel(self.tr("In a form, Alt and the underlined letter of a field's label go "
                              "to that field."), self)
        note.setWordWrap(True)
        layout.addWidget(note)
        self.tree = QTreeWidget(self)
        self.tree.setAccessibleName(self.tr("Keyboard shortcuts"))
        self.tree.setHeaderLabels([self.tr("Action"), self.tr("Keys")])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        for title, rows in groups:
            group = QTreeWidgetItem(self.tree, [title])
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            group.setFirstColumnSpanned(True)
            for text, keys in rows:
                QTreeWidgetItem(group, [text, keys])
        self.tree.expandAll()
        self.tree.setItemsExpandable(False)
        self.tree.resizeColumnToContents(0)
        self.tree.setColumnWidth(0, self.tree.columnWidth(0) + 24)
        layout.addWidget(self.tree)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName(self.tr("Close"))
        layout.addWidget(buttons)
        self.tree.setFocus()

    def rows(self) -> list[tuple[str, str, str]]:
        """(menu, action, keys) as shown, for tests and screen readers alike."""
        found = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            assert group is not None
            for j in range(group.childCount()):
                item = group.child(j)
                assert item is not None
                found.append((group.text(0), item.text(0), item.text(1)))
        return found


class AboutDialog(QDialog):
    def __init__(self, helpline: str, store: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About Advice Desk"))
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        self.text = QLabel(self)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.text.setText("\n\n".join([
            self.tr("Advice Desk {0}").format(__version__),
            self.tr("Logs, reviews and reports the calls of an advice line: {0}.").format(
                helpline),
            self.tr("Store: {0}").format(store),
            self.tr("Licence: {0}. You may share and change it under the terms of the GNU "
                    "General Public License, version 3 or any later version.").format(LICENCE),
        ]))
        self.text.setAccessibleName(self.tr("About Advice Desk"))
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName(self.tr("Close"))
        layout.addWidget(buttons)
