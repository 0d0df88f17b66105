"""Who sits at the desk, in the real window: the first supervisor on a new store, signing in,
the growing wait after wrong passwords, and the lock after idle time (PRODUCT.md §8).

Driven by key presses on real widgets (offscreen Qt) over a real SQLite store in tmp_path. Idle
time passes by moving the fixed clock and asking the idle watch to look, never by waiting.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from advice_desk import settings
from advice_desk.calls.drafts import Drafts
from advice_desk.calls.history import CallQuery
from advice_desk.calls.record import SavedDraft
from advice_desk.calls.service import Calls
from advice_desk.gui.follow_ups import FollowUpsDialog
from advice_desk.gui.main_window import MainWindow
from advice_desk.gui.sign_in import FirstSupervisorDialog, SignInDialog
from advice_desk.people import accounts
from advice_desk.people.accounts import Users, actor_of, get_or_create_user
from advice_desk.people.permissions import Actor, Role
from tests.factories import a_call, opened_store
from tests.gui_support import (
    PASSWORD,
    focused,
    focused_name,
    make_account,
    open_window,
    press,
    sign_in_with_keyboard,
    start_window,
    type_text,
)
from tests.support import ANY_TIME, SUPERVISOR

WRONG = "Wrong user name or password."
IDLE_LIMIT = timedelta(minutes=10)  # PRODUCT.md §8: the default
NOT_YET = timedelta(minutes=9)
NOTES = "Asked whether a kinship carer can get a fostering allowance."
BOB_PASSWORD = "bob's own passphrase"
FOLLOW_UP_NOTE = "Ring Jo Bloggs back on 07700 900123 about the SGO allowance."
CTRL, ALT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier


# --- helpers ------------------------------------------------------------------------------------

def submit(qtbot, window: MainWindow) -> None:
    """Press Return in the dialog and wait for the store thread's answer."""
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.tasks.busy)


def with_store(location, clock, job):
    with opened_store(location, clock) as store:
        return job(store)


def saved_draft(location, clock, user_id: int) -> SavedDraft | None:
    worker = Actor(user_id, "worker", "Worker", Role.WORKER)
    return with_store(location, clock, lambda store: Drafts(store, worker, clock).load())


def give_bob_his_own_password(location, clock) -> None:
    make_account(location, clock, "bob")

    def reset(store) -> None:
        sam = accounts.sign_in(store, "sam", PASSWORD, clock)
        bob = next(a for a in Users(store, sam, clock).accounts() if a.username == "bob")
        Users(store, sam, clock).reset_password(bob.id, BOB_PASSWORD)

    with_store(location, clock, reset)


def type_part_of_a_call(qtbot, window: MainWindow) -> None:
    """The start of a call: the caller type and a line of notes, nothing saved yet."""
    qtbot.keyClick(window, Qt.Key.Key_N, CTRL)
    assert focused_name() == "Caller type"
    type_text(qtbot, "Grand")
    qtbot.keyClick(window, Qt.Key.Key_E, ALT)
    assert focused_name() == "Notes"
    type_text(qtbot, NOTES)


def idle_for(window: MainWindow, clock, idle: timedelta) -> None:
    clock.advance(idle)
    window.idle_watch.check()


# --- the first start ----------------------------------------------------------------------------

