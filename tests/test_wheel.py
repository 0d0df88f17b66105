"""The wheel: it holds the forms, resources and migrations, and works installed on its own.

The wheel is installed into a fresh virtual environment without touching the network for
dependencies: that environment sees the dependencies of the environment running the tests
through a ``.pth`` file that only adds that site-packages folder to ``sys.path``. The ``.pth``
files inside it (among them the editable install of this checkout) are not processed that way,
so the advice_desk that gets imported is the one from the wheel, and this test checks it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from advice_desk import __version__

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run(args: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env={**clean, **env},
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "build", "--wheel", "--outdir", out]
    if importlib.util.find_spec("hatchling") is not None:
        build.append("--no-isolation")  # otherwise build fetches hatchling for its own env
    run([*build, REPO], cwd=out)
    (built,) = out.glob("advice_desk-*.whl")
    return built


def test_the_wheel_holds_forms_resources_and_migrations(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    forms = sorted(path.name for path in (REPO / "ui").glob("*.ui"))
    assert {"main_window.ui", "intake_form.ui"} <= set(forms)
    for form in forms:
        assert f"advice_desk/ui/{form}" in names
    for resource in ("taxonomy.toml", "helpline.toml", "local_authorities.json", "hours.toml"):
        assert f"advice_desk/resources/{resource}" in names
    assert "advice_desk/store/migrations/env.py" in names
    assert "advice_desk/store/migrations/script.py.mako" in names
    versions = REPO / "advice_desk/store/migrations/versions"
    revisions = sorted(p.name for p in versions.glob("*.py"))
    assert revisions
    for revision in revisions:
        assert f"advice_desk/store/migrations/versions/{revision}" in names
    assert not any(name.startswith("tests/") or "__pycache__" in name for name in names)


CHECK_INSTALLED = textwrap.dedent("""
    import sys
    from pathlib import Path

    venv, repo, data_dir = (Path(arg).resolve() for arg in sys.argv[1:4])

    def inside(path, folder=venv):
        return Path(path).resolve().is_relative_to(folder)

    import advice_desk
    assert inside(advice_desk.__file__), advice_desk.__file__
    # The editable install's .pth would have put the checkout itself on sys.path.
    assert repo not in {Path(entry or ".").resolve() for entry in sys.path}, sys.path

    from advice_desk.reference import lists as reference
    from advice_desk.resources import resource_path, ui_path
    assert inside(ui_path("main_window.ui")) and ui_path("main_window.ui").is_file()
    assert inside(resource_path("taxonomy.toml")) and resource_path("taxonomy.toml").is_file()
    assert len(reference.default_topics()) > 7
    assert len(reference.local_authorities()) == 175

    from PySide6.QtCore import QFile
    from PySide6.QtUiTools import QUiLoader
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    for form in ("main_window.ui", "intake_form.ui"):
        file = QFile(str(ui_path(form)))
        assert file.open(QFile.OpenModeFlag.ReadOnly), form
        widget = QUiLoader().load(file)
        file.close()
        assert widget is not None, form

    from advice_desk.paths import resolve_location
    from advice_desk.store.engine import open_store
    from advice_desk.store.schema import current_revision, schema_head
    import advice_desk.store.schema
    assert inside(advice_desk.store.schema.MIGRATIONS_DIR)
    store = open_store(resolve_location(data_dir))
    with store.engine.connect() as connection:
        assert current_revision(connection) == schema_head()
    store.close()
    print("installed wheel ok")
""")


def test_the_installed_wheel_works_on_its_own(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    # Installed while the new environment sees nothing else, so pip touches only it.
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
         "--no-index", "--disable-pip-version-check", wheel], cwd=tmp_path)
    site_packages = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                            "['purelib'])"], cwd=tmp_path).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "test-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    version = run([venv / "bin" / "advice-desk", "--version"], cwd=outside)
    assert version.stdout.strip() == f"advice-desk {__version__}"
    assert (venv / "bin" / "advice-desk-gui").is_file()

    checked = run([python, "-c", CHECK_INSTALLED, venv, REPO, tmp_path / "data"], cwd=outside,
                  QT_QPA_PLATFORM="offscreen")
    assert checked.stdout.strip().endswith("installed wheel ok")
    assert (tmp_path / "data" / "advice-desk.sqlite3").is_file()
