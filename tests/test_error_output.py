"""No personal value in an error: a database error's text is never shown, its parameters are
hidden even in a log, and the person is told the kind of failure (the same words on the command
line and in the window) with what to do. The fault tests (test_faults.py) check the outputs of
the failing commands themselves."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa

from advice_desk.cli.common import failure_message
from advice_desk.clock import FixedClock
from advice_desk.store.engine import Store
from advice_desk.store.failures import Kind, failure_of
from advice_desk.store.models import Draft, User
from tests.conftest import MONDAY_MORNING
from tests.factories import opened_store

NAME, PHONE, EMAIL, POSTCODE = ("Philippa Quorndon", "07700 900461", "pq.xanthe@example.org",
                                "ZE2 9XQ")
NOTES = "marmalade-quokka: her grandson's school"
PERSONAL = ("Quorndon", "900461", "pq.xanthe", "ZE2 9XQ", "marmalade")


def assert_no_personal_values(*texts: str) -> None:
    for text in texts:
        for value in PERSONAL:
            assert value not in text, f"{value!r} in {text!r}"


def a_unique_failure(store: Store, clock: FixedClock) -> sa.exc.IntegrityError:
    """A second user with the same user name (an email), refused by the UNIQUE index."""
    for _ in range(2):
        try:
            with store.write() as session:
                session.add(User(username=EMAIL, display_name=NAME, role="worker",
                                 created_at=clock.now()))
        except sa.exc.IntegrityError as error:
            return error
    raise AssertionError("the UNIQUE index let a second user in")


def a_foreign_key_failure(store: Store, clock: FixedClock) -> sa.exc.IntegrityError:
    """A draft of the form for a user who does not exist, refused by the foreign key."""
    payload = json.dumps({"caller_name": NAME, "caller_phone": PHONE, "caller_email": EMAIL,
                          "caller_postcode": POSTCODE, "notes": NOTES})
    with pytest.raises(sa.exc.IntegrityError) as refused, store.write() as session:
        session.add(Draft(user_id=999_999, updated_at=clock.now(), payload=payload))
    return refused.value


FAILURES: dict[str, Callable[[Store, FixedClock], sa.exc.IntegrityError]] = {
    "unique": a_unique_failure, "foreign key": a_foreign_key_failure}


@pytest.mark.parametrize("failure", FAILURES)
def test_a_refused_change_is_told_by_its_kind_with_no_personal_value(
        failure: str, store: Store, clock: FixedClock) -> None:
    error = FAILURES[failure](store, clock)
    # The statement's parameters are hidden, even in the text that is never shown...
    assert "parameters hidden" in str(error)
    if store.is_sqlite:  # (PostgreSQL's own message quotes a duplicate key: never shown)
        assert_no_personal_values(str(error))
    # ... and the command line's one line is the kind and what to do.
    found = failure_of(error)
    assert found is not None and found.kind is Kind.REFUSED
    line = failure_message(error)
    assert line.startswith("the store refused the change") and "try again" in line
    assert_no_personal_values(line)


def busy(folder: Path) -> sqlite3.Error:
    path = folder / "busy.sqlite3"
    with closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN IMMEDIATE")
        with (closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as other,
              pytest.raises(sqlite3.OperationalError) as locked):
            other.execute("BEGIN IMMEDIATE")
    return locked.value


def not_a_store(folder: Path) -> sqlite3.Error:
    path = folder / "garbage.sqlite3"
    path.write_bytes(b"not a database, " * 512)
    with (closing(sqlite3.connect(path)) as connection,
          pytest.raises(sqlite3.DatabaseError) as damaged):
        connection.execute("SELECT * FROM sqlite_master")
    return damaged.value


def read_only(folder: Path) -> sqlite3.Error:
    path = folder / "ro.sqlite3"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE t (x)")
    with (closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection,
          pytest.raises(sqlite3.OperationalError) as refused):
        connection.execute("INSERT INTO t VALUES (?)", (NAME,))
    return refused.value


def disk_full(_: Path) -> OSError:
    with pytest.raises(OSError) as full, open("/dev/full", "w") as f:  # the flush fails
        f.write(NAME)
    return full.value


REAL_ERRORS: dict[Kind, Callable[[Path], BaseException]] = {
    Kind.LOCKED: busy, Kind.DAMAGED: not_a_store, Kind.READ_ONLY: read_only,
    Kind.DISK_FULL: disk_full}


@pytest.mark.parametrize("kind", REAL_ERRORS, ids=lambda kind: kind.value)
def test_real_driver_and_disk_errors_are_known_by_their_kind(kind: Kind, tmp_path: Path
                                                             ) -> None:
    error = REAL_ERRORS[kind](tmp_path)
    found = failure_of(error)
    assert found is not None and found.kind is kind
    assert_no_personal_values(failure_message(error))


def test_the_window_says_the_same_words_and_logs_no_value(qtbot, tmp_path: Path, caplog
                                                          ) -> None:
    from PySide6.QtWidgets import QMainWindow, QMessageBox

    from advice_desk.gui import errors

    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    clock = FixedClock(MONDAY_MORNING)
    with opened_store(tmp_path / "data", clock) as store:
        refused = a_unique_failure(store, clock)
    full = disk_full(tmp_path)
    with caplog.at_level(logging.ERROR, logger="advice_desk.gui.errors"):
        for error in (refused, full):
            assert errors.describe(error) == failure_message(error)
            errors.show_failure(window, error)
            qtbot.waitUntil(lambda: any(box.isVisible()
                                        for box in window.findChildren(QMessageBox)))
    texts = [window.statusBar().currentMessage(),
             *(box.text() for box in window.findChildren(QMessageBox))]
    assert any("The disk is full" in text for text in texts)
    assert any("The store refused the change" in text for text in texts)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "refused, SQLITE_CONSTRAINT_UNIQUE" in logged and "disk full, ENOSPC" in logged
    assert_no_personal_values(*texts, logged)
