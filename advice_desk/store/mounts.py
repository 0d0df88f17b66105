"""Whether a folder is on a network drive, where a SQLite file is not safe.

SQLite's locking relies on the file system: NFS and SMB/CIFS shares implement it partly or not
at all, so two PCs writing one store file there can damage it (https://sqlite.org/useovernet.html).
On Linux the mount covering the folder is found in ``/proc/self/mountinfo`` (the longest mount
point that is a prefix of the folder's path); on Windows a UNC path (``\\\\server\\share``) or a
drive letter that ``GetDriveTypeW`` calls remote. A 9p mount is not counted: WSL uses it for the
PC's own disks.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path, PurePosixPath

# File system types of network shares (fuse.sshfs: a folder over SSH, with no locking at all).
NETWORK_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "ceph", "glusterfs",
    "fuse.sshfs", "fuse.glusterfs", "fuse.cephfs", "fuse.smbnetfs", "davfs", "fuse.davfs2",
})
MOUNTINFO = Path("/proc/self/mountinfo")
DRIVE_REMOTE = 4
_ESCAPE = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    """Mount points in mountinfo write space, tab, newline and backslash as octal escapes."""
    return _ESCAPE.sub(lambda found: chr(int(found.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[tuple[str, str]]:
    """(mount point, file system type) of each line of ``/proc/self/mountinfo``, in order."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields or len(fields) < 5:
            continue
        separator = fields.index("-")
        if separator + 1 >= len(fields):
            continue
        mounts.append((_unescape(fields[4]), fields[separator + 1]))
    return mounts


def _covers(mount_point: str, path: PurePosixPath) -> bool:
    return mount_point == "/" or path == PurePosixPath(mount_point) or \
        PurePosixPath(mount_point) in path.parents


def fs_type_of(path: str | PurePosixPath, mountinfo: str) -> str | None:
    """The file system type of the mount covering ``path`` (absolute), per ``mountinfo``:
    the longest covering mount point; of equal ones the last, which is mounted over the others."""
    target = PurePosixPath(path)
    best: tuple[int, str] | None = None
    for mount_point, fs_type in parse_mountinfo(mountinfo):
        if _covers(mount_point, target):
            depth = len(PurePosixPath(mount_point).parts)
            if best is None or depth >= best[0]:
                best = (depth, fs_type)
    return best[1] if best is not None else None


def network_type_in(path: str | PurePosixPath, mountinfo: str) -> str | None:
    """The network file system ``path`` is on according to ``mountinfo``, or None if local."""
    fs_type = fs_type_of(path, mountinfo)
    return fs_type if fs_type is not None and fs_type.lower() in NETWORK_TYPES else None


def network_drive_of(folder: Path) -> str | None:
    """What kind of network drive ``folder`` is on (``nfs4``, ``cifs``, ``a network drive``),
    or None when it is on this PC's own disks (or when this cannot be told)."""
    resolved = Path(os.path.realpath(folder))
    if sys.platform == "win32":
        return _windows_remote(resolved)
    try:
        mountinfo = MOUNTINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None  # not Linux (macOS, BSD): nothing to read it from
    return network_type_in(resolved.as_posix(), mountinfo)


def _windows_remote(path: Path) -> str | None:  # pragma: no cover - Windows only
    text = str(path)
    if text.startswith("\\\\?\\UNC\\") or (text.startswith("\\\\") and
                                          not text.startswith("\\\\?\\")):
        return "a network share (UNC path)"
    drive = os.path.splitdrive(text.removeprefix("\\\\?\\"))[0]
    if not drive:
        return None
    import ctypes

    windll = getattr(ctypes, "windll", None)
    if windll is None:
        return None
    if windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(drive + "\\")) == DRIVE_REMOTE:
        return f"a network drive ({drive})"
    return None
