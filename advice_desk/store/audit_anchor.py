"""This PC's anchor of a store's audit trail: its newest event, kept outside the database."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from advice_desk.paths import config_dir
from advice_desk.store.audit_key import AuditKeyError

ANCHORS_DIR = "audit-anchors"


@dataclass(frozen=True)
class Anchor:
    """The newest event this PC saw committed: its position (the event count), id and link."""

    store: str
    count: int
    event: int
    link: str


def anchor_path(the_store_id: str) -> Path:
    """This PC's anchor file of the store with that id
    (:func:`~advice_desk.store.audit_chain.store_id`)."""
    return config_dir() / ANCHORS_DIR / f"{the_store_id}.json"


def read_anchor(path: Path, *, strict: bool = False) -> Anchor | None:
    """The anchor in ``path``, or None when there is none (or it cannot be read as one).
    ``strict`` (verifying): an anchor file, or its folder, that other accounts may change is
    refused (:class:`AuditKeyError`): whoever can rewrite it can hide a cut tail; one they may
    only read is tightened to 0600 (it holds a count and a link, nothing personal)."""
    if strict:
        _private_anchors(path)
    try:
        data = json.loads(path.read_text("utf-8"))
        return Anchor(str(data["store"]), int(data["count"]), int(data["event"]),
                      str(data["link"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _private_anchors(path: Path) -> None:
    if os.name != "posix":
        return
    for item, private in ((path.parent, 0o700), (path, 0o600)):
        try:
            mode = stat.S_IMODE(os.stat(item, follow_symlinks=False).st_mode)
        except OSError:
            return  # no folder or no anchor yet: nothing to refuse
        if mode & 0o022:
            raise AuditKeyError(
                f"this PC's audit anchor {item} may be changed by other accounts (mode "
                f"{mode:04o}), so it cannot be trusted: make it its owner's only (chmod "
                f"{private:o} {item}), then check again")
        if mode & 0o077:
            try:
                os.chmod(item, private)
            except OSError as error:
                raise AuditKeyError(f"this PC's audit anchor {item} may be read by other "
                                    f"accounts and cannot be tightened "
                                    f"({error.strerror or error}): chmod {private:o} "
                                    f"{item}") from None


def write_anchor(path: Path, anchor: Anchor, *, only_forward: bool = True) -> None:
    """Write ``anchor`` to ``path`` atomically (mode 0600, its folder 0700). With
    ``only_forward`` an anchor behind the one already there is not written: two copies of the
    app on one PC may finish their commits in one order and their anchor writes in the other."""
    if only_forward:
        current = read_anchor(path)
        if current is not None and current.store == anchor.store and (
                current.count >= anchor.count):
            return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and stat.S_IMODE(path.parent.stat().st_mode) & 0o077:
        os.chmod(path.parent, 0o700)
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:  # no fsync: after a power cut an anchor behind, or none, is accepted
        os.write(fd, json.dumps(asdict(anchor)).encode())
    finally:
        os.close(fd)
    os.replace(part, path)
