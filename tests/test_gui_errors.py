"""The one failure display: the core's refusals shown as they are worded, anything else shown
as a generic text, its type logged and its message (which may hold stored details) nowhere."""

from __future__ import annotations

import importlib
import logging

import pytest
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox

from advice_desk.gui import errors
from advice_desk.gui.taskman import TaskManager
from advice_desk.people.permissions import PermissionDenied
from advice_desk.store import failures
from advice_desk.validation import FieldError, ValidationError

SECRET = "Jo Bloggs, 07700 900123, 12 Acacia Avenue"


class StoredValueLeak(Exception):
    """A fault whose message carries what the failing code had in hand."""


def leak() -> None:
    raise StoredValueLeak(f"cannot encode {SECRET!r}")


@pytest.fixture
def window(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def tasks(window):
    manager = TaskManager(window)
    yield manager
    manager.shutdown()


def shown_texts(window: QMainWindow) -> list[str]:
    boxes = [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]
    return [window.statusBar().currentMessage(), *boxes]


def test_an_unexpected_failure_shows_no_message_and_logs_only_its_type(qtbot, window, tasks,
                                                                        caplog):
    with caplog.at_level(logging.ERROR, logger="advice_desk.gui.errors"):
        tasks.run(leak).success(lambda _: pytest.fail("the job failed"))
        qtbot.waitUntil(lambda: not tasks.busy)
        qtbot.waitUntil(lambda: any(box.isVisible()
                                    for box in window.findChildren(QMessageBox)))
    texts = shown_texts(window)
    assert len(texts) == 2
    assert all(SECRET not in text and "Acacia" not in text for text in texts)
    assert all("unexpected fault" in text for text in texts)
    assert "tell your supervisor" in texts[1]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "StoredValueLeak" in logged
    assert "Acacia" not in logged and "07700" not in logged


def test_a_windows_own_failure_wording_gets_the_generic_text_too(qtbot, tasks, caplog):
    label = QLabel()
    with caplog.at_level(logging.ERROR, logger="advice_desk.gui.errors"):
        tasks.run(leak).failure(lambda error: label.setText(errors.describe(error)))
        qtbot.waitUntil(lambda: label.text() != "")
    assert label.text() == errors.unexpected_text()
    assert "Acacia" not in caplog.text


def test_the_cores_refusals_are_shown_as_worded(qtbot, window, tasks):
    def refuse() -> None:
        raise PermissionDenied("only a supervisor can edit topics; Amy Adviser is a worker")

    tasks.run(refuse)
    qtbot.waitUntil(lambda: "only a supervisor" in window.statusBar().currentMessage())
    assert window.statusBar().currentMessage() == (
        "Something went wrong: only a supervisor can edit topics; Amy Adviser is a worker")
    problems = ValidationError([FieldError("password", "use at least 8 characters")])
    assert errors.describe(problems) == "password: use at least 8 characters"
    assert errors.describe(problems, lambda e: e.errors[0].message) == (
        "use at least 8 characters")


def test_the_refusals_beside_the_database_are_recognised():
    for module_name, class_name in failures.REFUSALS:
        refusal = getattr(importlib.import_module(module_name), class_name)
        assert issubclass(refusal, Exception)
        assert failures.is_refusal(refusal("the message"))
    assert not failures.is_refusal(ValueError("a fault"))
    assert not failures.is_refusal(LookupError("there is no call 7"))


def test_the_outcome_waits_for_the_handlers_set_after_run(qtbot, tasks):
    results = []
    tasks.run_now(lambda: None)  # the store thread is idle: the next job ends at once
    tasks.run(lambda: 42).success(results.append)
    qtbot.waitUntil(lambda: not tasks.busy)
    assert results == [42]
