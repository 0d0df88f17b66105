"""packaging/: what can be checked without building the program (`make package` builds it and
runs packaging/smoke_check.py on it)."""

from __future__ import annotations

import ast
import importlib.util
import re
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
ISS = PACKAGING / "windows" / "advice-desk.iss"


def packaging_module(name: str):
    spec = importlib.util.spec_from_file_location(name, PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spec_value(name: str) -> object:
    tree = ast.parse((PACKAGING / "advice-desk.spec").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not in the spec")


def test_the_spec_carries_exactly_the_qt_modules_the_app_imports():
    imported = {match for path in (ROOT / "advice_desk").rglob("*.py")
                for match in re.findall(r"PySide6\.(Qt\w+)", path.read_text())}
    assert spec_value("QT_USED") == imported
    assert imported <= spec_value("QT_ALL")


def built_folder(tmp_path: Path) -> Path:
    """The folder PyInstaller makes on Linux, as far as the installer script names it."""
    built = tmp_path / "advice-desk"
    icons = built / "_internal" / "advice_desk" / "resources" / "icons"
    icons.mkdir(parents=True)
    (built / "advice-desk").write_bytes(b"")
    (icons / "advice-desk.ico").write_bytes(b"")
    return built


def test_the_installer_scripts_files_are_found_in_a_built_folder(tmp_path):
    assert packaging_module("check_iss").check(ISS, built_folder(tmp_path)) == []


def test_a_file_missing_from_the_built_folder_is_named(tmp_path):
    built = built_folder(tmp_path)
    (built / "_internal" / "advice_desk" / "resources" / "icons" / "advice-desk.ico").unlink()

    problems = packaging_module("check_iss").check(ISS, built)

    assert len(problems) == 1
    assert "icons\\advice-desk.ico" in problems[0] and "is missing" in problems[0]


def test_the_windows_icon_holds_each_size_as_png():
    data = (ROOT / "resources" / "icons" / "advice-desk.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, _h, _c, _r, _p, _b, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * index)
        assert data[offset:offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + length <= len(data)
        sizes.append(width or 256)
    assert sizes == [16, 24, 32, 48, 64, 128, 256]
