"""Find the files that ship with the app: `.ui` forms and `resources/` data.

One resolver serves three layouts, so nothing else needs to know which one it runs in:
an installed wheel (the folders live inside the package), a source checkout (they live at the
top of the repository) and a PyInstaller build (they live under ``sys._MEIPASS``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def _folder(name: str) -> Path:
    # a PyInstaller build keeps the package under sys._MEIPASS: the first candidate is it
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"Advice Desk is incomplete: its {name!r} folder is missing")


def resource_path(name: str) -> Path:
    """Path of a file in ``resources/`` (taxonomy, hours, reference lists, icons)."""
    return _folder("resources") / name


def ui_path(name: str) -> Path:
    """Path of a Qt Designer form in ``ui/``."""
    return _folder("ui") / name
