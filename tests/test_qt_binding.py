"""The Qt binding itself: a desk runs all day, so a reference the binding drops on every signal
adds up until the interpreter aborts. pyproject.toml leaves out the releases that do this."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    happened = Signal()


def test_emitting_a_signal_keeps_every_reference(qapp) -> None:
    emitter, heard = _Emitter(), []
    emitter.happened.connect(lambda: heard.append(1))
    before = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    for _ in range(500):
        emitter.happened.emit()
    after = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    assert len(heard) == 500
    assert after == before  # PySide6 6.12.0 loses one reference to True per emit
