"""The audit anchor sealed inside each copy of a SQLite store.

This PC's anchor (:mod:`advice_desk.store.audit_chain`) says how long the audit trail was when
it last saw an event committed. Each copy carries its own, inside the copy file: a one-row table
``backup_anchor(store_id, count, event, link, seal)`` written into the copy after the online
backup step, before the copy is verified and renamed into place (the copy is our own file, never
the live store). It is the copy's newest event (or this PC's anchor, if that is further on: a
store whose tail was cut before the copy passes the evidence on), sealed with an HMAC made with
the audit key, so it cannot be rewritten to match a cut tail without the key.

A restore takes the table out of the incoming file before the swap (the restored store's schema
is exactly the migrations'), and makes the copy's anchor this PC's anchor of the restored store:
``audit verify`` then tells a copy whose tail was cut from a whole one, on this PC or another
that has the key. A copy without a sealed anchor (made by an older version, a before-migration
copy, or one whose anchor was removed or does not match this PC's key) is restored, and the
restore says the tail of its trail cannot be checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import sqlite3
from pathlib import Path

from advice_desk.store.audit_anchor import Anchor, anchor_path, read_anchor, write_anchor
from advice_desk.store.audit_key import AuditKeyError, fingerprint, load_key

TABLE = "backup_anchor"
UNCHECKED = ("the copy carries no audit anchor (made by an older version, or before an "
             "upgrade), so the tail of its audit trail cannot be checked")
UNSEALED = ("the copy's audit anchor was not sealed with this PC's audit key, so the tail of "
            "its audit trail cannot be checked")


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


def _seal(key: bytes, anchor: Anchor) -> str:
    content = json.dumps([anchor.store, anchor.count, anchor.event, anchor.link])
    return hmac.new(key, b"advice-desk backup anchor\0" + content.encode(),
                    hashlib.sha256).hexdigest()


def _store_key(copy: sqlite3.Connection) -> tuple[str, bytes] | None:
    """The copy's store id and this PC's key, when the key is the one of the copy's trail."""
    try:
        row = copy.execute("SELECT store_id, key_id FROM audit_chain").fetchone()
    except sqlite3.Error:
        return None  # a schema before the chain
    if row is None or row[1] is None:
        return None
    try:
        key = load_key(create=False)
    except AuditKeyError:
        return None
    return (str(row[0]), key) if fingerprint(key) == row[1] else None


def seal_into(copy: sqlite3.Connection, live: Anchor | None) -> None:
    """Write the copy's sealed anchor into the copy (open read-write, not yet in place). No
    anchor for a copy of a trail without events, of an older schema, or when this PC has not
    the trail's key."""
    found = _store_key(copy)
    if found is None:
        return
    the_store, key = found
    last = copy.execute("SELECT id, seq, link FROM audit_event ORDER BY id DESC LIMIT 1"
                        ).fetchone()
    if last is None or last[1] is None or last[2] is None:
        return
    anchor = Anchor(the_store, int(last[1]), int(last[0]), str(last[2]))
    if live is not None and live.store == the_store and live.count > anchor.count:
        anchor = live
    with copy:
        copy.execute(f"DROP TABLE IF EXISTS {TABLE}")
        copy.execute(f"CREATE TABLE {TABLE} (store_id TEXT NOT NULL, count INTEGER NOT NULL, "
                     "event INTEGER NOT NULL, link TEXT NOT NULL, seal TEXT NOT NULL)")
        copy.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?)",
                     (anchor.store, anchor.count, anchor.event, anchor.link,
                      _seal(key, anchor)))


def take_out(incoming: Path) -> tuple[Anchor | None, str]:
    """Read the sealed anchor of the file about to be restored and drop its table. Returns the
    anchor (None when there is none to trust) and, then, why in words ("" when the copy's
    trail is empty: there is no tail to check)."""
    copy = sqlite3.connect(incoming)
    try:
        try:
            row = copy.execute(f"SELECT store_id, count, event, link, seal FROM {TABLE}"
                               ).fetchone()
        except sqlite3.OperationalError:
            row = None  # no such table
        with copy:
            copy.execute(f"DROP TABLE IF EXISTS {TABLE}")
        if row is None:
            with contextlib.suppress(sqlite3.Error):
                if copy.execute("SELECT 1 FROM audit_event LIMIT 1").fetchone() is None:
                    return None, ""
            return None, UNCHECKED
        found = _store_key(copy)
        anchor = Anchor(str(row[0]), int(row[1]), int(row[2]), str(row[3]))
        if found is None or found[0] != anchor.store or not hmac.compare_digest(
                str(row[4]), _seal(found[1], anchor)):
            return None, UNSEALED
        return anchor, ""
    finally:
        copy.close()


def restore_to(restored_store: Path, anchor: Anchor | None) -> None:
    """Make the copy's anchor this PC's anchor of the restored store (a restore legitimately
    makes the trail shorter than the anchor of the store it replaced); none, no anchor."""
    the_store = store_id_of(restored_store)
    if the_store is None:
        return
    if anchor is not None and anchor.store == the_store:
        write_anchor(anchor_path(the_store), anchor, only_forward=False)
    else:
        with contextlib.suppress(FileNotFoundError):
            anchor_path(the_store).unlink()
