"""Only advice_desk/clock.py reads the wall clock, so every "now" can be fixed by a test.

Which package may import which (no Qt outside gui/, no database in the pure rules, the layers)
is stated as import-linter contracts in pyproject.toml and checked by ``make lint``, which
``make test`` runs first; this file keeps only the rule those contracts cannot say.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "advice_desk"
CLOCK_READERS = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("time", "time"), ("time", "time_ns"), ("time", "localtime"), ("time", "gmtime"),
    ("QDateTime", "currentDateTime"), ("QDateTime", "currentDateTimeUtc"),
    ("QDateTime", "currentMSecsSinceEpoch"), ("QDateTime", "currentSecsSinceEpoch"),
    ("QDate", "currentDate"), ("QTime", "currentTime"),
}


def _dotted(node: ast.expr) -> list[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return parts[::-1]


def _clock_reads(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
            # datetime.now, datetime.datetime.now, dt.date.today, QDateTime.currentDateTime
            owner = _dotted(node.value)
            if owner and (owner[-1], node.attr) in CLOCK_READERS:
                found.append(f"line {node.lineno}: {'.'.join([*owner, node.attr])}")
        elif isinstance(node, ast.ImportFrom) and node.module in ("time", "datetime"):
            # "from time import time" then a bare time()
            for alias in node.names:
                if (node.module, alias.name) in CLOCK_READERS:
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
    return found


def test_the_clock_scan_finds_clock_reads() -> None:
    source = textwrap.dedent("""
        import datetime as dt
        from datetime import datetime, date
        from time import time
        a = datetime.now(UTC)
        b = dt.date.today()
        c = QDateTime.currentDateTime()
        d = QtCore.QDate.currentDate()
        e = datetime.utcnow
        f = time.perf_counter() + time.monotonic()
        g = clock.now()
    """)
    assert len(_clock_reads(source)) == 6
    assert not any("perf_counter" in f or "monotonic" in f or "clock.now" in f
                   for f in _clock_reads(source))


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")),
                         ids=lambda path: str(path.relative_to(PACKAGE)))
def test_only_the_clock_module_reads_the_wall_clock(path: Path) -> None:
    if path == PACKAGE / "clock.py":
        assert _clock_reads(path.read_text("utf-8")), "clock.py is where the time is read"
        return
    assert _clock_reads(path.read_text("utf-8")) == []
