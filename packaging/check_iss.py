"""Check the Inno Setup script against the folder PyInstaller built (it cannot be run here).

Every ``Source:`` of its ``[Files]`` section must name files inside the built folder, and
every ``{app}\\...`` file its ``[Icons]`` and ``[Setup]`` use must be one of those installed.
Off Windows the program is built without ``.exe``, so that ending is dropped when looking.
Prints what it checked; exits 1 naming each path that is missing.

    python packaging/check_iss.py packaging/windows/advice-desk.iss dist/advice-desk
"""

from __future__ import annotations

import re
import sys
from pathlib import Path, PureWindowsPath

_ENTRY = re.compile(r'(\w+):\s*"([^"]*)"')


def sections(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].lower()
            found.setdefault(current, [])
        elif current:
            found[current].append(line)
    return found


def defines(text: str) -> dict[str, str]:
    return dict(re.findall(r'^#define\s+(\w+)\s+"([^"]*)"', text, re.MULTILINE))


def on_this_system(folder: Path, relative: PureWindowsPath) -> Path:
    path = folder.joinpath(*relative.parts)
    if sys.platform != "win32" and path.suffix.lower() == ".exe":
        path = path.with_suffix("")
    return path


def check(iss: Path, built: Path) -> list[str]:
    text = iss.read_text(encoding="utf-8")
    names = defines(text)
    build_dir = names.get("BuildDir")
    if build_dir is None:
        return [f"{iss}: no #define BuildDir"]
    problems, installed, checked = [], set(), 0
    for line in sections(text).get("files", []):
        entry = dict(_ENTRY.findall(line))
        source, dest_dir = entry.get("Source", ""), entry.get("DestDir", "")
        prefix = "{#BuildDir}\\"
        if not source.startswith(prefix):
            problems.append(f"[Files] {source}: not inside {{#BuildDir}}")
            continue
        relative = PureWindowsPath(source[len(prefix):])
        checked += 1
        if relative.name == "*":
            folder = on_this_system(built, relative.parent)
            if not folder.is_dir() or not any(folder.iterdir()):
                problems.append(f"[Files] {source}: {folder} is missing or empty")
            continue
        path = on_this_system(built, relative)
        if not path.is_file():
            problems.append(f"[Files] {source}: {path} is missing")
        installed.add(f"{dest_dir}\\{relative.name}".lower())
    for section in ("icons", "run"):
        for line in sections(text).get(section, []):
            for key, value in _ENTRY.findall(line):
                if key in ("Filename", "IconFilename") and value.startswith("{app}\\"):
                    checked += 1
                    if value.lower() not in installed:
                        problems.append(f"[{section.title()}] {key} {value}: no [Files] entry "
                                        "installs it")
    for line in sections(text).get("setup", []):
        key, _, value = line.partition("=")
        if key.strip() == "SetupIconFile":
            checked += 1
            icon = iss.parent.joinpath(*PureWindowsPath(value.strip()).parts)
            if not icon.is_file():
                problems.append(f"[Setup] SetupIconFile {value.strip()}: {icon} is missing")
    print(f"{iss.name}: {checked} paths checked against {built}")
    return problems


def main(argv: list[str]) -> int:
    iss, built = Path(argv[0]), Path(argv[1])
    problems = check(iss, built)
    for problem in problems:
        print(f"check_iss: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
