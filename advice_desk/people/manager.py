"""The base of every area's operations: bound once to the open store, the person acting and the
clock, so an operation is written once and called as ``desk.topics.retire(code)``.

Anki's collection managers (``col.tags``, ``col.decks``) are the model. The desk builds one of
each for the signed-in person; the command line builds the ones it needs for its own actor.
"""

from __future__ import annotations

from dataclasses import dataclass

from advice_desk.clock import Clock
from advice_desk.people.permissions import Actor
from advice_desk.store.engine import Store


@dataclass(frozen=True)
class Manager:
    store: Store
    actor: Actor
    clock: Clock