def test_the_first_start_creates_the_first_supervisor(qtbot, location, clock):
    window = start_window(qtbot, location, clock)
    dialog = window.sign_in_dialog
    assert isinstance(dialog, FirstSupervisorDialog)
    assert window.statusBar().currentMessage() == "Create the first supervisor."
    assert not window.save_action.isEnabled()
    assert not window.supervisor_menu.menuAction().isVisible()
    ui = dialog.ui
    qtbot.waitUntil(lambda: ui.new_username_edit.hasFocus())

    type_text(qtbot, "sam")
    press(qtbot, Qt.Key.Key_Tab)
    assert focused_name() == "Full name"
    type_text(qtbot, "Sam Supervisor")
    press(qtbot, Qt.Key.Key_Tab)
    assert focused_name() == "Password"
    type_text(qtbot, PASSWORD)
    press(qtbot, Qt.Key.Key_Tab)
    assert focused_name() == "Repeat password"
    type_text(qtbot, PASSWORD + "!")
    press(qtbot, Qt.Key.Key_Return)
    assert ui.first_message.text() == "The two passwords are not the same."
    assert ui.repeat_edit.text() == ""
    assert focused() is ui.repeat_edit
    assert dialog.isVisible()

    # Too short: the core refuses it and says why; the dialog asks for the password again.
    qtbot.keyClick(dialog, Qt.Key.Key_P, ALT)
    assert focused() is ui.new_password_edit
    type_text(qtbot, "short")
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "short")
    submit(qtbot, window)
    assert ui.first_message.text() == (
        f"password: use at least {accounts.MIN_PASSWORD_LENGTH} characters")
    assert ui.new_password_edit.text() == ""
    assert focused() is ui.new_password_edit
    assert dialog.isVisible()
    assert window.desk is None
    assert with_store(location, clock, accounts.needs_first_supervisor)

    type_text(qtbot, PASSWORD)
    press(qtbot, Qt.Key.Key_Tab)  # tabbing in selects the old "short": typing replaces it
    type_text(qtbot, PASSWORD)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.save_action.isEnabled())
    assert not dialog.isVisible()
    assert window.sign_in_dialog is None
    assert window.supervisor_menu.menuAction().isVisible()
    assert window.statusBar().currentMessage() == "Ready. Signed in as Sam Supervisor."
    assert window.desk is not None and window.desk.actor.is_supervisor
    assert not with_store(location, clock, accounts.needs_first_supervisor)
    sam = with_store(location, clock,
                     lambda store: accounts.sign_in(store, "sam", PASSWORD, clock))
    assert (sam.username, sam.name, sam.is_supervisor) == ("sam", "Sam Supervisor", True)

    # The next start on the same store asks to sign in, not for another first supervisor.
    second = start_window(qtbot, location, clock)
    assert type(second.sign_in_dialog) is SignInDialog
    assert not second.sign_in_dialog.locked
    assert second.statusBar().currentMessage() == "Sign in to log calls."
    sign_in_with_keyboard(qtbot, second, "sam")
    qtbot.waitUntil(lambda: second.save_action.isEnabled())
    assert second.supervisor_menu.menuAction().isVisible()


# --- signing in ---------------------------------------------------------------------------------

def test_a_wrong_password_is_refused_and_the_right_one_signs_in(qtbot, location, clock):
    make_account(location, clock)
    window = start_window(qtbot, location, clock)
    dialog = window.sign_in_dialog
    assert type(dialog) is SignInDialog and not dialog.locked
    ui = dialog.ui

    sign_in_with_keyboard(qtbot, window, "amy", "not amy's password")
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert ui.sign_in_message.text() == WRONG
    assert ui.password_edit.text() == ""
    assert focused() is ui.password_edit
    assert ui.username_edit.text() == "amy"
    assert dialog.isVisible()
    assert window.desk is None and not window.save_action.isEnabled()

    type_text(qtbot, PASSWORD)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.save_action.isEnabled())
    assert not dialog.isVisible()
    assert window.sign_in_dialog is None
    assert window.desk is not None and window.desk.actor.username == "amy"
    assert window.statusBar().currentMessage() == "Ready. Signed in as Amy Adviser."
    assert not window.supervisor_menu.menuAction().isVisible()  # a worker


def test_an_unknown_user_name_gets_the_same_answer(qtbot, location, clock):
    make_account(location, clock)
    window = start_window(qtbot, location, clock)
    sign_in_with_keyboard(qtbot, window, "nobody", PASSWORD)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert window.sign_in_dialog.ui.sign_in_message.text() == WRONG
    assert window.desk is None


def test_repeated_wrong_passwords_make_the_next_try_wait(qtbot, location, clock):
    make_account(location, clock)
    window = start_window(qtbot, location, clock)
    ui = window.sign_in_dialog.ui
    sign_in_with_keyboard(qtbot, window, "amy", "guess one")
    qtbot.waitUntil(lambda: not window.tasks.busy)
    for guess in ("guess two", "guess three"):
        type_text(qtbot, guess)
        submit(qtbot, window)
    # Three wrong passwords in a row: the next try, even the right one, must wait a second.
    type_text(qtbot, PASSWORD)
    submit(qtbot, window)
    assert ui.sign_in_message.text() == WRONG
    assert window.desk is None

    clock.advance(timedelta(seconds=1))
    type_text(qtbot, PASSWORD)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.save_action.isEnabled())
    assert window.desk is not None and window.desk.actor.username == "amy"


def test_escape_at_sign_in_closes_the_window(qtbot, location, clock):
    make_account(location, clock)
    window = start_window(qtbot, location, clock)
    dialog = window.sign_in_dialog
    qtbot.waitUntil(lambda: dialog.ui.username_edit.hasFocus())
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isVisible())
    assert not dialog.isVisible()
    assert window.desk is None


