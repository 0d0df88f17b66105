"""The main window: the intake form beside the call history.

The window paints before the store is open: the store opens on the store thread while the
worker can already start typing, and saving is enabled once it is ready. Every action has a
shortcut (Ctrl+N new call, Ctrl+Enter save, F5–F9 non-data calls, Ctrl+H history).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QComboBox, QHeaderView, QMainWindow, QMessageBox, QWidget

from advice_desk.calls.history import CallQuery
from advice_desk.clock import Clock, to_uk, uk_today
from advice_desk.gui.follow_ups import FollowUpsDialog
from advice_desk.gui.forms import load_form
from advice_desk.gui.history_model import HistoryModel
from advice_desk.gui.hours_dialog import HoursDialog
from advice_desk.gui.idle_lock import IdleWatch
from advice_desk.gui.intake_form import IntakeForm
from advice_desk.gui.line_status import LineStatusLabel
from advice_desk.gui.sign_in import FirstSupervisorDialog, SignInDialog
from advice_desk.gui.taskman import TaskManager
from advice_desk.gui.taxonomy_dialog import TaxonomyDialog
from advice_desk.paths import Location
from advice_desk.reference import lists as reference
from advice_desk.reference.hours import HoursPolicy, default_policy
from advice_desk.validation import ValidationError

if TYPE_CHECKING:
    from advice_desk.desk import Desk, Reception
    from advice_desk.gui.report_view import ReportWindow
    from advice_desk.gui.review_window import ReviewWindow

DRAFT_DELAY_MS = 800  # save the draft this long after the last keystroke
PERIODS = (("All dates", None), ("Today", 0), ("Last 7 days", 6), ("Last 30 days", 29))


def _open_reception(location: Location, clock: Clock) -> tuple[Reception, bool]:
    # Imported here, on the store thread, after the first paint: SQLModel is slow to import.
    from advice_desk.desk import open_reception

    reception = open_reception(location, clock)
    return reception, reception.needs_first_supervisor()


def _refill(combo: QComboBox, everything: str, items: list[tuple[str, Any]]) -> None:
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
        self.location = location
        self.clock = clock
        self.reception: Reception | None = None
        self.desk: Desk | None = None
        self.sign_in_dialog: SignInDialog | FirstSupervisorDialog | None = None
        self.report_window: ReportWindow | None = None
        self._hidden_while_locked: list[QWidget] = []
        self._held_draft: Any = None
        self.review_window: ReviewWindow | None = None
        self._topics: list[Any] = []
        self._workers: list[Any] = []
        self.tasks = TaskManager(self)
        self._saving = False
        self.setWindowTitle(self.tr("Advice Desk — {0}").format(reference.helpline().name))
        self.resize(1280, 800)
        central = QWidget(self)
        self.setCentralWidget(central)
        self.ui = load_form("main_window.ui", central)
        self.form = IntakeForm(clock, self.ui.form_slot)
        self.ui.form_slot.layout().addWidget(self.form)
        self.history = HistoryModel(self.tasks, self)
        self.line_status = LineStatusLabel(clock, default_policy(), self)
        self.statusBar().addPermanentWidget(self.line_status)
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_DELAY_MS)
        self.idle_watch = IdleWatch(clock, timedelta(minutes=10), self)
        self._build_history_view()
        self._build_actions()
        self._connect()
        self._set_ready(False)
        self.statusBar().showMessage(self.tr("Opening the store…"))

    # --- set-up ---------------------------------------------------------------------------

    def _build_history_view(self) -> None:
        view = self.ui.history_view
        view.setModel(self.history)
        view.setAccessibleName(self.tr("Call history"))
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        view.horizontalHeader().setStretchLastSection(True)
        view.verticalHeader().hide()
        view.setWordWrap(False)  # one line a call: a long topic shows in full as a tooltip
        view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        for label, days in PERIODS:
            self.ui.period_combo.addItem(self.tr(label), days)
        self.ui.splitter.setSizes([620, 660])

    def _action(self, text: str, shortcuts: list[QKeySequence | str], slot: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.new_action = self._action(self.tr("&New call"), [QKeySequence.StandardKey.New],
                                       self.new_call)
        self.save_action = self._action(self.tr("&Save call"), ["Ctrl+Return", "Ctrl+Enter"],
                                        self.save_call)
        self.discard_action = self._action(self.tr("&Discard call"), [], self.discard_call)
        history_action = self._action(self.tr("Go to call &history"), ["Ctrl+H"],
                                      self.ui.history_view.setFocus)
        form_action = self._action(self.tr("Go to the call &form"), ["Ctrl+F"],
                                   self.form.ui.caller_type_combo.setFocus)
        edit_action = self._action(self.tr("&Edit selected call"), [], self._edit_selected)
        self.follow_ups_action = self._action(self.tr("Follow-&ups…"), ["Ctrl+U"],
                                              self.open_follow_ups)
        quit_action = self._action(self.tr("&Quit"), [QKeySequence.StandardKey.Quit], self.close)
        self.non_data_actions = [
            self._action(self.tr("{0}").format(kind.label), [kind.key],
                         lambda _=False, code=kind.code: self.log_non_data_call(code))
            for kind in reference.helpline().non_data_kinds]
        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&File"))
        file_menu.addActions([self.new_action, self.save_action, self.discard_action])
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        calls_menu = menu.addMenu(self.tr("&Calls"))
        calls_menu.addActions([edit_action, history_action, form_action, self.follow_ups_action])
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
        self.supervisor_actions = [self.report_action, self.review_action, self.export_action,
                                   self.people_action, self.hours_action, self.topics_action,
                                   self.users_action, self.audit_action]
        self.supervisor_menu = menu.addMenu(self.tr("&Supervisor"))
        self.supervisor_menu.addActions(self.supervisor_actions)
        self._show_supervisor_tools(False)
        toolbar = self.addToolBar(self.tr("Non-data calls"))
        toolbar.setObjectName("non_data_toolbar")
        toolbar.addActions(self.non_data_actions)
        for action in self.non_data_actions:
            button = toolbar.widgetForAction(action)
            button.setAccessibleName(action.text())
            button.setToolTip(f"{action.text()} ({action.shortcut().toString()})")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # reached by its key, not by Tab

    def _connect(self) -> None:
        self.form.ui.save_button.clicked.connect(self.save_call)
        self.form.ui.discard_button.clicked.connect(self.discard_call)
        self.form.changed.connect(self._draft_timer.start)
        self._draft_timer.timeout.connect(self._save_draft)
        self.ui.history_view.activated.connect(self._edit_call_at)
        self.line_status.closing_soon.connect(self._warn_closing)
        self.idle_watch.idle.connect(self.lock)
        for combo in (self.ui.period_combo, self.ui.topic_filter_combo,
                      self.ui.worker_filter_combo):
            combo.currentIndexChanged.connect(self._apply_filters)

    def _show_supervisor_tools(self, shown: bool) -> None:
        """A courtesy: the core refuses these to workers whatever the menus show."""
        self.supervisor_menu.menuAction().setVisible(shown)
        for action in self.supervisor_actions:
            action.setEnabled(shown)

    def _set_ready(self, ready: bool) -> None:
        for action in (self.save_action, *self.non_data_actions):
            action.setEnabled(ready)
        self.form.ui.save_button.setEnabled(ready)

    # --- opening the store ----------------------------------------------------------------

    def open_store(self) -> None:
        location, clock = self.location, self.clock
        self.tasks.run(lambda: _open_reception(location, clock),
                       on_success=self._store_opened, on_failure=self._store_failed)

    def _store_opened(self, opened: tuple[Reception, bool]) -> None:
        self.reception, needs_supervisor = opened
        if needs_supervisor:
            dialog: SignInDialog | FirstSupervisorDialog = FirstSupervisorDialog(
                self.tasks, self.reception.create_first_supervisor, self)
            message = self.tr("Create the first supervisor.")
        else:
            dialog = SignInDialog(self.tasks, self.reception.sign_in, self)
            message = self.tr("Sign in to log calls.")
        dialog.rejected.connect(self.close)  # nobody signed in: nothing to do but leave
        self.statusBar().showMessage(message)
        self._ask(dialog, self._signed_in)

    def _ask(self, dialog: SignInDialog | FirstSupervisorDialog, then: Any) -> None:
        self.sign_in_dialog = dialog
        dialog.done_with.connect(then)
        dialog.open()

    def _signed_in(self, desk: Desk) -> None:
        self.desk = desk
        self.sign_in_dialog = None
        self.tasks.run(
            lambda: (desk.topics.choices(), desk.workers(), desk.load_draft(), desk.hours_policy(),
                     desk.idle_limit()),
            on_success=self._desk_loaded, on_failure=self._show_failure)

    def _desk_loaded(self, loaded: tuple[list[Any], list[Any], Any, HoursPolicy, timedelta]
                     ) -> None:
        assert self.desk is not None
        topics, workers, draft, policy, idle_limit = loaded
        self.idle_watch.limit = idle_limit
        self.idle_watch.start()
        self._apply_hours_policy(policy)
        self._show_supervisor_tools(self.desk.actor.is_supervisor)
        self._show_workers(workers)
        self._show_topics(topics)
        self.history.attach(self.desk.list_calls, {t.code: t.display for t in topics})
        self._set_ready(True)
        self.activateWindow()
        self.form.ui.caller_type_combo.setFocus(Qt.FocusReason.OtherFocusReason)
        self.statusBar().showMessage(
            self.tr("Ready. Signed in as {0}.").format(self.desk.actor.name), 5000)
        assert self.reception is not None
        self.tasks.run(self.reception.apply_retention, on_success=self._retention_done,
                       on_failure=self._show_failure)
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

    def _show_topics(self, topics: list[Any]) -> None:
        self._topics = topics
        self.form.set_topics(topics)
        _refill(self.ui.topic_filter_combo, self.tr("All topics"),
                [(t.display, t.code) for t in topics])

    def _retention_done(self, erased: int) -> None:
        if erased:
            self.statusBar().showMessage(self.tr(
                "The personal details of {0} old calls were erased, as the retention policy "
                "asks.").format(erased), 10_000)

    def _store_failed(self, error: BaseException) -> None:
        self.statusBar().showMessage(self.tr("The store could not be opened."))
        QMessageBox.critical(self, self.tr("Advice Desk cannot open its store"), str(error))

    def _show_failure(self, error: BaseException) -> None:
        if isinstance(error, ValidationError):
            self.form.show_errors(error.errors)
            return
        self.statusBar().showMessage(self.tr("Something went wrong: {0}").format(error))
        QMessageBox.warning(self, self.tr("Advice Desk"), self.tr(
            "{0}\n\nWhat you typed is kept; try again, and if this goes on, tell your "
            "supervisor.").format(error))

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
        desk, call_id = self.desk, self.form.editing_call_id
        self._saving = True
        self._draft_timer.stop()
        if call_id is None:
            self.tasks.run(lambda: desk.log_call(details), on_success=self._saved,
                           on_failure=self._save_failed)
        else:
            self.tasks.run(lambda: desk.update_call(call_id, details),
                           on_success=lambda changed: self._updated(call_id, changed),
                           on_failure=self._save_failed)

    def _saved(self, call_id: int) -> None:
        self._saving = False
        self.form.clear()
        self.history.reload()
        self.statusBar().showMessage(self.tr("Call {0} saved.").format(call_id), 5000)
        self._put_back_held_draft()

    def _put_back_held_draft(self) -> None:
        """The call recovered at sign-in, waiting while another was written, comes back."""
        held, self._held_draft = self._held_draft, None
        if held is not None:
            self.form.restore(held.payload)
            self.form.set_notice(self.tr("The call you were writing earlier is back."))
            self._save_draft()

    def _updated(self, call_id: int, changed: list[str]) -> None:
        self._saving = False
        self.form.clear()
        self.history.reload()
        message = (self.tr("Call {0} updated.").format(call_id) if changed
                   else self.tr("Call {0} had no changes.").format(call_id))
        self.statusBar().showMessage(message, 5000)
        self._put_back_held_draft()

    def _save_failed(self, error: BaseException) -> None:
        self._saving = False
        self._show_failure(error)

    def discard_call(self) -> None:
        self._draft_timer.stop()
        self.form.clear()
        if self.desk is not None:
            desk = self.desk
            self.tasks.run(desk.discard_draft, on_failure=self._show_failure)
        self.statusBar().showMessage(self.tr("Call discarded."), 5000)
        self._put_back_held_draft()

    def log_non_data_call(self, kind: str) -> None:
        if self.desk is None:
            return
        desk = self.desk
        label = {k.code: k.label for k in reference.helpline().non_data_kinds}[kind]
        self.tasks.run(lambda: desk.log_non_data_call(kind),
                       on_success=lambda call_id: self._non_data_logged(label, call_id),
                       on_failure=self._show_failure)

    def _non_data_logged(self, label: str, call_id: int) -> None:
        self.history.reload()
        self.statusBar().showMessage(self.tr("{0} logged (call {1}).").format(label, call_id),
                                     5000)

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
        self.tasks.run(lambda: desk.get_call(call_id), on_success=self._show_call,
                       on_failure=self._show_failure)

    def _show_call(self, call: Any) -> None:
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
            sort=query.sort, descending=query.descending))

    # --- report -----------------------------------------------------------------------------

    def open_report(self) -> None:
        if self.desk is None or not self.desk.actor.is_supervisor:
            return
        # Imported on first use: QtCharts is only loaded when a supervisor opens a report.
        from advice_desk.gui.report_view import ReportWindow

        if self.report_window is None:
            self.report_window = ReportWindow(self.tasks, self.desk.report,
                                              self.desk.save_report_pdf, self.clock, self)
        self.report_window.show()
        self.report_window.raise_()
        self.report_window.activateWindow()

    def open_review(self) -> None:
        if self.desk is None or not self.desk.actor.is_supervisor:
            return
        from advice_desk.gui.review_window import ReviewWindow

        if self.review_window is None:
            desk = self.desk
            self.review_window = ReviewWindow(self.tasks, desk.list_calls, desk.get_call,
                                              desk.review_call, self._topics, self._workers,
                                              self)
        self.review_window.show()
        self.review_window.raise_()
        self.review_window.activateWindow()

    def open_follow_ups(self) -> None:
        if self.desk is None:
            return
        dialog = FollowUpsDialog(self.tasks, self.desk.follow_ups, self.desk.complete_follow_up,
                                 {t.code: t.display for t in self._topics}, self)
        dialog.finished.connect(self.history.reload)
        dialog.open()

    def edit_topics(self) -> None:
        if self.desk is None or not self.desk.actor.is_supervisor:
            return
        desk = self.desk
        dialog = TaxonomyDialog(self.tasks, desk, self)
        dialog.changed.connect(lambda: self.tasks.run(desk.topics.choices,
                                                      on_success=self._show_topics,
                                                      on_failure=self._show_failure))
        dialog.open()

    def edit_users(self) -> None:
        if self.desk is None or not self.desk.actor.is_supervisor:
            return
        from advice_desk.gui.users_dialog import UsersDialog

        dialog = UsersDialog(self.tasks, self.desk, self)
        dialog.changed.connect(self._reload_workers)
        dialog.open()

    def _reload_workers(self) -> None:
        if self.desk is not None:
            self.tasks.run(self.desk.workers, on_success=self._show_workers,
                           on_failure=self._show_failure)

    def _show_workers(self, workers: list[Any]) -> None:
        self._workers = workers
        _refill(self.ui.worker_filter_combo, self.tr("All workers"),
                [(w.display_name, w.id) for w in workers])

    def open_audit(self) -> None:
        if self.desk is None or not self.desk.actor.is_supervisor:
            return
        from advice_desk.gui.audit_view import AuditWindow

        AuditWindow(self.tasks, self.desk, self.clock, self).open()

    def open_export(self) -> None:
        if self.desk is None or not self.desk.actor.is_supervisor:
            return
        from advice_desk.gui.export_dialog import ExportDialog

        ExportDialog(self.tasks, self.desk.export_for_funders, self.clock, self).open()

    def open_people(self) -> None:
        if self.desk is None or not self.desk.actor.is_supervisor:
            return
        from advice_desk.gui.people_dialog import PeopleDialog

        desk = self.desk
        PeopleDialog(self.tasks, desk.find_person, desk.save_subject_access, desk.erase_person,
                     self).open()

    # --- opening hours ----------------------------------------------------------------------

    def _apply_hours_policy(self, policy: HoursPolicy) -> None:
        self.line_status.set_policy(policy)
        self.form.set_hours_policy(policy)

    def _warn_closing(self, closes_at: datetime) -> None:
        self.statusBar().showMessage(self.tr("The line closes at {0}.").format(
            to_uk(closes_at).strftime("%H:%M")), 60_000)

    def edit_hours(self) -> None:
        if self.desk is None or not self.desk.actor.is_supervisor:
            return
        dialog = HoursDialog(self.line_status.policy, self)
        if dialog.exec() != HoursDialog.DialogCode.Accepted or dialog.policy is None:
            return
        desk, policy = self.desk, dialog.policy
        self.tasks.run(lambda: desk.save_hours_policy(policy),
                       on_success=lambda _: self._hours_saved(policy),
                       on_failure=self._show_failure)

    def _hours_saved(self, policy: HoursPolicy) -> None:
        self._apply_hours_policy(policy)
        self.statusBar().showMessage(self.tr("Opening hours saved."), 5000)

    # --- locking ----------------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        return not self.centralWidget().isVisible() and self.desk is not None

    def lock(self) -> None:
        """Hide everything until the same person signs in again; the call in hand is kept."""
        if self.desk is None:
            return
        self._draft_timer.stop()
        self._save_draft()
        self.centralWidget().hide()
        self._hidden_while_locked = [w for w in self.findChildren(QWidget)
                                     if w.isWindow() and w.isVisible()]
        for window in self._hidden_while_locked:  # reports, reviews, follow-ups: calls' data
            window.hide()
        self._set_ready(False)
        desk = self.desk
        dialog = SignInDialog(self.tasks, desk.unlock, self, locked_as=desk.actor.username)
        self._ask(dialog, self._unlocked)

    def _unlocked(self, _: Desk) -> None:
        self.sign_in_dialog = None
        self.centralWidget().show()
        for window in self._hidden_while_locked:
            window.show()
        self._hidden_while_locked = []
        self._set_ready(True)
        self.idle_watch.start()

    # --- drafts and closing ---------------------------------------------------------------

    def _save_draft(self) -> None:
        if self.desk is None or not self.form.is_dirty or self._held_draft is not None:
            return  # never over a recovered call that has not been put back yet
        desk, payload = self.desk, self.form.payload()
        self.tasks.run(lambda: desk.save_draft(payload), on_failure=self._show_failure)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._draft_timer.stop()
        self.idle_watch.stop()
        # A save still in flight either lands (nothing to keep) or fails (the last autosaved
        # draft stays): a draft written now, after the save, would bring the call back twice.
        if self.desk is not None and self.form.is_dirty and not self._saving:
            desk, payload = self.desk, self.form.payload()
            self.tasks.run_now(lambda: desk.save_draft(payload))
        self.tasks.shutdown()
        if self.reception is not None:
            self.reception.close()
        super().closeEvent(event)
