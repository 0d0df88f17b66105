"""The main window: the intake form beside the call history.

The window paints before the store is open (:mod:`advice_desk.gui.opening`): the worker can
already start typing, and saving is enabled once someone has signed in. Idle time locks it
(:mod:`advice_desk.gui.idle_lock`). Every action has a shortcut (Ctrl+N new call, Ctrl+Enter
save, F5–F9 non-data calls, Ctrl+H history, Ctrl+L lock, F1 the list of them all). The window's
size and its splitters are remembered in ``window.ini`` in the config folder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QComboBox, QMainWindow, QSplitter, QWidget

from advice_desk.calls.history import CallQuery
from advice_desk.clock import Clock, to_uk, uk_today
from advice_desk.gui import errors
from advice_desk.gui.forms import load_form
from advice_desk.gui.history_model import HistoryModel, HistorySearch, set_up_view
from advice_desk.gui.idle_lock import IdleWatch, ScreenLock
from advice_desk.gui.intake_form import IntakeForm
from advice_desk.gui.live import LiveDesk, SeatsLabel
from advice_desk.gui.opening import DeskOpening
from advice_desk.gui.repeat_callers import RepeatCallersPanel
from advice_desk.gui.server_status import ServerStatus
from advice_desk.gui.sign_in import FirstSupervisorDialog, SignInDialog
from advice_desk.gui.taskman import TaskManager
from advice_desk.paths import Location, config_dir
from advice_desk.people.permissions import AccountDisabled
from advice_desk.reference import lists as reference
from advice_desk.validation import ValidationError

if TYPE_CHECKING:  # (the call's record and the hours load after the first paint)
    from advice_desk.calls.record import SavedDraft, StoredCall
    from advice_desk.calls.topic_views import TopicChoice
    from advice_desk.desk import Desk
    from advice_desk.gui.backups_dialog import AutoBackups
    from advice_desk.gui.line_status import LineStatusLabel
    from advice_desk.gui.report_view import ReportWindow
    from advice_desk.gui.review_window import ReviewWindow
    from advice_desk.people.accounts import Worker
    from advice_desk.reference.hours import HoursPolicy
    from advice_desk.store.versions import CallChanged

DRAFT_DELAY_MS = 800  # save the draft this long after the last keystroke
PERIODS = (("All dates", None), ("Today", 0), ("Last 7 days", 6), ("Last 30 days", 29))
# What the window needs once someone has signed in, read in one go on the store thread.
Loaded = tuple[list["TopicChoice"], list["Worker"], "SavedDraft | None", "HoursPolicy",
               timedelta, str]
WINDOW_STATE_FILE = "window.ini"  # sizes and splitters, in the config folder: never the store


def window_state() -> QSettings:
    """Where window sizes and splitter positions are kept: an ini file in the app's config
    folder (``ADVICE_DESK_CONFIG_DIR`` moves it, as tests do)."""
    return QSettings(str(config_dir() / WINDOW_STATE_FILE), QSettings.Format.IniFormat)


def save_window_state(window: QWidget, name: str) -> None:
    state = window_state()
    state.setValue(f"{name}/geometry", window.saveGeometry())
    if isinstance(window, QMainWindow):
        state.setValue(f"{name}/state", window.saveState())
    for splitter in window.findChildren(QSplitter):
        if splitter.objectName():
            state.setValue(f"{name}/{splitter.objectName()}", splitter.saveState())
    state.sync()


def restore_window_state(window: QWidget, name: str) -> bool:
    """Put back the size and splitters saved last time; False when there is nothing saved."""
    state = window_state()
    geometry = state.value(f"{name}/geometry")
    if geometry is None:
        return False
    window.restoreGeometry(geometry)
    if isinstance(window, QMainWindow) and state.value(f"{name}/state") is not None:
        window.restoreState(state.value(f"{name}/state"))
    for splitter in window.findChildren(QSplitter):
        saved = state.value(f"{name}/{splitter.objectName()}")
        if splitter.objectName() and saved is not None:
            splitter.restoreState(saved)
    return True


def supervisor_tool(open_tool: Callable[[MainWindow, Desk], None]
                    ) -> Callable[[MainWindow], None]:
    """A supervisor's tool, opened with the desk only while a supervisor is signed in. A
    courtesy: the core refuses these to workers whatever the window offers."""
    def open_for_supervisor(window: MainWindow) -> None:
        desk = window.desk
        if desk is not None and desk.actor.is_supervisor:
            open_tool(window, desk)

    return open_for_supervisor


def _refill(combo: QComboBox, everything: str, items: Sequence[tuple[str, object]]) -> None:
    """New choices for a filter, keeping the one chosen if it is still there."""
    chosen = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(everything, None)
    for text, data in items:
        combo.addItem(text, data)
    combo.setCurrentIndex(max(combo.findData(chosen), 0))
    combo.blockSignals(False)


class MainWindow(QMainWindow):
    def __init__(self, location: Location, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.location = location
        self.desk: Desk | None = None
        self.report_window: ReportWindow | None = None
        self.review_window: ReviewWindow | None = None
        self._held_draft: SavedDraft | None = None
        self._topics: list[TopicChoice] = []
        self._workers: list[Worker] = []
        self.tasks = TaskManager(self)
        self.opening = DeskOpening(self.tasks, location, clock, self)
        self.screen_lock = ScreenLock(self.tasks, self)
        self._auto_backups: AutoBackups | None = None  # made once someone has signed in
        errors.name_store(location)
        self._saving = False
        self.line_status: LineStatusLabel | None = None  # made after the first paint
        self.server = ServerStatus(self.tasks, self)  # says when the server cannot be reached
        self.server.sent.connect(self._kept_calls_sent)
        self.server.refused.connect(self._take_back_refused)
        self._show_helpline_name(reference.helpline().name)
        self.resize(1280, 800)
        central = self._central = QWidget(self)
        self.setCentralWidget(central)
        self.ui = load_form("main_window.ui", central)
        self.form = IntakeForm(clock, self.ui.form_slot)
        self.ui.form_slot.layout().addWidget(self.form)
        self.callers_panel = RepeatCallersPanel(self.tasks, self.form, self)
        self.callers_panel.take_place_of(self.ui.history_panel)  # Ctrl+P: one or the other
        self.history = HistoryModel(self.tasks, self, clock)
        self.live = LiveDesk(self)  # other seats' saves (gui/live.py)
        self.seats_label = SeatsLabel(self)
        self.statusBar().addPermanentWidget(self.seats_label)
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_DELAY_MS)
        self.idle_watch = IdleWatch(clock, timedelta(minutes=10), self)
        self._build_history_view()
        self._build_actions()
        self._connect()
        self._set_ready(False)
        restore_window_state(self, "main")
        # Earlier calls are one caller's: the panel opens with Ctrl+P for that caller, never
        # because it was open when the app last closed (it would squeeze the form).
        self.callers_panel.hide()
        self.statusBar().showMessage(self.tr("Opening the store…"))

    @property
    def sign_in_dialog(self) -> SignInDialog | FirstSupervisorDialog | None:
        """The question on screen: who is at the desk, or who unlocks it."""
        return self.opening.dialog or self.screen_lock.dialog

    @property
    def locked(self) -> bool:
        return self.screen_lock.locked

    @property
    def auto_backups(self) -> AutoBackups:
        """The backup thread, made when first needed (a sign-in): not before the first paint."""
        if self._auto_backups is None:
            from advice_desk.gui.backups_dialog import AutoBackups

            self._auto_backups = AutoBackups(self.clock, self)
            self._auto_backups.store_damaged.connect(self.opening.found_damaged)
        return self._auto_backups

    # --- set-up ---------------------------------------------------------------------------

    def _build_history_view(self) -> None:
        view = self.ui.history_view
        view.setModel(self.history)
        view.setAccessibleName(self.tr("Call history"))
        view.verticalHeader().hide()
        view.setWordWrap(False)  # one line a call: a long topic shows in full as a tooltip
        set_up_view(view)
        self.history_search = HistorySearch(self.ui.history_search, self.history,
                                            self.ui.history_total, self)
        for label, days in PERIODS:
            self.ui.period_combo.addItem(self.tr(label), days)
        self.ui.splitter.setSizes([620, 660])

    def _action(self, text: str, shortcuts: list[QKeySequence | QKeySequence.StandardKey | str],
                slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        keys = [QKeySequence(s) for s in shortcuts]
        action.setShortcuts([k for k in keys if not k.isEmpty()])  # a platform may have none
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _go_to_history(self) -> None:
        self.callers_panel.give_way()  # the history is where the earlier calls were shown
        self.ui.history_view.setFocus()

    def _build_actions(self) -> None:
        self.new_action = self._action(self.tr("&New call"), [QKeySequence.StandardKey.New],
                                       self.new_call)
        self.save_action = self._action(self.tr("&Save call"), ["Ctrl+Return", "Ctrl+Enter"],
                                        self.save_call)
        self.discard_action = self._action(self.tr("&Discard call"), [], self.discard_call)
        history_action = self._action(self.tr("Go to call &history"), ["Ctrl+H"],
                                      self._go_to_history)
        search_action = self._action(self.tr("&Search the history"), ["Ctrl+K"],
                                     self.history_search.focus)
        form_action = self._action(self.tr("Go to the call &form"), ["Ctrl+F"],
                                   self.form.ui.caller_type_combo.setFocus)
        edit_action = self._action(self.tr("&Edit selected call"), [], self._edit_selected)
        self.correct_action = self._action(self.tr("Co&rrect selected non-data call…"),
                                           ["Ctrl+Shift+C"], self._correct_selected)
        self.follow_ups_action = self._action(self.tr("Follow-&ups…"), ["Ctrl+U"],
                                              self.open_follow_ups)
        self.callers_action = self._action(self.tr("Earlier calls of this &caller"),
                                           ["Ctrl+P"], self.callers_panel.toggle)
        quit_action = self._action(self.tr("&Quit"), ["Ctrl+Q"], self.close)
        self.lock_action = self._action(self.tr("&Lock"), ["Ctrl+L"], self.lock_now)
        self.sign_out_action = self._action(self.tr("Sign &out"), [], self.sign_out)
        self.shortcuts_action = self._action(self.tr("&Keyboard shortcuts"),
                                             ["F1"],
                                             self.show_shortcuts)
        self.about_action = self._action(self.tr("&About Advice Desk"), [], self.show_about)
        self.non_data_actions = [
            self._action(self.tr("{0}").format(kind.label), [kind.key],
                         self._non_data_logger(kind.code))
            for kind in reference.helpline().non_data_kinds]
        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&File"))
        file_menu.addActions([self.new_action, self.save_action, self.discard_action])
        file_menu.addSeparator()
        file_menu.addActions([self.lock_action, self.sign_out_action])
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        calls_menu = menu.addMenu(self.tr("&Calls"))
        calls_menu.addActions([edit_action, self.correct_action, history_action, search_action,
                               form_action, self.follow_ups_action, self.callers_action])
        calls_menu.addSeparator()
        calls_menu.addActions(self.non_data_actions)
        self.report_action = self._action(self.tr("&Report…"), ["Ctrl+R"], self.open_report)
        self.review_action = self._action(self.tr("Re&view calls…"), ["Ctrl+Shift+R"],
                                          self.open_review)
        self.hours_action = self._action(self.tr("Opening &hours…"), [], self.edit_hours)
        self.topics_action = self._action(self.tr("&Topics…"), [], self.edit_topics)
        self.users_action = self._action(self.tr("&Users…"), [], self.edit_users)
        self.audit_action = self._action(self.tr("&Audit trail…"), [], self.open_audit)
        self.export_action = self._action(self.tr("&Export for funders…"), ["Ctrl+E"],
                                          self.open_export)
        self.people_action = self._action(self.tr("A &person's data…"), [], self.open_people)
        self.settings_action = self._action(self.tr("Se&ttings…"), [], self.edit_settings)
        self.backups_action = self._action(self.tr("&Backups…"), [], self.open_backups)
        self.supervisor_actions = [self.report_action, self.review_action, self.export_action,
                                   self.people_action, self.hours_action, self.topics_action,
                                   self.users_action, self.audit_action, self.settings_action,
                                   self.backups_action]
        self.supervisor_menu = menu.addMenu(self.tr("&Supervisor"))
        self.supervisor_menu.addActions(self.supervisor_actions)
        self._show_supervisor_tools(False)
        help_menu = menu.addMenu(self.tr("&Help"))
        help_menu.addActions([self.shortcuts_action, self.about_action])
        toolbar = self.addToolBar(self.tr("Non-data calls"))
        toolbar.setObjectName("non_data_toolbar")
        toolbar.addActions(self.non_data_actions)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in self.non_data_actions:
            button = toolbar.widgetForAction(action)
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setIconText(self.tr("{0} ({1})").format(action.text(), keys))  # to learn
            button.setAccessibleName(action.text())
            button.setToolTip(self.tr("Log a call: {0} ({1})").format(action.text(), keys))
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # reached by its key, not by Tab

    def _connect(self) -> None:
        self.form.ui.save_button.clicked.connect(self.save_call)
        self.form.ui.discard_button.clicked.connect(self.discard_call)
        self.form.changed.connect(self._draft_timer.start)
        self._draft_timer.timeout.connect(self._save_draft)
        self.ui.history_view.activated.connect(self._edit_call_at)
        self.idle_watch.idle.connect(self.lock)
        self.opening.signed_in.connect(self._signed_in)
        self.opening.stopped.connect(self._store_stopped)
        self.screen_lock.unlocked.connect(self._unlocked)
        self.tasks.locked_out.connect(self.lock_out)
        self.live.changed.connect(self._other_seats_saved)
        self.live.seats_changed.connect(self.seats_label.show_seats)
        for combo in (self.ui.period_combo, self.ui.topic_filter_combo,
                      self.ui.worker_filter_combo):
            combo.currentIndexChanged.connect(self._apply_filters)

    def _show_supervisor_tools(self, shown: bool) -> None:
        """A courtesy: the core refuses these to workers whatever the menus show."""
        self.supervisor_menu.menuAction().setVisible(shown)
        for action in self.supervisor_actions:
            action.setEnabled(shown)

    def _set_ready(self, ready: bool) -> None:
        ready = ready and not self.opening.is_stopped
        for action in (self.save_action, *self.non_data_actions, self.lock_action,
                       self.sign_out_action):
            action.setEnabled(ready)
        self.form.ui.save_button.setEnabled(ready)

    # --- signing in -----------------------------------------------------------------------

    def open_store(self) -> None:
        """What waits for the first paint (:func:`advice_desk.gui.app.show_main_window`): the
        history's sort arrow, the line's status (the bank holidays take ~100 ms to load) and
        the store (SQLAlchemy ~300 ms)."""
        if self.line_status is None:
            from advice_desk.gui.line_status import LineStatusLabel
            from advice_desk.gui.sort_arrow import show_sort_arrow
            from advice_desk.reference.hours import default_policy

            show_sort_arrow(self.ui.history_view.horizontalHeader())
            policy = default_policy()  # until the store's own arrives
            self.line_status = LineStatusLabel(self.clock, policy, self)
            self.statusBar().addPermanentWidget(self.line_status)
            self.line_status.closing_soon.connect(self._warn_closing)
            self.form.set_hours_policy(policy)
        self.opening.start()

    def _store_stopped(self) -> None:
        """The store cannot be used (see :mod:`advice_desk.gui.opening`): no call is typed
        that could not be saved."""
        self._set_ready(False)
        self.form.setEnabled(False)

    def _signed_in(self, desk: Desk) -> None:
        self.desk = desk
        self.callers_panel.attach(desk)
        self.auto_backups.start(desk.store)
        self.server.attach(desk, self.location, self.clock)
        offline = self.server.offline
        assert offline is not None
        self.tasks.run(lambda: (desk.topics.choices(), desk.users.workers(),
                                offline.recover_draft(desk),
                                desk.settings.hours_policy(), desk.settings.idle_lock_limit(),
                                desk.settings.helpline_name())
                       ).success(self._desk_loaded)

    def _desk_loaded(self, loaded: Loaded) -> None:
        assert self.desk is not None
        topics, workers, draft, policy, idle_limit, helpline_name = loaded
        self._central.show()  # hidden while nobody was signed in, after a sign-out
        self._show_helpline_name(helpline_name)
        self.idle_watch.limit = idle_limit
        self.idle_watch.start()
        self._apply_hours_policy(policy)
        self._show_supervisor_tools(self.desk.actor.is_supervisor)
        self._show_workers(workers)
        self._show_topics(topics)
        self.history.attach(self.desk.calls.list, {t.code: t.display for t in topics},
                            self.desk.calls.count)
        self._set_ready(True)
        self.live.start(self.desk.store)
        self.live.sign_in()
        self.activateWindow()
        self.form.ui.caller_type_combo.setFocus(Qt.FocusReason.OtherFocusReason)
        self.statusBar().showMessage(
            self.tr("Ready. Signed in as {0}.").format(self.desk.actor.name), 5000)
        self.server.refresh()  # calls kept on this PC last time were sent, or refused
        if draft is not None and self.form.is_dirty:
            self._held_draft = draft  # typed before sign-in: the recovered call waits its turn
            self.form.set_notice(self.tr(
                "A call you were writing earlier was recovered; it comes back when this one "
                "is saved or discarded."))
        elif draft is not None:
            self.form.restore(draft.payload)
            when = to_uk(draft.updated_at).strftime("%H:%M on %d %b")
            self.form.set_notice(self.tr(
                "Recovered the call you were writing at {0}. Save it with Ctrl+Enter or "
                "discard it with Alt+D.").format(when))

    def _show_helpline_name(self, name: str) -> None:
        self.helpline_name = name
        self.setWindowTitle(self.tr("Advice Desk — {0}").format(name))

    def _show_topics(self, topics: list[TopicChoice]) -> None:
        self._topics = topics
        self.form.set_topics(topics)
        self.server.set_topics(topics)
        _refill(self.ui.topic_filter_combo, self.tr("All topics"),
                [(t.display, t.code) for t in topics])

    # --- actions --------------------------------------------------------------------------

    def new_call(self) -> None:
        if self.form.is_dirty:
            self.statusBar().showMessage(
                self.tr("Save (Ctrl+Enter) or discard (Alt+D) the call you are writing first."))
            return
        self.form.start_new_call()

    def save_call(self) -> None:
        if self.desk is None or self._saving:
            return
        try:
            details = self.form.read_details()
        except ValidationError as error:
            self.form.show_errors(error.errors)
            return
        desk, call_id, key = self.desk, self.form.editing_call_id, self.form.call_key
        payload = self.form.payload()
        version = self.form.editing_version
        self._saving = True
        self._draft_timer.stop()
        if call_id is None:
            self.server.run(lambda offline: offline.log_call(desk, details, key, payload)
                            ).success(self._saved).failure(self._save_failed)
        else:
            self.server.run(
                lambda offline: offline.update_call(desk, call_id, details, key, payload, version)
            ).success(lambda changed: self._updated(call_id, changed)).failure(
                self._save_failed)

    def _saved(self, call_id: int | None) -> None:
        self._saving = False
        self.form.clear()
        if call_id is None:
            self._kept()
        else:
            self.history.reload()
            self.statusBar().showMessage(self.tr("Call {0} saved.").format(call_id), 5000)
        self._put_back_held_draft()

    def _kept(self) -> None:
        self.statusBar().showMessage(self.tr(
            "Call kept on this PC: it will be sent when the server is back."), 10_000)

    def _kept_calls_sent(self, count: int) -> None:
        self.history.reload()
        self.statusBar().showMessage(
            self.tr("The server is back: the call kept on this PC was sent.") if count == 1
            else self.tr("The server is back: {0} calls kept on this PC were sent.").format(
                count), 10_000)

    def _put_back_held_draft(self) -> None:
        """The call recovered at sign-in, waiting while another was written, comes back."""
        held, self._held_draft = self._held_draft, None
        if held is not None:
            self.form.restore(held.payload)
            self.form.set_notice(self.tr("The call you were writing earlier is back."))
            self._save_draft()

    def _take_back_refused(self) -> None:
        """A call kept on this PC that the server refused comes back to the form when it is
        free, to be put right (it is the store's draft by then)."""
        if (self.desk is None or self.form.is_dirty or self._saving
                or self._held_draft is not None):
            return
        desk = self.desk
        self.server.run(lambda offline: offline.take_back(desk)).success(self._refused_back)

    def _refused_back(self, taken: tuple[SavedDraft, str] | None) -> None:
        if taken is None:
            return
        draft, reason = taken
        notice = self.tr("The server refused a call kept on this PC ({0}). Put it right and "
                         "save it with Ctrl+Enter, or discard it with Alt+D.").format(reason)
        if self.form.is_dirty or self._held_draft is not None:
            self._held_draft = draft  # comes back when the call in hand is saved or discarded
            return
        self.form.restore(draft.payload)
        self.form.set_notice(notice)

    def _updated(self, call_id: int, changed: list[str] | None) -> None:
        self._saving = False
        self.form.clear()
        if changed is None:
            self._kept()
        else:
            self.history.reload()
            message = (self.tr("Call {0} updated.").format(call_id) if changed
                       else self.tr("Call {0} had no changes.").format(call_id))
            self.statusBar().showMessage(message, 5000)
        self._put_back_held_draft()

    def _save_failed(self, error: BaseException) -> None:
        """The core's objections to the call are shown beside its fields."""
        self._saving = False
        from advice_desk.store.versions import CallChanged  # loaded: the store raised it

        if isinstance(error, ValidationError):
            self.form.show_errors(error.errors)
        elif isinstance(error, CallChanged):
            self._call_changed(error)
        else:
            errors.show_failure(self, error)

    def _call_changed(self, error: CallChanged) -> None:
        """Another seat changed the call since it was opened: reload it, or keep editing."""
        from advice_desk.gui.call_changed import offer_reload

        desk, call_id, version = self.desk, error.call_id, error.version

        def reload() -> None:
            if desk is None:
                return
            self.server.run(lambda offline: offline.discard_draft(desk))  # this PC's too
            self.tasks.run(lambda: desk.calls.get(call_id)).success(self._reloaded).failure(
                lambda failure: errors.show_failure(self, failure))

        def keep_editing() -> None:
            self.form.edit_over(version)
            self.statusBar().showMessage(self.tr(
                "What you typed is kept: saving it replaces the other change."), 5000)

        offer_reload(self, str(error), reload, keep_editing)

    def _reloaded(self, call: StoredCall) -> None:
        self.form.load_call(call)
        self.history.reload()
        self.statusBar().showMessage(self.tr("Call {0} reloaded as it is now.").format(call.id),
                                     5000)

    def discard_call(self) -> None:
        self._draft_timer.stop()
        self.form.clear()
        if self.desk is not None:
            desk = self.desk
            self.server.run(lambda offline: offline.discard_draft(desk))
        self.statusBar().showMessage(self.tr("Call discarded."), 5000)
        self._put_back_held_draft()

    def log_non_data_call(self, kind: str) -> None:
        if self.desk is None:
            return
        desk = self.desk
        label = {k.code: k.label for k in reference.helpline().non_data_kinds}[kind]
        self.server.run(lambda offline: offline.log_non_data(desk, kind)).success(
            lambda call_id: self._non_data_logged(label, call_id))

    def _non_data_logger(self, kind: str) -> Callable[[], None]:
        return lambda: self.log_non_data_call(kind)

    def _non_data_logged(self, label: str, call_id: int | None) -> None:
        if call_id is None:
            self._kept()
            return
        self.history.reload()
        self.statusBar().showMessage(self.tr("{0} logged (call {1}).").format(label, call_id),
                                     5000)

    def _correct_selected(self) -> None:
        """Change the selected non-data call to another kind, or withdraw it."""
        index = self.ui.history_view.currentIndex()
        if self.desk is None or not index.isValid():
            self.statusBar().showMessage(self.tr(
                "Select a non-data call in the history first (Ctrl+H)."), 5000)
            return
        call = self.history.row(index.row())
        if call.kind == "data":
            self.statusBar().showMessage(self.tr(
                "Call {0} has content: open it with Enter to edit it.").format(call.id), 5000)
            return
        from advice_desk.gui.correct_call import CorrectCallDialog

        dialog = CorrectCallDialog(call.id, call.kind, call.started_at, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        desk, call_id = self.desk, call.id
        dialog.accepted.connect(lambda: self._correct(desk, call_id, dialog.kind))
        dialog.open()

    def _correct(self, desk: Desk, call_id: int, kind: str | None) -> None:
        labels = {k.code: k.label for k in reference.helpline().non_data_kinds}
        done = (self.tr("Call {0} withdrawn: it is kept but not counted.").format(call_id)
                if kind is None else
                self.tr("Call {0} corrected to {1}.").format(call_id, labels[kind]))
        self.tasks.run(lambda: desk.calls.correct(call_id, kind)).success(
            lambda _: self._corrected(done)).failure(lambda error: errors.show_failure(self, error))

    def _corrected(self, message: str) -> None:
        self.history.reload()
        self.statusBar().showMessage(message, 5000)

    def _edit_selected(self) -> None:
        self._edit_call_at(self.ui.history_view.currentIndex())

    def _edit_call_at(self, index: QModelIndex) -> None:
        if self.desk is None or not index.isValid():
            return
        if self.form.is_dirty:
            self.statusBar().showMessage(self.tr(
                "Save (Ctrl+Enter) or discard (Alt+D) the call you are writing before "
                "opening another."))
            return
        desk, call_id = self.desk, self.history.call_id(index.row())
        self.tasks.run(lambda: desk.calls.get(call_id)).success(self._show_call)

    def _show_call(self, call: StoredCall) -> None:
        if call.kind != "data":
            self.statusBar().showMessage(self.tr("A non-data call has nothing to edit."), 5000)
            return
        self.form.load_call(call)
        self.form.ui.caller_type_combo.setFocus(Qt.FocusReason.OtherFocusReason)

    def _apply_filters(self) -> None:
        days = self.ui.period_combo.currentData()
        today = uk_today(self.clock)
        query = self.history.query
        self.history.set_query(CallQuery(
            date_from=None if days is None else today - timedelta(days=days),
            date_to=None if days is None else today,
            topic=self.ui.topic_filter_combo.currentData(),
            worker_id=self.ui.worker_filter_combo.currentData(),
            sort=query.sort, descending=query.descending, text=query.text))

    def open_follow_ups(self) -> None:
        if self.desk is None:
            return
        from advice_desk.gui.follow_ups import FollowUpsDialog

        review = self.desk.review
        dialog = FollowUpsDialog(self.tasks, review.follow_ups, review.complete_follow_up,
                                 {t.code: t.display for t in self._topics}, self)
        dialog.finished.connect(self.history.reload)
        self.live.changed.connect(dialog.refresh)
        dialog.open()

    def _other_seats_saved(self, _change: object = None) -> None:
        """Another seat (or this one) committed: the lists bring their rows up to date."""
        if self.desk is None:
            return
        self.history.refresh()
        if self.review_window is not None:
            self.review_window.refresh()

    def _show_workers(self, workers: list[Worker]) -> None:
        self._workers = workers
        _refill(self.ui.worker_filter_combo, self.tr("All workers"),
                [(w.display_name, w.id) for w in workers])

    # --- the supervisor's tools -------------------------------------------------------------

    @supervisor_tool
    def open_report(self, desk: Desk) -> None:
        # Imported on first use: QtCharts is only loaded when a supervisor opens a report.
        from advice_desk.gui.report_view import ReportWindow

        if self.report_window is None:
            reports = desk.reports
            self.report_window = ReportWindow(self.tasks, reports.for_period, reports.save_pdf,
                                              self.clock, self)
            restore_window_state(self.report_window, "report")
        _bring_up(self.report_window)

    @supervisor_tool
    def open_review(self, desk: Desk) -> None:
        from advice_desk.gui.review_window import ReviewWindow

        if self.review_window is None:
            self.review_window = ReviewWindow(self.tasks, desk.calls.list, desk.calls.get,
                                              desk.review.call, self._topics, self._workers,
                                              self, held_calls=desk.people.held_calls,
                                              set_legal_hold=desk.people.set_legal_hold,
                                              clock=self.clock)
            restore_window_state(self.review_window, "review")
        _bring_up(self.review_window)

    @supervisor_tool
    def edit_topics(self, desk: Desk) -> None:
        from advice_desk.gui.taxonomy_dialog import TaxonomyDialog

        dialog = TaxonomyDialog(self.tasks, desk.topics, self)
        dialog.changed.connect(
            lambda: self.tasks.run(desk.topics.choices).success(self._show_topics))
        dialog.open()

    @supervisor_tool
    def edit_users(self, desk: Desk) -> None:
        from advice_desk.gui.users_dialog import UsersDialog

        dialog = UsersDialog(self.tasks, desk.users, self)
        dialog.changed.connect(
            lambda: self.tasks.run(desk.users.workers).success(self._show_workers))
        dialog.open()

    @supervisor_tool
    def open_audit(self, desk: Desk) -> None:
        from advice_desk.gui.audit_view import AuditWindow

        AuditWindow(self.tasks, desk.audit, self.clock, self).open()

    @supervisor_tool
    def open_export(self, desk: Desk) -> None:
        from advice_desk.gui.export_dialog import ExportDialog

        ExportDialog(self.tasks, desk.export, self.clock, self).open()

    @supervisor_tool
    def open_people(self, desk: Desk) -> None:
        from advice_desk.gui.people_dialog import PeopleDialog

        people = desk.people
        PeopleDialog(self.tasks, people.search, people.save_subject_access, people.erase_calls,
                     self).open()

    @supervisor_tool
    def edit_settings(self, desk: Desk) -> None:
        from advice_desk.gui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.tasks, desk.settings, self)
        dialog.saved.connect(lambda _: self.tasks.run(
            lambda: (desk.settings.idle_lock_limit(), desk.settings.helpline_name())
        ).success(self._settings_saved))
        dialog.open()

    @supervisor_tool
    def open_backups(self, desk: Desk) -> None:
        from advice_desk.gui.backups_dialog import BackupsDialog, restore_in_window

        dialog = BackupsDialog(self.auto_backups, desk.store, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.restore_chosen.connect(lambda path: restore_in_window(self, path))
        dialog.open()

    def _settings_saved(self, values: tuple[timedelta, str]) -> None:
        self.idle_watch.limit, name = values
        self._show_helpline_name(name)
        self.statusBar().showMessage(self.tr("Settings saved."), 5000)

    @supervisor_tool
    def edit_hours(self, desk: Desk) -> None:
        from advice_desk.gui.hours_dialog import HoursDialog

        assert self.line_status is not None  # made before anyone could sign in
        dialog = HoursDialog(self.line_status.policy, self)
        if dialog.exec() != HoursDialog.DialogCode.Accepted or dialog.policy is None:
            return
        policy = dialog.policy
        self.tasks.run(lambda: desk.settings.save_hours_policy(policy)).success(
            lambda _: self._hours_saved(policy))

    # --- opening hours ----------------------------------------------------------------------

    def _apply_hours_policy(self, policy: HoursPolicy) -> None:
        assert self.line_status is not None  # made before anyone could sign in
        self.line_status.set_policy(policy)
        self.form.set_hours_policy(policy)

    def _warn_closing(self, closes_at: datetime) -> None:
        self.statusBar().showMessage(self.tr("The line closes at {0}.").format(
            to_uk(closes_at).strftime("%H:%M")), 60_000)

    def _hours_saved(self, policy: HoursPolicy) -> None:
        self._apply_hours_policy(policy)
        self.statusBar().showMessage(self.tr("Opening hours saved."), 5000)

    # --- locking ----------------------------------------------------------------------------

    def lock(self) -> None:
        """Hide everything until the same person signs in again; the call in hand is kept."""
        if self.desk is None or self.locked:
            return
        self._draft_timer.stop()
        self._save_draft()
        self._set_ready(False)
        self.live.sign_out()
        self.screen_lock.lock(self.desk)

    def lock_now(self) -> None:
        """File › Lock: the same lock as after idle time, saying why it is there."""
        self.lock()
        dialog = self.screen_lock.dialog
        if dialog is not None:
            dialog.ui.sign_in_intro.setText(self.tr(
                "Advice Desk is locked. Your unsaved call is kept. Enter your password to go "
                "on."))

    def lock_out(self) -> None:
        """The account was disabled while signed in: locked at its next action, as idle."""
        self.lock()
        dialog = self.screen_lock.dialog
        if dialog is not None:
            dialog.ui.sign_in_intro.setText(self.tr(
                "Your account has been disabled by a supervisor, so Advice Desk is locked. "
                "The call you were typing is kept."))

    def _unlocked(self) -> None:
        self._set_ready(True)
        self.live.sign_in()
        self.idle_watch.start()

    def sign_out(self) -> None:
        """Back to the sign-in dialog for whoever comes next; the call in hand is kept as the
        draft of the person signing out, and comes back when they sign in again."""
        if self.desk is None or self.locked:
            return
        desk = self.desk
        self._draft_timer.stop()
        self.idle_watch.stop()
        if self.form.is_dirty and not self._saving and self._held_draft is None:
            payload = self.form.payload()
            self.server.run(lambda offline: offline.save_draft(desk, payload))
        self.server.detach()
        self._held_draft = None
        self.form.clear()
        self.desk = None
        self.live.sign_out()
        self._set_ready(False)
        self._show_supervisor_tools(False)
        for window in (self.report_window, self.review_window):
            if window is not None:
                window.close()
                window.deleteLater()
        self.report_window = self.review_window = None
        for dialog in self.findChildren(QWidget):
            if dialog.isWindow() and dialog.isVisible():
                dialog.close()
        self._central.hide()  # the history is the last person's: hidden until sign-in
        self.statusBar().showMessage(self.tr("{0} signed out.").format(desk.actor.name))
        self.opening.sign_in_again()

    # --- help -------------------------------------------------------------------------------

    def show_shortcuts(self) -> None:
        from advice_desk.gui.help_window import (
            ShortcutsWindow,
            other_windows_keys,
            shortcuts_by_menu,
        )

        supervisor = self.desk is not None and self.desk.actor.is_supervisor
        window = ShortcutsWindow(shortcuts_by_menu(self.menuBar(), self.actions())
                                 + other_windows_keys(supervisor), self)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.shortcuts_window = window
        window.open()

    def show_about(self) -> None:
        from advice_desk.gui.help_window import AboutDialog

        dialog = AboutDialog(self.helpline_name, self.location.shown, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # --- drafts and closing ---------------------------------------------------------------

    def _save_draft(self) -> None:
        if (self.desk is None or not self.save_action.isEnabled() or not self.form.is_dirty
                or self._held_draft is not None):
            return  # never over a recovered call not loaded yet, or not put back yet
        desk, payload = self.desk, self.form.payload()
        self.server.run(lambda offline: offline.save_draft(desk, payload))

    def closeEvent(self, event: QCloseEvent) -> None:
        save_window_state(self, "main")
        for window, name in ((self.report_window, "report"), (self.review_window, "review")):
            if window is not None:
                save_window_state(window, name)
        self._draft_timer.stop()
        self.idle_watch.stop()
        # A save still in flight either lands (nothing to keep) or fails (the last autosaved
        # draft stays): a draft written now, after the save, would bring the call back twice.
        offline = self.server.offline
        if self.desk is not None and offline is not None and self.form.is_dirty \
                and not self._saving:
            desk, payload = self.desk, self.form.payload()
            with suppress(AccountDisabled):  # a disabled account keeps no draft
                self.tasks.run_now(lambda: offline.save_draft(desk, payload))
        self.server.detach()  # no more probes: the store thread stops
        self.live.stop()
        if self._auto_backups is not None:
            self._auto_backups.shutdown()
        self.tasks.shutdown()
        self.opening.close()
        super().closeEvent(event)


def _bring_up(window: QWidget) -> None:
    window.show()
    window.raise_()
    window.activateWindow()
