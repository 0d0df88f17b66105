"""The audit chain's key: a secret file outside the database; the store keeps its fingerprint."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

from advice_desk.paths import config_dir
from advice_desk.store.engine import StoreError

KEY_ENV = "ADVICE_DESK_AUDIT_KEY"
KEY_FILE = "audit-key"
KEY_BYTES = 32


class AuditKeyError(StoreError):
    """The audit key is missing, readable by others, or not this store's; says what to do."""


def key_path() -> Path:
    """The key file this PC uses: ``$ADVICE_DESK_AUDIT_KEY``, else ``audit-key`` in the config
    folder."""
    named = os.environ.get(KEY_ENV)
    return Path(named).expanduser() if named else config_dir() / KEY_FILE


def load_key(create: bool) -> bytes:
    """The audit key; made (mode 0600, atomically) when ``create`` and there is none. A key
    that other accounts may read is refused: whoever can read it can forge the chain."""
    path = key_path()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        if not create:
            raise AuditKeyError(
                f"this PC has no audit key at {path}: copy the store's key file there (or name "
                f"it in {KEY_ENV}) from the PC or backup that keeps it; if it is lost for "
                f"good, 'advice-desk audit new-key' chains on with a new one") from None
        return _make_key(path)
    except OSError as error:
        raise AuditKeyError(f"cannot read the audit key {path}: "
                            f"{error.strerror or error}") from None
    try:
        mode = os.fstat(fd).st_mode
        if os.name == "posix" and mode & 0o077:
            raise AuditKeyError(
                f"the audit key {path} may be read by other accounts (mode "
                f"{stat.S_IMODE(mode):04o}): make it readable by its owner only "
                f"(chmod 600 {path})")
        key = os.read(fd, 4096)
    finally:
        os.close(fd)
    if len(key) < KEY_BYTES:
        raise AuditKeyError(f"the audit key {path} is damaged ({len(key)} bytes); put back "
                            f"the key file kept with the store's backups")
    return key


def _make_key(path: Path) -> bytes:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = os.urandom(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another copy of the app made it just now
        return load_key(create=False)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def fingerprint(key: bytes) -> str:
    """What the store keeps of the key: enough to tell two keys apart, nothing to forge with."""
    return hmac.new(key, b"advice-desk audit key fingerprint", hashlib.sha256).hexdigest()[:16]
