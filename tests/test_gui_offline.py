"""The network goes away during a session: the real PostgreSQL server is stopped (``pg_ctl
stop``) under a signed-in window and started again.

A server of this test's own (the session's other tests keep theirs running), a worker at the
real window typing with the keyboard: while the server is down the form works, the draft is
kept on this PC, saves are kept and the status bar says so; when the server is back the kept
calls are stored once each and the line clears. A window closed while the server is down
brings its call back at the next start.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from advice_desk.calls.local_copies import offline_folder
from advice_desk.calls.topics import Topics
from advice_desk.gui.main_window import MainWindow
from advice_desk.paths import Location, resolve_location
from tests.factories import opened_store, signed_in
from tests.gui_support import open_window, sign_in_with_keyboard, start_window
from tests.postgres import PostgresServer
from tests.test_gui_intake import fill_call_with_keyboard

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
NOTES = "Asked what the Virtual School can do"  # what fill_call_with_keyboard types
GONE = "Server cannot be reached: calls are kept on this PC and sent later"


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """A server of these tests alone, so stopping it disturbs no other test."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database(server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A database of this test's own, on a server running (whatever a failed test left)."""
    if not (server.data_dir / "postmaster.pid").exists():
        start_again(server)
    if server.admin is not None:
        server.admin.close()  # it went with the server, if an earlier test stopped it
    server.admin = server.connect("postgres")
    name = f"desk_{request.node.name.removeprefix('test_')[:40]}"
    server._execute("CREATE DATABASE {}", name)
    return name


@pytest.fixture
def location(server: PostgresServer, database: str, tmp_path) -> Location:
    return resolve_location(tmp_path / "data", server.url(database))


def stop(server: PostgresServer) -> None:
    server._pg_ctl("stop", "-w", "-m", "fast")


def start_again(server: PostgresServer) -> None:
    server._pg_ctl("start", "-w", "-t", "60", "-l", str(server.folder / "server.log"))


def server_status(window: MainWindow) -> QLabel:
    found = [label for label in window.statusBar().findChildren(QLabel)
             if label.accessibleName() == "Server status"]
    assert len(found) == 1
    return found[0]


def shown(window: MainWindow) -> str:
    label = server_status(window)
    return label.text() if label.isVisible() else ""


def stored_calls(server: PostgresServer, database: str) -> list[tuple[str, str | None]]:
    with server.connect(database) as connection:
        return [(str(kind), key) for kind, key in connection.execute(
            "SELECT kind, idempotency_key FROM call ORDER BY id").fetchall()]


def private(path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600)


def test_calls_logged_while_the_server_is_stopped_are_sent_once_when_it_is_back(
        qtbot, server, database, location, clock, caplog):
    caplog.set_level(logging.DEBUG)
    window = open_window(qtbot, location, clock)
    assert window.desk is not None and window.desk.actor.id is not None
    folder = offline_folder(location, window.desk.actor.id)
    assert shown(window) == ""

    stop(server)
    fill_call_with_keyboard(qtbot, window)  # the form works; its draft cannot reach the store
    qtbot.waitUntil(lambda: shown(window).startswith(GONE), timeout=10_000)
    assert server_status(window).accessibleDescription() == shown(window)
    qtbot.waitUntil(lambda: (folder / "draft.json").exists())
    assert private(folder / "draft.json")

    clock.advance(timedelta(minutes=14))
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "(1 kept)" in shown(window))
    assert "Call kept on this PC" in window.statusBar().currentMessage()
    assert not window.form.is_dirty  # the form is free for the next call
    assert not (folder / "draft.json").exists()  # the kept call holds what it held
    qtbot.keyClick(window, Qt.Key.Key_F5)  # a silent call
    qtbot.waitUntil(lambda: "(2 kept)" in shown(window))
    fill_call_with_keyboard(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "(3 kept)" in shown(window))
    kept = sorted((folder / "outbox").iterdir())
    assert len(kept) == 3 and all(private(p) for p in [*kept, folder / "outbox", folder])
    keys = [p.stem.partition("-")[2] for p in kept]

    start_again(server)
    qtbot.waitUntil(lambda: shown(window) == "", timeout=15_000)  # the probe found it back
    assert "3 calls kept on this PC were sent" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.history.rowCount() == 3)
    assert stored_calls(server, database) == [("data", keys[0]), ("silent", keys[1]),
                                              ("data", keys[2])]
    assert list((folder / "outbox").iterdir()) == []
    window.server.probe()  # another probe: nothing is sent twice
    qtbot.waitUntil(lambda: not window.tasks.busy)
    assert len(stored_calls(server, database)) == 3
    assert not [r for r in caplog.records if NOTES in r.getMessage()]


def test_a_call_typed_while_the_server_is_stopped_comes_back_at_the_next_start(
        qtbot, server, database, location, clock):
    window = open_window(qtbot, location, clock)
    stop(server)
    fill_call_with_keyboard(qtbot, window)
    qtbot.waitUntil(lambda: shown(window).startswith(GONE), timeout=10_000)
    window.close()  # the last draft goes to this PC

    start_again(server)
    again = start_window(qtbot, location, clock)
    sign_in_with_keyboard(qtbot, again, "amy")
    qtbot.waitUntil(lambda: again.form.is_dirty, timeout=10_000)
    assert NOTES in again.form.ui.notes_edit.toPlainText()
    assert shown(again) == ""
    with server.connect(database) as connection:  # the store has it again
        assert connection.execute("SELECT count(*) FROM draft").fetchone() == (1,)


def test_a_kept_call_the_server_refuses_comes_back_to_the_form(qtbot, server, database,
                                                              location, clock):
    window = open_window(qtbot, location, clock)
    virtual_school = next(t.code for t in window._topics if "Virtual School" in t.display)
    with opened_store(location, clock) as store:  # retired at another seat, unknown here
        Topics(store, signed_in(store, clock, "sam"), clock).retire(virtual_school)
    stop(server)
    fill_call_with_keyboard(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "(1 kept)" in shown(window), timeout=10_000)
    assert not window.form.is_dirty

    start_again(server)
    qtbot.waitUntil(lambda: window.form.is_dirty, timeout=15_000)  # back, to be put right
    assert "The server refused a call kept on this PC" in window.form.ui.notice_label.text()
    assert NOTES in window.form.ui.notes_edit.toPlainText()
    qtbot.waitUntil(lambda: shown(window) == "")
    assert stored_calls(server, database) == []
    with server.connect(database) as connection:  # the store's draft holds it now
        assert connection.execute("SELECT count(*) FROM draft").fetchone() == (1,)
