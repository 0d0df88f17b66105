"""Keys the windows opened from the menus answer, defined once: each window makes its shortcuts
from these and F1 (:mod:`advice_desk.gui.help_window`) lists them. A small module of its own:
the main window loads it before its first paint, the shortcuts list only when asked."""

from __future__ import annotations

CLOSE_KEYS = ("Esc", "Ctrl+W")  # Review and Report close with either
MARK_REVIEWED_KEYS = ("Ctrl+Return", "Ctrl+Enter")
MOVE_TOPIC_KEYS = (("Ctrl+Up", -1), ("Ctrl+Down", +1))
# The buttons of the Backups window (made in code): their Alt+letter is listed by F1.
BACKUP_BUTTONS = ("&Back up now", "&Restore selected…", "&Close")