# --- the idle lock ------------------------------------------------------------------------------

def test_idle_time_locks_the_window_and_only_the_same_worker_unlocks_it(qtbot, location, clock):
    give_bob_his_own_password(location, clock)
    window = open_window(qtbot, location, clock)
    amy_id = window.desk.actor.id
    type_part_of_a_call(qtbot, window)

    idle_for(window, clock, IDLE_LIMIT)
    assert window.locked
    assert not window.centralWidget().isVisible()  # no personal data on the screen
    assert not window.form.isVisible()
    assert not window.save_action.isEnabled()
    assert not window.form.ui.save_button.isEnabled()
    dialog = window.sign_in_dialog
    assert type(dialog) is SignInDialog and dialog.locked
    qtbot.waitUntil(dialog.isVisible)
    ui = dialog.ui
    assert ui.username_edit.text() == "amy"
    assert ui.username_edit.isReadOnly()
    assert dialog.windowTitle() == "Locked"
    qtbot.waitUntil(lambda: saved_draft(location, clock, amy_id) is not None)
    details = saved_draft(location, clock, amy_id).payload["details"]
    assert (details["caller_type"], details["notes"]) == ("grandparent", NOTES)

    # Escape does not get round the lock.
    qtbot.waitUntil(lambda: ui.password_edit.hasFocus())
    press(qtbot, Qt.Key.Key_Escape)
    assert dialog.isVisible()
    assert window.locked

    # A wrong password keeps it locked.
    type_text(qtbot, "not amy's password")
    submit(qtbot, window)
    assert ui.sign_in_message.text() == WRONG
    assert ui.password_edit.text() == ""
    assert window.locked and dialog.isVisible()

    # Nor can someone else sign in over amy: the user name cannot be changed, and another
    # user's password is not amy's.
    qtbot.keyClick(dialog, Qt.Key.Key_U, ALT)
    assert focused() is ui.username_edit
    type_text(qtbot, "bob")
    assert ui.username_edit.text() == "amy"
    qtbot.keyClick(dialog, Qt.Key.Key_P, ALT)
    assert focused() is ui.password_edit
    type_text(qtbot, BOB_PASSWORD)
    submit(qtbot, window)
    assert ui.sign_in_message.text() == WRONG
    assert window.locked and dialog.isVisible()
    assert window.desk.actor.username == "amy"

    # Amy's own password unlocks, and the call she was writing is still there.
    type_text(qtbot, PASSWORD)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.locked)
    assert window.centralWidget().isVisible()
    assert not dialog.isVisible()
    assert window.sign_in_dialog is None
    assert window.save_action.isEnabled()
    assert window.desk.actor.username == "amy"
    form = window.form.ui
    assert form.caller_type_combo.currentData() == "grandparent"
    assert form.notes_edit.toPlainText() == NOTES
    assert window.form.is_dirty
    # Offscreen Qt has no window manager to hand activation back when a dialog closes.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    assert focused_name() == "Notes"  # the worker carries on where they stopped

    # The idle watch starts again from the unlock, and a key press starts it again too.
    idle_for(window, clock, NOT_YET)
    assert not window.locked
    qtbot.keyClick(window, Qt.Key.Key_E, ALT)
    assert focused_name() == "Notes"
    press(qtbot, Qt.Key.Key_End, CTRL)
    idle_for(window, clock, NOT_YET)
    assert not window.locked

    # The call is finished and saved as usual.
    qtbot.keyClick(window, Qt.Key.Key_F, CTRL)
    assert focused_name() == "Caller type"
    press(qtbot, Qt.Key.Key_Tab)
    assert focused_name() == "Arrangement"
    type_text(qtbot, "Special")
    qtbot.keyClick(window, Qt.Key.Key_O, ALT)
    assert focused_name() == "Topics"
    type_text(qtbot, "virtual sch")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.keyClick(window, Qt.Key.Key_U, ALT)
    assert focused_name() == "Outcomes"
    type_text(qtbot, "Adv")
    press(qtbot, Qt.Key.Key_Space)
    qtbot.keyClick(window, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: window.history.rowCount() == 1)
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert not window.form.is_dirty
    assert saved_draft(location, clock, amy_id) is None

    def the_call(store):
        (row,) = Calls(store, SUPERVISOR, ANY_TIME).list(CallQuery())
        return Calls(store, SUPERVISOR, ANY_TIME).get(row.id).details

    call = with_store(location, clock, the_call)
    assert (call.caller_type, call.arrangement, call.notes) == ("grandparent", "sgo", NOTES)

    # Still watching: ten minutes after the last key press, it locks again.
    idle_for(window, clock, IDLE_LIMIT)
    assert window.locked


