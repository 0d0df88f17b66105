"""The supervisor's topic editor: add, rename, reorder, retire and restore call topics.

Every change is saved as it is made, on the store thread, by an editor already bound to the
store, the signed-in supervisor and the clock (the desk's Topics); the dialog never sees the
store. The label for Add and Rename is typed into the dialog's own Label field (no pop-ups),
which follows the selected topic until the user types in it. Keyboard: Alt+O topics, Alt+L
label, a mnemonic on every button, Ctrl+Up / Ctrl+Down to move the selected topic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import QDialog, QTreeWidgetItem, QWidget

from advice_desk.gui import errors
from advice_desk.gui.forms import load_form
from advice_desk.gui.keys import MOVE_TOPIC_KEYS
from advice_desk.gui.taskman import TaskManager
from advice_desk.validation import ValidationError

if TYPE_CHECKING:
    from advice_desk.calls.topic_views import TopicRow
    from advice_desk.calls.topics import Topics

CODE_ROLE = Qt.ItemDataRole.UserRole


class TaxonomyDialog(QDialog):
    """Emits ``changed`` after every change the store has accepted."""

    changed = Signal()

    def __init__(self, tasks: TaskManager, editor: Topics,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Topics"))
        self.resize(900, 560)
        self.ui = load_form("taxonomy_dialog.ui", self)
        self.tasks, self.editor = tasks, editor
        self.rows: list[TopicRow] = []
        self.loaded = False  # the tree has been filled at least once
        self._filled_label = ""  # what the Label field was given from the selection
        self.ui.taxonomy_error_label.hide()
        self.ui.topics_tree.currentItemChanged.connect(self._selection_changed)
        self.ui.add_topic_button.clicked.connect(self.add_topic)
        self.ui.add_subtopic_button.clicked.connect(self.add_subtopic)
        self.ui.rename_button.clicked.connect(self.rename_topic)
        self.ui.move_up_button.clicked.connect(lambda: self.move_topic(-1))
        self.ui.move_down_button.clicked.connect(lambda: self.move_topic(+1))
        self.ui.retire_button.clicked.connect(self.toggle_retired)
        self.ui.close_button.clicked.connect(self.accept)
        self._shortcuts = []
        for keys, offset in MOVE_TOPIC_KEYS:  # listed by F1
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(lambda offset=offset: self.move_topic(offset))
            self._shortcuts.append(shortcut)
        self._update_buttons()
        self.ui.topics_tree.setFocus()
        self.reload()

    # --- reading ----------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        """Fill the tree from the store, then select ``select`` (or keep the selection)."""
        keep = select or self.selected_code()
        self.tasks.run(self.editor.rows).success(
            lambda rows: self._fill(rows, keep)).failure(self._failed)

    def _fill(self, rows: Sequence[TopicRow], select: str | None) -> None:
        self.rows = list(rows)
        tree = self.ui.topics_tree
        tree.blockSignals(True)
        tree.clear()
        greyed = tree.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        parents: dict[str, QTreeWidgetItem] = {}
        for row in self.rows:
            label = self.tr("{0} (retired)").format(row.label) if row.retired else row.label
            holder = parents.get(row.parent_code) if row.parent_code else None
            item = QTreeWidgetItem(holder if holder is not None else tree, [label, row.code])
            item.setToolTip(0, label)
            item.setData(0, CODE_ROLE, row.code)
            if row.retired:
                for column in (0, 1):
                    item.setForeground(column, greyed)
            if row.parent_code is None:
                parents[row.code] = item
        tree.expandAll()
        tree.resizeColumnToContents(0)
        # The codes whole (a supervisor types them in the import file); a long label gives way.
        metrics = tree.fontMetrics()
        code_width = max((metrics.horizontalAdvance(row.code) for row in self.rows),
                         default=0) + 24
        room = tree.viewport().width() - code_width
        if room > 200 and tree.columnWidth(0) > room:
            tree.setColumnWidth(0, room)
        tree.blockSignals(False)
        current = self.item(select) if select else None
        if current is None and tree.topLevelItemCount():
            current = tree.topLevelItem(0)
        if current is not None:
            tree.setCurrentItem(current)
            tree.scrollToItem(current)
        self._selection_changed()
        self.loaded = True

    def item(self, code: str) -> QTreeWidgetItem | None:
        """The tree's row for a topic code."""
        tree = self.ui.topics_tree
        for index in range(tree.topLevelItemCount()):
            top = tree.topLevelItem(index)
            for item in (top, *(top.child(i) for i in range(top.childCount()))):
                if item.data(0, CODE_ROLE) == code:
                    return item
        return None

    def selected_code(self) -> str | None:
        item = self.ui.topics_tree.currentItem()
        return None if item is None else item.data(0, CODE_ROLE)

    def selected_row(self) -> TopicRow | None:
        code = self.selected_code()
        return next((row for row in self.rows if row.code == code), None)

    def _siblings(self, row: TopicRow) -> list[TopicRow]:
        return [other for other in self.rows if other.parent_code == row.parent_code]

    def _selection_changed(self, *_: object) -> None:
        row = self.selected_row()
        edit = self.ui.label_edit
        if row is not None and edit.text() in ("", self._filled_label):
            edit.setText(row.label)  # untouched: it follows the selection, ready for Rename
            self._filled_label = row.label
            if edit.hasFocus():
                edit.selectAll()  # typing replaces it, as after Tab or Alt+L
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected_row()
        siblings = self._siblings(row) if row else []
        index = siblings.index(row) if row else -1
        self.ui.add_subtopic_button.setEnabled(row is not None and not row.is_subtopic)
        self.ui.rename_button.setEnabled(row is not None)
        self.ui.move_up_button.setEnabled(row is not None and index > 0)
        self.ui.move_down_button.setEnabled(row is not None and index < len(siblings) - 1)
        retire = self.ui.retire_button
        retire.setEnabled(row is not None)
        text = self.tr("R&estore") if row is not None and row.retired else self.tr("R&etire")
        retire.setText(text)
        retire.setAccessibleName(text.replace("&", ""))

    # --- changing ---------------------------------------------------------------------------

    def add_topic(self) -> None:
        label, editor = self.ui.label_edit.text(), self.editor
        self._change(lambda: editor.add(label, None), clear_label=True)

    def add_subtopic(self) -> None:
        row = self.selected_row()
        if row is None or row.is_subtopic:
            return
        label, editor, parent = self.ui.label_edit.text(), self.editor, row.code
        self._change(lambda: editor.add(label, parent), clear_label=True)

    def rename_topic(self) -> None:
        code = self.selected_code()
        if code is None:
            return
        label, editor = self.ui.label_edit.text(), self.editor
        self._change(lambda: editor.rename(code, label), code, clear_label=True)

    def move_topic(self, offset: int) -> None:
        code = self.selected_code()
        if code is not None:
            editor = self.editor
            self._change(lambda: editor.move(code, offset), code)

    def toggle_retired(self) -> None:
        row = self.selected_row()
        if row is not None:
            change = self.editor.retire if not row.retired else self.editor.restore
            code = row.code
            self._change(lambda: change(code), code)

    def _change(self, job: Callable[[], str | None], code: str | None = None,
                clear_label: bool = False) -> None:
        """Run ``job`` on the store thread; then reload, selecting ``code`` (or the new code
        the job returns)."""
        def succeeded(new_code: str | None) -> None:
            self.ui.taxonomy_error_label.hide()
            if clear_label:
                self.ui.label_edit.clear()
            self.changed.emit()
            self.reload(select=new_code or code)

        self.tasks.run(job).success(succeeded).failure(self._failed)

    def _failed(self, error: BaseException) -> None:
        label = self.ui.taxonomy_error_label
        label.setText(self.tr("Not changed: {0}").format(errors.describe(error, _problems)))
        label.setAccessibleName(label.text())
        label.show()


def _problems(error: ValidationError) -> str:
    """The core's problems without the names its code gives the fields."""
    return "; ".join(problem.message for problem in error.errors)
