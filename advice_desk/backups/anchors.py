"""The audit anchor that travels with each copy of a SQLite store.

This PC's anchor (:mod:`advice_desk.store.audit_chain`) says how long the audit trail was when
it last saw an event committed. A copy carries the anchor read just before the copy was taken
(``<copy>.anchor``, mode 0600): it is a lower bound of the copy's trail, so ``audit verify``
after a restore still tells a copy whose tail was cut from a whole one. Restoring a copy puts
its anchor back as this PC's anchor (a restore legitimately makes the trail shorter than the
anchor of the store it replaced); a copy without one (made before the chain existed, or by an
older version) leaves no anchor, and verify then checks the chain alone.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from advice_desk.store.audit_chain import Anchor, anchor_path, read_anchor, write_anchor

SUFFIX = ".anchor"


def anchor_of_copy(copy: Path) -> Path:
    return copy.with_name(copy.name + SUFFIX)


def store_id_of(store_file: Path) -> str | None:
    """The store's id from its audit chain record, or None (an older schema, or no record)."""
    try:
        connection = sqlite3.connect(f"{store_file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = connection.execute("SELECT store_id FROM audit_chain").fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return None if row is None else str(row[0])


def live_anchor(store_file: Path) -> Anchor | None:
    """This PC's anchor of the store in ``store_file``; read it before the copy is taken."""
    the_store = store_id_of(store_file)
    return None if the_store is None else read_anchor(anchor_path(the_store))


def keep_beside(copy: Path, anchor: Anchor | None) -> None:
    if anchor is not None:
        write_anchor(anchor_of_copy(copy), anchor, only_forward=False)


def restore_from(source: Path, restored_store: Path) -> None:
    """Make the anchor of the copy ``source`` this PC's anchor of the restored store."""
    the_store = store_id_of(restored_store)
    if the_store is None:
        return
    anchor = read_anchor(anchor_of_copy(source))
    if anchor is not None and anchor.store == the_store:
        write_anchor(anchor_path(the_store), anchor, only_forward=False)
    else:
        with contextlib.suppress(FileNotFoundError):
            anchor_path(the_store).unlink()
