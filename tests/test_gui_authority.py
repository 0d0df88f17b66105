"""The intake form's authority box and retired GSS codes: an old code of an authority in use is
taken as today's, a split one is refused naming its successors, and a call stored with a split
code shows it "(retired)" and keeps it when edited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from advice_desk.calls.history import CallQuery
from advice_desk.calls.service import Calls
from advice_desk.gui.call_summary import call_summary_html
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.reference.lists import any_local_authority_by_code
from advice_desk.store.models import Call
from tests.factories import a_call, opened_store
from tests.gui_support import focused_name, open_first_history_call, open_window, press, type_text
from tests.support import ANY_TIME, SUPERVISOR


@pytest.fixture
def window(qtbot, location, clock):
    return open_window(qtbot, location, clock)


def _authorities(location, clock) -> list[str | None]:
    with opened_store(location, clock) as store:
        calls = Calls(store, SUPERVISOR, ANY_TIME)
        return [calls.get(row.id).details.local_authority for row in calls.list(CallQuery())]


def _new_call_in(qtbot, window, authority: str) -> None:
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, "Grand")
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "Special")
    press(qtbot, Qt.Key.Key_Tab)
    assert focused_name() == "Local authority"
    type_text(qtbot, authority)
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    type_text(qtbot, "virtual sch")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.keyClick(window, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)
    type_text(qtbot, "Adv")
    press(qtbot, Qt.Key.Key_Space)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def _stored_with_split_code(location, clock, code: str) -> int:
    """A call stored with the split authority ``code``, as before the split; its id."""
    with opened_store(location, clock) as store:
        amy = actor_of(get_or_create_user(store, "amy", clock))
        call_id = Calls(store, amy, clock).log(a_call(clock, local_authority="E06000063"))
        with store.write() as session:
            session.execute(sa.update(Call).where(Call.id == call_id)  # type: ignore[arg-type]
                            .values(local_authority=code))
    return call_id


def test_an_old_code_is_saved_as_the_code_in_use(qtbot, window, location, clock):
    _new_call_in(qtbot, window, "E08000016")  # Barnsley until April 2025
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)
    assert _authorities(location, clock) == ["E08000038"]


def test_a_split_authority_is_refused_naming_its_successors(qtbot, window, location, clock):
    _new_call_in(qtbot, window, "Cumbria")
    qtbot.waitUntil(lambda: window.form.ui.error_label.isVisible())
    assert ("Local authority: Cumbria was split: choose Cumberland (E06000063) or Westmorland "
            "and Furness (E06000064)") in window.form.ui.error_label.text()
    assert focused_name() == "Local authority"
    assert _authorities(location, clock) == []


def test_a_call_stored_with_a_split_code_shows_it_retired_and_keeps_it(qtbot, location, clock):
    call_id = _stored_with_split_code(location, clock, "E10000006")  # Cumbria
    with opened_store(location, clock) as store:
        html = call_summary_html(Calls(store, SUPERVISOR, ANY_TIME).get(call_id), {})
    assert "Cumbria (retired)" in html
    window = open_window(qtbot, location, clock)
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)
    open_first_history_call(qtbot, window)
    assert window.form.ui.local_authority_combo.currentText() == "Cumbria (retired)"
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    type_text(qtbot, "Rang back.")
    clock.advance(timedelta(minutes=1))
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.form.editing_call_id is None)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert _authorities(location, clock) == ["E10000006"]
    assert window.statusBar().currentMessage() == f"Call {call_id} updated."


def test_the_authority_box_shows_the_longest_name_unclipped_at_1366x768(qtbot, location,
                                                                         clock):
    """A stored call's retired authority ("Northamptonshire (retired)") and the longest name
    in use both fit the box: the window at 1366x768, the text's width within the box's."""
    _stored_with_split_code(location, clock, "E10000021")  # Northamptonshire
    window = open_window(qtbot, location, clock)
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)
    open_first_history_call(qtbot, window)
    combo = window.form.ui.local_authority_combo
    assert combo.currentText() == "Northamptonshire (retired)"
    assert not combo.visibleRegion().isEmpty()
    edit = combo.lineEdit()
    room = edit.contentsRect().width() - 4  # a line edit keeps 2 pixels either side of its text
    labels = [authority.label for authority in any_local_authority_by_code().values()]
    widths = {label: edit.fontMetrics().horizontalAdvance(label) for label in labels}
    assert widths["Northamptonshire (retired)"] <= room
    assert max(widths.values()) <= room, max(widths, key=widths.__getitem__)
