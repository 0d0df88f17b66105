"""The audit trail's chain: each event carries an HMAC-SHA256 of its own content and of the
previous event's link, keyed with a secret kept outside the database, so a changed, removed or
inserted event breaks the chain where it happened.

The key is a file of this PC's config folder (``audit-key``, mode 0600, made with ``O_EXCL`` at
the first event), or the file ``ADVICE_DESK_AUDIT_KEY`` names: on a server store every seat names
the same key file. The store holds only the key's fingerprint, so a seat with another key is
refused before it writes a link nobody else could verify.

A chain that is whole can still have lost its newest events (``DELETE`` of the tail with the
triggers dropped): the newest link and the event count are therefore also written outside the
database, after each commit that adds events, to an anchor file per store in this PC's config
folder (:func:`anchor_path`). An anchor is a lower bound (a crash between the commit and the
anchor write leaves it one step behind, which is fine); a trail shorter than its anchor, or one
whose event at the anchor's position has another link, is reported.

Appends are serialised by the write lock every write transaction takes (``BEGIN IMMEDIATE`` on
SQLite, ``pg_advisory_xact_lock`` on PostgreSQL): :func:`next_link` reads the newest event
inside that transaction, so the chain cannot fork.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from advice_desk.store.audit_anchor import Anchor
from advice_desk.store.audit_key import KEY_ENV, AuditKeyError, fingerprint, key_path, load_key
from advice_desk.store.engine import StoreError

BATCH = 5_000  # events read at a time when the chain is walked

EVENTS = sa.table(
    "audit_event", sa.column("id", sa.Integer()), sa.column("at", sa.DateTime()),
    sa.column("actor_id", sa.Integer()), sa.column("actor", sa.String()),
    sa.column("action", sa.String()), sa.column("subject", sa.String()),
    sa.column("detail", sa.Text()), sa.column("seq", sa.Integer()),
    sa.column("link", sa.String()))
CHAIN = sa.table("audit_chain", sa.column("store_id", sa.String()),
                 sa.column("key_id", sa.String()))


# --- links -----------------------------------------------------------------------------------

def genesis(key: bytes, store_id: str, seq: int = 1) -> str:
    """The "previous link" of the first event (or of the first after a new key, at ``seq``):
    binds the chain to its store."""
    start = store_id if seq == 1 else f"{store_id}:{seq}"
    return hmac.new(key, b"advice-desk audit trail\0" + start.encode(),
                    hashlib.sha256).hexdigest()


# The event that starts the chain again with a new key after the old one was lost: the events
# before it can only be checked with the old key.
KEY_REPLACED = "audit-key-replaced"


def _instant(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(sep=" ", timespec="microseconds")


def link(key: bytes, previous: str, seq: int, at: datetime, actor_id: int | None, actor: str,
         action: str, subject: str | None, detail: str | None) -> str:
    """The HMAC-SHA256 of one event's content and the link before it."""
    content = json.dumps([seq, _instant(at), actor_id, actor, action, subject, detail],
                         ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, f"{previous}\n{content}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Next:
    """Where the next event goes in the chain: its position, its link and the store's id."""

    store_id: str
    seq: int
    link: str


def store_id(connection: sa.Connection) -> str:
    found = connection.execute(sa.select(CHAIN.c.store_id)).scalar()
    if found is None:
        raise StoreError("the store has no audit chain record; it was not made by Advice Desk")
    return str(found)


def store_key(connection: sa.Connection, writing: bool = True) -> tuple[str, bytes | None]:
    """The store's id and this PC's key, checked against the fingerprint the store keeps; the
    first chained event of a store makes the key (when there is none) and records it. Not
    ``writing`` (verifying), a store that has never chained an event needs no key (None)."""
    row = connection.execute(sa.select(CHAIN.c.store_id, CHAIN.c.key_id)).first()
    if row is None:
        raise StoreError("the store has no audit chain record; it was not made by Advice Desk")
    the_store, key_id = str(row[0]), row[1]
    if key_id is None and not writing:
        return the_store, None
    key = load_key(create=key_id is None)
    if key_id is None:
        connection.execute(CHAIN.update().values(key_id=fingerprint(key)))
    elif key_id != fingerprint(key):
        raise AuditKeyError(
            f"the audit key {key_path()} is not the key of this store's audit trail: put the "
            f"store's key file there (or name it in {KEY_ENV})")
    return the_store, key


def next_link(connection: sa.Connection, at: datetime, actor_id: int | None, actor: str,
              action: str, subject: str | None, detail: str | None) -> Next:
    """The chain position and link of an event about to be added, in the caller's write
    transaction (which holds the write lock: no other append can come in between)."""
    the_store, key = store_key(connection)
    assert key is not None
    last = connection.execute(sa.select(EVENTS.c.seq, EVENTS.c.link)
                              .order_by(EVENTS.c.id.desc()).limit(1)).first()
    seq = 1 if last is None else (last.seq or 0) + 1
    if last is None or action == KEY_REPLACED:
        previous = genesis(key, the_store, seq)
    else:
        previous = last.link or ""
    return Next(the_store, seq, link(key, previous, seq, at, actor_id, actor, action,
                                     subject, detail))


def replace_lost_key(connection: sa.Connection) -> None:
    """After the audit key was lost: make a new one and make it the store's, in the caller's
    write transaction, which must then record a :data:`KEY_REPLACED` event. Refused while a
    key file is there (the right key, or one to move away first)."""
    path = key_path()
    if path.exists():
        raise AuditKeyError(f"there is an audit key at {path}; a new one is made only when it "
                            f"is lost (move a wrong key file away first)")
    connection.execute(CHAIN.update().values(key_id=fingerprint(load_key(create=True))))


def chain_existing(connection: sa.Connection) -> int:
    """Give every event without a link its position and link, in id order (migration 0006,
    with the UPDATE guard lifted for the while). Returns how many were chained."""
    the_store, key = store_key(connection)
    assert key is not None
    previous, seq, done = genesis(key, the_store), 0, 0
    for rows in _batches(connection):
        updates = []
        for row in rows:
            seq += 1
            previous = link(key, previous, seq, row.at, row.actor_id, row.actor, row.action,
                            row.subject, row.detail)
            updates.append({"b_id": row.id, "b_seq": seq, "b_link": previous})
        connection.execute(EVENTS.update().where(EVENTS.c.id == sa.bindparam("b_id"))
                           .values(seq=sa.bindparam("b_seq"), link=sa.bindparam("b_link")),
                           updates)
        done += len(updates)
    return done


def _batches(connection: sa.Connection, after: int = 0
             ) -> Iterator[list[sa.Row[tuple[object, ...]]]]:
    """Every event after id ``after`` in id order, a batch at a time (keyset paging: memory
    stays flat)."""
    while True:
        rows = list(connection.execute(
            sa.select(EVENTS).where(EVENTS.c.id > after).order_by(EVENTS.c.id).limit(BATCH)))
        if not rows:
            return
        yield rows
        after = rows[-1].id


def chain_head(connection: sa.Connection) -> Anchor | None:
    """The newest event of the trail as an anchor (None when the trail is empty): what a
    backup seals into its copy, and a server restore makes this PC's anchor."""
    last = connection.execute(sa.select(EVENTS.c.id, EVENTS.c.seq, EVENTS.c.link)
                              .order_by(EVENTS.c.id.desc()).limit(1)).first()
    if last is None:
        return None
    return Anchor(store_id(connection), int(last.seq or 0), int(last.id), str(last.link))


# --- a server restore --------------------------------------------------------------------------

# The event a restore writes into the restored store. After a server restore it names the trail
# it replaced (its length and newest event id) and comes after every event of that trail in id
# order (the restore moves the id sequence past them), so another seat's anchor of the replaced
# trail is told from an anchor of the restored one: see :func:`superseding_restore`.
STORE_RESTORED = "store-restored"
REPLACED_EVENTS, REPLACED_LAST_ID = "replaced events", "replaced last id"


def superseding_restore(connection: sa.Connection, anchor: Anchor
                        ) -> sa.Row[tuple[object, ...]] | None:
    """The newest server restore that replaced the trail ``anchor`` was taken of, if any.

    Sound against a cut tail: such an event is chained (it cannot be forged or moved without
    the key, which the verify then reports), its id is above every event of the trail it
    replaced, and an anchor taken after it has an event id at or above its own. So an anchor
    of events the restore replaced is accepted as an anchor at the restore's event (the trail
    must still reach it), and an anchor of anything written after the restore never is."""
    for row in connection.execute(
            sa.select(EVENTS).where(EVENTS.c.action == STORE_RESTORED,
                                    EVENTS.c.id > anchor.event)
            .order_by(EVENTS.c.id.desc())):
        try:
            detail = json.loads(row.detail or "{}")
        except ValueError:
            continue
        last_id, events = detail.get(REPLACED_LAST_ID), detail.get(REPLACED_EVENTS)
        if (isinstance(last_id, int) and isinstance(events, int) and row.seq is not None
                and row.link is not None and anchor.event <= last_id < row.id
                and anchor.count <= events):
            return row
    return None


# --- verifying ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """What ``audit verify`` found: ``ok``, the number of events, and for a broken chain the
    first broken link: the event (id, when) and what happened (``changed``, ``removed``,
    ``added``, ``truncated``) in words."""

    ok: bool
    count: int
    anchored: int | None = None  # the count this PC witnessed, when it has an anchor
    event_id: int | None = None
    at: datetime | None = None
    problem: str | None = None
    explanation: str = ""
    unchecked: int = 0  # events before a key replacement: chained with the lost key
    key_replaced_at: datetime | None = None
    # This PC's anchor was of a trail a server restore replaced: checked from that restore on.
    restored_at: datetime | None = None


def verify(connection: sa.Connection, anchor: Anchor | None) -> Verdict:
    """Walk the whole trail in id order, streaming, recomputing every link."""
    the_store, key = store_key(connection, writing=False)
    if anchor is not None and anchor.store != the_store:
        anchor = None
    restored_at = None
    if anchor is not None and (restore := superseding_restore(connection, anchor)) is not None:
        anchor = Anchor(the_store, int(str(restore.seq)), int(str(restore.id)),
                        str(restore.link))
        restored_at = _utc(restore.at)
    previous, expected = genesis(key, the_store) if key is not None else "", 1
    anchored = anchor.count if anchor is not None else None
    last: sa.Row[tuple[object, ...]] | None = None
    restart = _restart(connection, key, the_store) if key is not None else None
    after, unchecked, replaced_at = 0, 0, None
    if restart is not None:  # the events before were chained with a key since lost
        after, unchecked, replaced_at = restart.id - 1, restart.seq - 1, restart.at
        previous, expected = genesis(key or b"", the_store, restart.seq), restart.seq
    for rows in _batches(connection, after):
        for row in rows:
            seq = row.seq
            if row.link is None or seq is None or key is None:
                return _broken(row, expected - 1, anchored, "added",
                               "an event without a link: added outside Advice Desk")
            if seq > expected:
                missing = (f"event {expected}" if seq == expected + 1
                           else f"events {expected} to {seq - 1}")
                return _broken(row, expected - 1, anchored, "removed",
                               f"{missing} of the trail removed before this one")
            if seq < expected:
                return _broken(row, expected - 1, anchored, "changed",
                               f"position {seq} where {expected} was due: events were moved "
                               f"or copied")
            if not hmac.compare_digest(
                    row.link, link(key, previous, seq, row.at, row.actor_id, row.actor,
                                   row.action, row.subject, row.detail)):
                return _broken(row, expected - 1, anchored, "changed",
                               "its content or its place in the trail was changed")
            if anchor is not None and seq == anchor.count and row.link != anchor.link:
                return _broken(row, expected - 1, anchored, "changed",
                               "this event is not the one this PC saw at this position")
            previous, expected, last = row.link, expected + 1, row
    count = expected - 1
    if anchor is not None and count < anchor.count:
        if last is None:
            told = "the trail is empty"
        else:
            told = f"the trail ends at event {count} (#{last.id}, {_when(last.at)})"
        return Verdict(False, count, anchored, anchor.event, None, "truncated",
                       f"{told}, but this PC saw {anchor.count} events: the newest "
                       f"{anchor.count - count} were removed", unchecked, replaced_at,
                       restored_at)
    return Verdict(True, count, anchored, unchecked=unchecked, key_replaced_at=replaced_at,
                   restored_at=restored_at)


def _utc(at: object) -> datetime:
    assert isinstance(at, datetime)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _restart(connection: sa.Connection, key: bytes, the_store: str
             ) -> sa.Row[tuple[object, ...]] | None:
    """The newest key replacement whose link this key made: the chain is checked from it."""
    for row in connection.execute(sa.select(EVENTS).where(EVENTS.c.action == KEY_REPLACED)
                                  .order_by(EVENTS.c.id.desc())):
        if row.seq is not None and row.link == link(
                key, genesis(key, the_store, row.seq), row.seq, row.at, row.actor_id,
                row.actor, row.action, row.subject, row.detail):
            return row
    return None


def _when(at: datetime) -> str:
    return at.replace(tzinfo=UTC).isoformat(timespec="seconds") if at.tzinfo is None else (
        at.astimezone(UTC).isoformat(timespec="seconds"))


def _broken(row: sa.Row[tuple[object, ...]], count: int, anchored: int | None, problem: str,
            explanation: str) -> Verdict:
    at = row.at
    assert isinstance(at, datetime)
    return Verdict(False, count, anchored, int(str(row.id)), at.replace(tzinfo=UTC)
                   if at.tzinfo is None else at, problem, explanation)
