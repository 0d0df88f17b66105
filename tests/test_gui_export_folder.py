"""The export dialog writes into a folder that does not exist yet, making it (offscreen Qt)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from advice_desk.gui.export_dialog import ExportDialog
from advice_desk.people.permissions import Role
from tests.gui_support import open_window


def test_the_export_dialog_makes_a_missing_folder(qtbot, location, clock, tmp_path):
    window = open_window(qtbot, location, clock, username="sam", role=Role.SUPERVISOR)
    window.export_action.trigger()
    dialog = window.findChild(ExportDialog)
    status = dialog.ui.export_status

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    dialog.ui.export_folder_edit.setText(str(blocker))
    qtbot.mouseClick(dialog.ui.export_start_button, Qt.MouseButton.LeftButton)
    assert not dialog.running
    assert status.text() == f"{blocker} is not a folder."
    assert not status.visibleRegion().isEmpty()

    out = tmp_path / "funders" / "2026"
    dialog.ui.export_folder_edit.setText(str(out))
    qtbot.mouseClick(dialog.ui.export_start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running)
    assert status.text().startswith(f"Written to {out}:"), status.text()
    assert sorted(p.name for p in out.iterdir()) == ["data-dictionary.md", "summary.csv"]
