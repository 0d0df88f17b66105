"""The refusals of the store layer (each message says what is wrong and what to do), and the
notices an opening leaves for whoever opened it."""

from __future__ import annotations

from enum import StrEnum


class Notice(StrEnum):
    """Something the opening did that the person should hear of once (the CLI prints the
    text on stderr, the GUI words it in its status bar)."""

    MODES_TIGHTENED = ("the store's files could be read by other accounts on this PC; they are "
                       "now readable by this account alone (folders 0700, files 0600)")


class StoreError(Exception):
    """The store cannot be opened; the message says why and what to do."""


class StoreDamaged(StoreError):
    """The store's file failed SQLite's integrity check (or could not even be read)."""


class StoreReadOnly(StoreError):
    """This account may read the store but not write it: nothing typed could be saved."""


class NetworkDrive(StoreError):
    """A SQLite store on a network drive, where its locking cannot be trusted."""
