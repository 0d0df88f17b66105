"""The layers: the core never imports Qt, and only advice_desk/clock.py reads the wall clock.

The core (everything in advice_desk/ but gui/ and __main__.py) must run headless, from the
command line and in tests without a display; the GUI is the only place Qt is allowed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "advice_desk"
QT_MODULES = ("PySide6", "shiboken6", "pytestqt", "advice_desk.gui")
CLOCK_READERS = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("time", "time"), ("time", "time_ns"), ("time", "localtime"), ("time", "gmtime"),
    ("QDateTime", "currentDateTime"), ("QDateTime", "currentDateTimeUtc"),
    ("QDateTime", "currentMSecsSinceEpoch"), ("QDateTime", "currentSecsSinceEpoch"),
    ("QDate", "currentDate"), ("QTime", "currentTime"),
}


def _python_files(*, skip_gui: bool) -> list[Path]:
    files = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if skip_gui and (relative.parts[0] == "gui" or relative == Path("__main__.py")):
            continue
        files.append(path)
    return files


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_modules(source: str, path: Path) -> Iterator[tuple[int, str]]:
    """Every module an import statement anywhere in ``source`` (the text of ``path``) names,
    relative imports resolved, function-level imports included."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # "from advice_desk import gui" names a module too
                yield node.lineno, f"{module}.{alias.name}"


def _is_qt(module: str) -> bool:
    return any(module == qt or module.startswith(qt + ".") for qt in QT_MODULES)


def test_the_import_scan_covers_the_core_only() -> None:
    core = {_module_name(path) for path in _python_files(skip_gui=True)}
    assert {"advice_desk.store.engine", "advice_desk.calls.service", "advice_desk.cli.main",
            "advice_desk.store.migrations.env"} <= core
    assert not any(name.startswith("advice_desk.gui") for name in core)
    assert "advice_desk.__main__" not in core


def test_the_import_scan_finds_qt_imports() -> None:
    """The scanner itself catches each way of importing Qt, at any depth."""
    source = textwrap.dedent("""
        import PySide6.QtCore
        from shiboken6 import isValid
        def later():
            from .gui import app
            from . import gui
            import advice_desk.gui.forms
            from pytestqt.qtbot import QtBot
        from PySide6Extra import nothing
    """)
    found = {module for _, module in _imported_modules(source, PACKAGE / "sample.py")}
    assert {module for module in found if _is_qt(module)} == {
        "PySide6.QtCore", "shiboken6", "shiboken6.isValid", "advice_desk.gui",
        "advice_desk.gui.app", "advice_desk.gui.forms", "pytestqt.qtbot",
        "pytestqt.qtbot.QtBot"}


@pytest.mark.parametrize("path", _python_files(skip_gui=True),
                         ids=lambda path: str(path.relative_to(PACKAGE)))
def test_the_core_does_not_import_qt(path: Path) -> None:
    offending = [f"line {line}: {module}"
                 for line, module in _imported_modules(path.read_text("utf-8"), path)
                 if _is_qt(module)]
    assert offending == []


IMPORT_EVERY_CORE_MODULE = textwrap.dedent("""
    import importlib, pkgutil, sys
    import advice_desk

    # pkgutil.walk_packages would import advice_desk.gui itself to look inside it, so walk by
    # hand and never enter the GUI (nor the migrations, whose env.py runs on import).
    def skipped(name):
        return (name.startswith(("advice_desk.gui", "advice_desk.store.migrations"))
                or name == "advice_desk.__main__")

    imported = []
    def walk(path, prefix):
        for module in pkgutil.iter_modules(path, prefix):
            if skipped(module.name):
                continue
            loaded = importlib.import_module(module.name)
            imported.append(module.name)
            if module.ispkg:
                walk(loaded.__path__, module.name + ".")

    walk(advice_desk.__path__, "advice_desk.")
    qt = sorted(m for m in sys.modules
                if m.split(".")[0] in ("PySide6", "shiboken6", "pytestqt")
                or m.startswith("advice_desk.gui"))
    print(",".join(imported))
    print(",".join(qt))
""")


def test_importing_every_core_module_loads_no_qt() -> None:
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERY_CORE_MODULE],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    imported, qt = done.stdout.splitlines()
    assert {"advice_desk.store.engine", "advice_desk.calls.service", "advice_desk.cli.main",
            "advice_desk.calls.drafts"} <= set(imported.split(","))
    assert qt == ""


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


@pytest.mark.parametrize("path", _python_files(skip_gui=False),
                         ids=lambda path: str(path.relative_to(PACKAGE)))
def test_only_the_clock_module_reads_the_wall_clock(path: Path) -> None:
    if path == PACKAGE / "clock.py":
        assert _clock_reads(path.read_text("utf-8")), "clock.py is where the time is read"
        return
    assert _clock_reads(path.read_text("utf-8")) == []
