"""The base of every area's operations: bound once to the open store, the person acting and the
clock, so an operation is written once and called as ``desk.topics.retire(code)``.

Anki's collection managers (``col.tags``, ``col.decks``) are the model. The desk builds one of
each for the signed-in person; the command line builds the ones it needs for its own actor.

A signed-in person's account may be disabled while their session is open: every read and write
transaction a manager opens for them first checks, in that same transaction, that the account
is still active (one lookup by primary key), and raises :class:`AccountDisabled` otherwise; the
GUI then shows its lock screen. The command line and the app itself (no user row) are not
checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from advice_desk.clock import Clock
from advice_desk.people.permissions import AccountDisabled, Actor
from advice_desk.store.engine import Store
from advice_desk.store.models import User


class SignedInStore(Store):
    """The store as a signed-in person uses it: each session checks their account first.
    Everything else is the open store's own (attributes are looked up on it)."""

    def __init__(self, store: Store, actor: Actor) -> None:  # the open store keeps its state
        self.__dict__["_open_store"] = store
        self.__dict__["_actor"] = actor

    def __getattr__(self, name: str) -> object:
        return getattr(self.__dict__["_open_store"], name)

    @property
    def open_store(self) -> Store:
        """The store itself, unchecked: for signing in again at the lock screen."""
        store: Store = self.__dict__["_open_store"]
        return store

    def _check(self, connection: sa.Connection) -> None:
        actor: Actor = self.__dict__["_actor"]
        active = connection.execute(
            sa.select(sa.column("active")).select_from(sa.table(User.__tablename__))
            .where(sa.column("id") == actor.id)).scalar()
        if not active:
            raise AccountDisabled(
                f"{actor.name}'s account has been disabled by a supervisor; sign in again "
                f"when it is enabled")

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.open_store.read() as session:
            self._check(session.connection())
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self.open_store.write() as session:
            self._check(session.connection())
            yield session

    @contextmanager
    def raw_write(self) -> Iterator[sa.Connection]:
        with self.open_store.raw_write() as connection:
            self._check(connection)
            yield connection


def unchecked(store: Store) -> Store:
    """The open store behind a signed-in person's view of it."""
    return store.open_store if isinstance(store, SignedInStore) else store


@dataclass(frozen=True)
class Manager:
    store: Store
    actor: Actor
    clock: Clock

    def __post_init__(self) -> None:
        if self.actor.id is not None and not isinstance(self.store, SignedInStore):
            object.__setattr__(self, "store", SignedInStore(self.store, self.actor))