def test_the_lock_waits_for_the_whole_idle_limit(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    idle_for(window, clock, IDLE_LIMIT - timedelta(seconds=1))
    assert not window.locked
    assert window.sign_in_dialog is None
    idle_for(window, clock, timedelta(seconds=1))
    assert window.locked
    assert window.sign_in_dialog is not None and window.sign_in_dialog.locked


def test_the_stores_idle_limit_is_used(qtbot, location, clock):
    make_account(location, clock)

    def three_minutes(store) -> None:
        with store.write() as session:
            settings.write_setting(session, settings.IDLE_LOCK_MINUTES.key, 3)

    with_store(location, clock, three_minutes)
    window = open_window(qtbot, location, clock)
    idle_for(window, clock, timedelta(minutes=2, seconds=59))
    assert not window.locked
    idle_for(window, clock, timedelta(seconds=1))
    assert window.locked


# --- activity -----------------------------------------------------------------------------------

def test_key_presses_and_mouse_clicks_put_off_the_lock(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    activities = {
        "a key press on the window": lambda: qtbot.keyClick(window, Qt.Key.Key_Shift),
        "typing in the form": lambda: qtbot.keyClick(window.form.ui.notes_edit, Qt.Key.Key_A),
        "a click on the window": lambda: qtbot.mouseClick(window, Qt.MouseButton.LeftButton),
        "a click in the history": lambda: qtbot.mouseClick(window.ui.history_view.viewport(),
                                                           Qt.MouseButton.LeftButton),
    }
    idle_for(window, clock, NOT_YET)
    for activity, act in activities.items():
        act()
        idle_for(window, clock, NOT_YET)  # 18 minutes since the one before, 9 since this one
        assert not window.locked, activity
    idle_for(window, clock, IDLE_LIMIT - NOT_YET)  # 10 minutes since the last activity
    assert window.locked


# --- bugs found -----------------------------------------------------------------------------------

def seed_a_call_with_a_follow_up(location, clock) -> None:
    """Amy's call of this morning, with a follow-up due today whose note names the caller."""
    make_account(location, clock)  # sam and amy

    def log(store) -> None:
        amy = get_or_create_user(store, "amy", clock)
        start = clock.now() - timedelta(minutes=30)
        Calls(store, actor_of(amy), clock).log(a_call(
            start, 300, arrangement="informal", topics=("family.siblings",), notes=NOTES,
            follow_up_on=date(2026, 11, 23), follow_up_note=FOLLOW_UP_NOTE))

    with_store(location, clock, log)


def shown_beside_the_lock(window: MainWindow) -> list[str]:
    """The titles of the app's windows still on screen, other than the locked window and
    its unlock dialog."""
    return [w.windowTitle() for w in window.findChildren(QWidget)
            if w.isWindow() and w.isVisible() and w is not window.sign_in_dialog]


def test_the_lock_hides_an_open_follow_ups_list(qtbot, location, clock):
    seed_a_call_with_a_follow_up(location, clock)
    window = open_window(qtbot, location, clock)
    qtbot.keyClick(window, Qt.Key.Key_U, CTRL)
    follow_ups = window.findChild(FollowUpsDialog)
    tree = follow_ups.ui.follow_ups_tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 3
                    and tree.topLevelItem(1).childCount() == 1)
    assert tree.topLevelItem(1).child(0).text(4) == FOLLOW_UP_NOTE

    idle_for(window, clock, IDLE_LIMIT)
    assert window.locked
    assert shown_beside_the_lock(window) == []
    window.sign_in_dialog.ui.password_edit.setText(PASSWORD)
    window.sign_in_dialog.ui.sign_in_button.click()
    qtbot.waitUntil(lambda: not window.locked)
    assert follow_ups.isVisible()  # back as it was


def test_the_lock_hides_an_open_review_window(qtbot, location, clock):
    seed_a_call_with_a_follow_up(location, clock)
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    qtbot.keyClick(window, Qt.Key.Key_R, CTRL | Qt.KeyboardModifier.ShiftModifier)
    review = window.review_window
    qtbot.waitUntil(lambda: review.model.rowCount() == 1)
    review.ui.review_view.setFocus()
    review.ui.review_view.selectRow(0)
    qtbot.waitUntil(lambda: NOTES in review.ui.call_details_view.toPlainText())

    idle_for(window, clock, IDLE_LIMIT)
    assert window.locked
    assert shown_beside_the_lock(window) == []


def test_escape_on_the_first_start_leaves_no_dead_window(qtbot, location, clock):
    window = start_window(qtbot, location, clock)
    dialog = window.sign_in_dialog
    assert isinstance(dialog, FirstSupervisorDialog)
    qtbot.waitUntil(lambda: dialog.ui.new_username_edit.hasFocus())
    press(qtbot, Qt.Key.Key_Escape)
    # Either the app closes, as Escape at sign-in does, or it goes on asking.
    assert dialog.isVisible() or not window.isVisible()


# --- locking and signing out on purpose ---------------------------------------------------------

def test_ctrl_l_locks_at_once_and_the_call_is_kept(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    type_part_of_a_call(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_L, CTRL)
    assert window.locked
    assert not window.centralWidget().isVisible()
    dialog = window.sign_in_dialog
    assert dialog.ui.sign_in_intro.text().startswith("Advice Desk is locked.")  # not "idle"
    qtbot.waitUntil(lambda: dialog.ui.password_edit.hasFocus())
    type_text(qtbot, PASSWORD)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.locked)
    assert window.form.ui.notes_edit.toPlainText() == NOTES


def test_sign_out_goes_back_to_sign_in_and_keeps_the_draft(qtbot, location, clock):
    give_bob_his_own_password(location, clock)
    window = open_window(qtbot, location, clock)
    amy_id = window.desk.actor.id
    type_part_of_a_call(qtbot, window)
    file_menu = window.menuBar().actions()[0].menu()
    sign_out = next(a for a in file_menu.actions() if a.text() == "Sign &out")
    sign_out.trigger()
    assert window.desk is None
    assert not window.centralWidget().isVisible()  # amy's history is not for bob's eyes
    assert not window.save_action.isEnabled()
    qtbot.waitUntil(lambda: saved_draft(location, clock, amy_id) is not None)
    assert saved_draft(location, clock, amy_id).payload["details"]["notes"] == NOTES

    dialog = window.sign_in_dialog
    assert type(dialog) is SignInDialog and not dialog.locked
    sign_in_with_keyboard(qtbot, window, "bob", BOB_PASSWORD)
    qtbot.waitUntil(lambda: window.save_action.isEnabled())
    assert window.desk.actor.username == "bob"
    assert window.centralWidget().isVisible()
    assert window.form.ui.notes_edit.toPlainText() == ""  # amy's call stays amy's

    window.sign_out()
    sign_in_with_keyboard(qtbot, window, "AMY")  # any case
    qtbot.waitUntil(lambda: window.save_action.isEnabled())
    qtbot.waitUntil(lambda: window.form.ui.notes_edit.toPlainText() == NOTES)
    assert window.desk.actor.username == "amy"


def test_a_disabled_accounts_session_shows_the_lock_at_its_next_action(qtbot, location, clock):
    window = open_window(qtbot, location, clock)
    amy_id = window.desk.actor.id
    type_part_of_a_call(qtbot, window)

    def disable(active: bool):
        def change(store) -> None:
            sam = accounts.sign_in(store, "sam", PASSWORD, clock)
            Users(store, sam, clock).set_active(amy_id, active)
        return change

    with_store(location, clock, disable(False))
    qtbot.keyClick(window, Qt.Key.Key_F5)  # a silent call, logged with one key
    qtbot.waitUntil(lambda: window.locked)
    dialog = window.sign_in_dialog
    assert type(dialog) is SignInDialog and dialog.locked
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.ui.sign_in_intro.text().startswith(
        "Your account has been disabled by a supervisor, so Advice Desk is locked.")
    assert not window.centralWidget().isVisible()
    assert not window.save_action.isEnabled()
    assert [w for w in QApplication.topLevelWidgets()
            if w.isVisible() and w.inherits("QMessageBox")] == []  # the lock says why
    assert with_store(location, clock,
                      lambda store: Calls(store, SUPERVISOR, ANY_TIME).count(CallQuery())) == 0

    # Amy's password does not open a disabled account...
    qtbot.waitUntil(lambda: dialog.ui.password_edit.hasFocus())
    type_text(qtbot, PASSWORD)
    submit(qtbot, window)
    assert dialog.ui.sign_in_message.text() == WRONG
    assert window.locked
    # ...until a supervisor enables it again: the call she was typing is still there.
    with_store(location, clock, disable(True))
    type_text(qtbot, PASSWORD)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.locked)
    assert window.form.ui.notes_edit.toPlainText() == NOTES
    assert window.save_action.isEnabled()
