"""The supervisor's topic editor, driven with the keyboard and the mouse over a real store
(offscreen Qt). The editor is bound to the store here as the desk binds it in the app."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from advice_desk.calls.topics import Topics
from advice_desk.clock import FixedClock
from advice_desk.gui.taskman import TaskManager
from advice_desk.gui.taxonomy_dialog import TaxonomyDialog
from advice_desk.people.permissions import Actor
from advice_desk.store.engine import Store
from tests.gui_support import focused_name, press, type_text
from tests.support import ANY_TIME, SUPERVISOR

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def open_dialog(qtbot, tasks: TaskManager, topics: Topics) -> TaxonomyDialog:
    dialog = TaxonomyDialog(tasks, topics)
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.loaded and not tasks.busy)
    return dialog


@pytest.fixture
def dialog(qtbot, tasks: TaskManager, store: Store, sam: Actor,
           clock: FixedClock) -> TaxonomyDialog:
    return open_dialog(qtbot, tasks, Topics(store, sam, clock))


def shown(dialog: TaxonomyDialog) -> list[tuple[str, str, str | None]]:
    """The tree as (code, text, parent code), in the order on screen."""
    tree = dialog.ui.topics_tree
    found = []
    for index in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(index)
        found.append((top.text(1), top.text(0), None))
        found += [(top.child(i).text(1), top.child(i).text(0), top.text(1))
                  for i in range(top.childCount())]
    return found


def in_store(store: Store) -> list[tuple[str, str, str | None]]:
    return [(row.code, f"{row.label} (retired)" if row.retired else row.label, row.parent_code)
            for row in Topics(store, SUPERVISOR, ANY_TIME).rows()]


def settle(qtbot, dialog: TaxonomyDialog, store: Store, selected: str) -> None:
    """Wait until the tree shows what the store holds, with ``selected`` selected."""
    qtbot.waitUntil(lambda: not dialog.tasks.busy and shown(dialog) == in_store(store)
                    and dialog.selected_code() == selected)


def click_topic(qtbot, dialog: TaxonomyDialog, code: str) -> None:
    tree = dialog.ui.topics_tree
    item = dialog.item(code)
    assert item is not None
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=tree.visualItemRect(item).center())
    assert dialog.selected_code() == code


def type_label(qtbot, text: str) -> None:
    """Alt+L to the Label field (its old text selected) and type over it."""
    press(qtbot, Qt.Key.Key_L, ALT)
    assert focused_name() == "Label"
    type_text(qtbot, text)


def test_a_supervisor_edits_the_topics_with_the_keyboard(qtbot, dialog, store) -> None:
    assert shown(dialog) == in_store(store)
    assert dialog.selected_code() == "financial"
    assert dialog.ui.topics_tree.hasFocus()

    # A new top-level topic: type its label, Alt+A.
    type_label(qtbot, "Kinship care")
    with qtbot.waitSignal(dialog.changed):
        press(qtbot, Qt.Key.Key_A, ALT)
    settle(qtbot, dialog, store, "kinship-care")
    assert shown(dialog)[-1] == ("kinship-care", "Kinship care", None)
    assert dialog.ui.label_edit.text() == "Kinship care"  # follows the new selection

    # A subtopic under it: Alt+S.
    type_label(qtbot, "Peer groups")
    with qtbot.waitSignal(dialog.changed):
        press(qtbot, Qt.Key.Key_S, ALT)
    settle(qtbot, dialog, store, "kinship-care.peer-groups")
    assert shown(dialog)[-1] == ("kinship-care.peer-groups", "Peer groups", "kinship-care")

    # Rename it: the code stays.
    type_label(qtbot, "Peer support groups")
    with qtbot.waitSignal(dialog.changed):
        press(qtbot, Qt.Key.Key_R, ALT)
    settle(qtbot, dialog, store, "kinship-care.peer-groups")
    assert shown(dialog)[-1] == ("kinship-care.peer-groups", "Peer support groups",
                                 "kinship-care")

    # Back in the tree, up to the new topic, and Ctrl+Up twice: above Practical and Other.
    press(qtbot, Qt.Key.Key_O, ALT)
    assert dialog.ui.topics_tree.hasFocus()
    press(qtbot, Qt.Key.Key_Up)
    assert dialog.selected_code() == "kinship-care"
    press(qtbot, Qt.Key.Key_Up, CTRL)
    settle(qtbot, dialog, store, "kinship-care")
    press(qtbot, Qt.Key.Key_Up, CTRL)
    settle(qtbot, dialog, store, "kinship-care")
    top = [code for code, _, parent in shown(dialog) if parent is None]
    assert top[-3:] == ["kinship-care", "practical", "other"]
    assert dialog.ui.topics_tree.hasFocus()

    # Move down with Alt+D puts it back under Practical.
    with qtbot.waitSignal(dialog.changed):
        press(qtbot, Qt.Key.Key_D, ALT)
    settle(qtbot, dialog, store, "kinship-care")
    top = [code for code, _, parent in shown(dialog) if parent is None]
    assert top[-3:] == ["practical", "kinship-care", "other"]


def test_retire_and_restore_follow_the_selection(qtbot, dialog, store) -> None:
    button = dialog.ui.retire_button
    click_topic(qtbot, dialog, "legal")
    assert button.text() == "R&etire"
    with qtbot.waitSignal(dialog.changed):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    settle(qtbot, dialog, store, "legal")
    rows = {code: text for code, text, _ in shown(dialog)}
    assert rows["legal"] == "Legal matters (retired)"
    assert rows["legal.sgo"].endswith(" (retired)")  # its subtopics with it
    item = dialog.item("legal")
    assert item is not None
    assert item.foreground(0).color() != dialog.item("education").foreground(0).color()
    assert button.text() == "R&estore"
    assert button.accessibleName() == "Restore"

    # A subtopic cannot come back while its topic is retired: the message says why.
    click_topic(qtbot, dialog, "legal.sgo")
    assert button.text() == "R&estore"
    press(qtbot, Qt.Key.Key_E, ALT)
    qtbot.waitUntil(lambda: dialog.ui.taxonomy_error_label.isVisible())
    assert "restore Legal matters first" in dialog.ui.taxonomy_error_label.text()
    assert {r.code: r for r in Topics(store, SUPERVISOR, ANY_TIME).rows()}["legal.sgo"].retired

    # Restore the topic, then the subtopic.
    click_topic(qtbot, dialog, "legal")
    with qtbot.waitSignal(dialog.changed):
        press(qtbot, Qt.Key.Key_E, ALT)
    settle(qtbot, dialog, store, "legal")
    assert not dialog.ui.taxonomy_error_label.isVisible()
    assert {c: t for c, t, _ in shown(dialog)}["legal"] == "Legal matters"
    click_topic(qtbot, dialog, "legal.sgo")
    with qtbot.waitSignal(dialog.changed):
        press(qtbot, Qt.Key.Key_E, ALT)
    settle(qtbot, dialog, store, "legal.sgo")
    assert not {r.code: r for r in Topics(store, SUPERVISOR, ANY_TIME).rows()}["legal.sgo"].retired
    assert button.text() == "R&etire"


def test_buttons_follow_the_selection(qtbot, dialog) -> None:
    ui = dialog.ui
    click_topic(qtbot, dialog, "financial")
    assert not ui.move_up_button.isEnabled() and ui.move_down_button.isEnabled()
    assert ui.add_subtopic_button.isEnabled()
    click_topic(qtbot, dialog, "other")
    assert ui.move_up_button.isEnabled() and not ui.move_down_button.isEnabled()
    click_topic(qtbot, dialog, "legal.sgo")
    assert not ui.add_subtopic_button.isEnabled()  # two levels only
    assert ui.rename_button.isEnabled()


def test_a_typed_label_is_kept_while_the_selection_changes(qtbot, dialog, store) -> None:
    type_label(qtbot, "Grandparents' rights")
    click_topic(qtbot, dialog, "family")
    assert dialog.ui.label_edit.text() == "Grandparents' rights"
    with qtbot.waitSignal(dialog.changed):
        qtbot.mouseClick(dialog.ui.add_subtopic_button, Qt.MouseButton.LeftButton)
    settle(qtbot, dialog, store, "family.grandparents-rights")


def test_refusals_are_shown_in_the_message_line(qtbot, dialog, store) -> None:
    before = Topics(store, SUPERVISOR, ANY_TIME).rows()
    dialog.ui.label_edit.clear()
    with qtbot.assertNotEmitted(dialog.changed):
        qtbot.mouseClick(dialog.ui.add_topic_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.ui.taxonomy_error_label.isVisible())
    assert dialog.ui.taxonomy_error_label.text() == "Not changed: give the topic a label"
    assert Topics(store, SUPERVISOR, ANY_TIME).rows() == before


def test_a_worker_is_refused(qtbot, tasks, store, amy, clock) -> None:
    dialog = open_dialog(qtbot, tasks, Topics(store, amy, clock))
    before = Topics(store, SUPERVISOR, ANY_TIME).rows()
    type_label(qtbot, "Mine")
    press(qtbot, Qt.Key.Key_A, ALT)
    qtbot.waitUntil(lambda: dialog.ui.taxonomy_error_label.isVisible())
    assert "only a supervisor" in dialog.ui.taxonomy_error_label.text()
    assert Topics(store, SUPERVISOR, ANY_TIME).rows() == before


def test_close_closes(qtbot, dialog) -> None:
    press(qtbot, Qt.Key.Key_C, ALT)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.result() == TaxonomyDialog.DialogCode.Accepted


def test_every_control_has_an_accessible_name_and_tab_reaches_it(qtbot, dialog) -> None:
    click_topic(qtbot, dialog, "legal")  # every button enabled
    focusable = [w for w in dialog.findChildren(QWidget)
                 if w.focusPolicy() != Qt.FocusPolicy.NoFocus
                 and not w.objectName().startswith("qt_") and w.isVisibleTo(dialog)]
    unnamed = [w.objectName() for w in focusable if not w.accessibleName()]
    assert unnamed == []
    names = [focused_name()]
    for _ in range(len(focusable) - 1):
        press(qtbot, Qt.Key.Key_Tab)
        names.append(focused_name())
    assert names == ["Topics", "Label", "Add topic", "Add subtopic", "Rename", "Move up",
                     "Move down", "Retire", "Close"]
    assert QApplication.focusWidget() is dialog.ui.close_button


def test_every_code_is_shown_whole(qtbot, dialog) -> None:
    tree = dialog.ui.topics_tree
    metrics = tree.fontMetrics()
    codes = [row.code for row in dialog.rows]
    assert codes
    widest = max(metrics.horizontalAdvance(code) for code in codes)
    assert tree.columnWidth(0) + widest + 8 <= tree.viewport().width()
    assert tree.horizontalScrollBar().maximum() == 0
