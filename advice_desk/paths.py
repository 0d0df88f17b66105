"""Where the store, config, logs and backups live.

The data folder comes from ``--data-dir``, else ``ADVICE_DESK_DATA_DIR``, else platformdirs'
user data dir; a database URL (``--database-url`` / ``ADVICE_DESK_DATABASE_URL``) replaces the
embedded SQLite file. A PC pointed at a server (``advice-desk connect URL``) keeps its URL in
the config folder: it replaces this PC's default store, so it comes after both of those and
after a folder named on purpose (``--data-dir`` or ``ADVICE_DESK_DATA_DIR``, whose own file is
then used). Tests always pass a folder of their own, so they never touch real data.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "advice-desk"
DATA_DIR_ENV = "ADVICE_DESK_DATA_DIR"
DATABASE_URL_ENV = "ADVICE_DESK_DATABASE_URL"
DATABASE_FILE = "advice-desk.sqlite3"
PASSWORD_ADVICE = ("put the password in a .pgpass file (named by PGPASSFILE, mode 0600) and "
                   "leave it out of the URL")
# user:PASSWORD@ after the scheme, or a password=... query parameter
_URL_PASSWORD = re.compile(r"(?<=://)([^/@:]*):[^/@]*@|(?<=[?&])password=[^&]*", re.IGNORECASE)


@dataclass(frozen=True)
class Location:
    """Where one store lives: its data folder and the SQLAlchemy URL of its database."""

    data_dir: Path
    database_url: str

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def sqlite_file(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix):])
        return None

    @property
    def url_has_password(self) -> bool:
        """A password in the URL would sit in settings, shell histories and process lists:
        the app refuses it and asks for a ``.pgpass`` file instead."""
        return _URL_PASSWORD.search(self.database_url) is not None

    @property
    def shown(self) -> str:
        """The store as a message names it: its file, or its URL with any password hidden."""
        if self.sqlite_file is not None:
            return str(self.sqlite_file)
        return _URL_PASSWORD.sub(_hidden, self.database_url)


def _hidden(found: re.Match[str]) -> str:
    return f"{found.group(1)}:***@" if found.group(1) is not None else "password=***"


def resolve_location(data_dir: str | os.PathLike[str] | None = None,
                     database_url: str | None = None) -> Location:
    named_dir = data_dir or os.environ.get(DATA_DIR_ENV)
    folder = Path(named_dir or platformdirs.user_data_dir(APP_NAME)).expanduser().resolve()
    url = (database_url or os.environ.get(DATABASE_URL_ENV)
           or (None if named_dir else saved_database_url())
           or f"sqlite:///{folder / DATABASE_FILE}")
    return Location(folder, url)


CONFIG_DIR_ENV = "ADVICE_DESK_CONFIG_DIR"


def config_dir() -> Path:
    """Where secrets that must not sit in the store live (the export key): platformdirs'
    user config dir, or ``ADVICE_DESK_CONFIG_DIR`` (tests point it at a temporary folder)."""
    return Path(os.environ.get(CONFIG_DIR_ENV) or platformdirs.user_config_dir(APP_NAME))


SAVED_URL_FILE = "database-url"


def saved_url_file() -> Path:
    """Where ``advice-desk connect`` keeps this PC's server URL (mode 0600, no password)."""
    return config_dir() / SAVED_URL_FILE


def saved_database_url() -> str | None:
    """The server URL this PC was pointed at, or None (its own SQLite store)."""
    try:
        text = saved_url_file().read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def save_database_url(url: str | None) -> Path:
    """Point this PC at the server ``url`` (None: back to its own store), replacing the file
    in one step; the file is made readable by its owner only."""
    path = saved_url_file()
    if url is None:
        path.unlink(missing_ok=True)
        return path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(url + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.chmod(part, 0o600)  # O_CREAT's mode only applies to a new file
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path


def default_data_dir() -> Path:
    """platformdirs' user data folder: where the store is when no option or variable names one."""
    return Path(platformdirs.user_data_dir(APP_NAME)).expanduser().resolve()


def store_options(location: Location) -> str:
    """The options a command needs to reach this store, as typed: ``--data-dir DIR`` unless
    the store is in the default folder, ``--database-url URL`` unless it is that folder's own
    file (password hidden); "" for the default store."""
    words: list[str] = []
    if location.data_dir != default_data_dir():
        words += ["--data-dir", str(location.data_dir)]
    if location.database_url != f"sqlite:///{location.data_dir / DATABASE_FILE}":
        words += ["--database-url", _URL_PASSWORD.sub(_hidden, location.database_url)]
    return "".join(f" {_quoted(word)}" for word in words)


def restore_command(location: Location, backup: Path | str) -> str:
    """``advice-desk restore BACKUP`` with the options that name this store."""
    return f"advice-desk restore {_quoted(str(backup))}{store_options(location)}"


def _quoted(word: str) -> str:
    import shlex  # here: not needed before the window's first paint

    return shlex.quote(word)
