"""Other seats' commits, as they happen: what the history, follow-ups and review list follow.

On PostgreSQL, statement-level triggers (revision 0010) on the tables those lists show call
``pg_notify(CHANNEL, <table>)``; the server folds identical notifications of one transaction,
so a save or an import of 20,000 calls sends one per table it wrote. A :class:`ChangeListener`
waits for them on a dedicated connection of its own (``LISTEN``), never the store's pool.

On SQLite (one PC), ``PRAGMA data_version`` on a connection of the listener's own changes when
any other connection commits, a CLI import in another process included: read every
:data:`SQLITE_POLL_S` seconds, it costs a few microseconds and no I/O.

The listener's PostgreSQL connection also marks the seat: its ``application_name`` is
:data:`SEAT_NAME` while someone is signed in at this desk (:meth:`ChangeListener.sign_in`) and
:data:`IDLE_NAME` otherwise, so :meth:`ChangeListener.seats` counts the signed-in seats of the
database from ``pg_stat_activity`` without a table of its own. A listener is used from one
thread, its own; :meth:`sign_in`, :meth:`sign_out` and :meth:`stop` may be called from any.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import URL

    from advice_desk.store.engine import Store

CHANNEL = "advice_desk_changes"
# The tables behind the history (calls with their topics and outcomes, topic labels), the
# follow-ups and the review list (both columns of the call).
WATCHED = ("call", "call_topic", "call_outcome", "topic")
SEAT_NAME = "advice-desk seat"
IDLE_NAME = "advice-desk"
SQLITE_POLL_S = 1.0
SEATS_SQL = ("SELECT count(*) FROM pg_stat_activity "
             "WHERE datname = current_database() AND application_name = %s")


@dataclass(frozen=True)
class Change:
    """Commits seen since the last change: the tables they wrote (empty when the engine cannot
    say which, as on SQLite)."""

    tables: frozenset[str] = frozenset()

    def touches(self, *tables: str) -> bool:
        return not self.tables or bool(self.tables.intersection(tables))


class ChangeListener:
    """Waits for commits to the store's watched tables, from any connection or process."""

    def __init__(self, store: Store, poll_s: float = SQLITE_POLL_S) -> None:
        self._url = store.engine.url
        self._sqlite = store.is_sqlite
        self._poll_s = poll_s
        self._pg: psycopg.Connection[tuple[object, ...]] | None = None
        self._lite: sqlite3.Connection | None = None
        self._version: int | None = None
        self._signed_in = False  # wanted; applied by the listening thread
        self._named: bool | None = None  # what the connection's application_name says
        self._stopped = threading.Event()

    # --- any thread -------------------------------------------------------------------------

    def sign_in(self) -> None:
        """Mark this desk as a signed-in seat (at the next turn of :meth:`wait`)."""
        self._signed_in = True

    def sign_out(self) -> None:
        """No one signed in here (signed out or locked): the seat is no longer counted."""
        self._signed_in = False

    def stop(self) -> None:
        """End :meth:`changes` within a second or so."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def rest(self, seconds: float) -> None:
        """Wait ``seconds`` (before trying the server again), or less if stopped meanwhile."""
        self._stopped.wait(seconds)

    # --- the listening thread ---------------------------------------------------------------

    def open(self) -> None:
        """Connect (and LISTEN); raises the driver's error when the database cannot be had."""
        if self._sqlite:
            if self._lite is None:
                database = self._url.database or ""
                self._lite = sqlite3.connect(f"file:{database}?mode=ro", uri=True,
                                             check_same_thread=False)
                self._version = self._data_version(self._lite)
            return
        if self._pg is None:
            import psycopg
            from psycopg.conninfo import make_conninfo

            conninfo = make_conninfo("", **_connect_args(self._url))
            self._pg = psycopg.connect(conninfo, autocommit=True, application_name=IDLE_NAME)
            self._named = False
            self._pg.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> Change | None:
        """The commits seen within ``timeout`` seconds (returning at the first, with whatever
        else has arrived with it folded in), or None."""
        self.open()
        if self._lite is not None:
            return self._poll_sqlite(timeout)
        assert self._pg is not None
        self._apply_seat(self._pg)
        tables: set[str] = set()
        for notify in self._pg.notifies(timeout=timeout, stop_after=1):
            tables.add(notify.payload)
        if not tables:
            return None
        # Whatever else is already here comes in the same change (a burst folds into one).
        for notify in self._pg.notifies(timeout=0.05):
            tables.add(notify.payload)
        return Change(frozenset(tables))

    def changes(self, timeout: float = 1.0) -> Iterator[Change]:
        """Every change, until :meth:`stop`; raises the driver's error when the connection
        goes (call :meth:`close` and begin again)."""
        while not self.stopped:
            change = self.wait(timeout)
            if change is not None:
                yield change

    def seats(self) -> int | None:
        """How many seats of this database are signed in (None on SQLite: one PC)."""
        if self._sqlite:
            return None
        self.open()
        assert self._pg is not None
        self._apply_seat(self._pg)
        row = self._pg.execute(SEATS_SQL, (SEAT_NAME,)).fetchone()
        return int(str(row[0])) if row else 0

    def close(self) -> None:
        for connection in (self._pg, self._lite):
            if connection is not None:
                with suppress(Exception):  # a broken connection is closed all the same
                    connection.close()
        self._pg = self._lite = None
        self._named = None

    # --- inside ---------------------------------------------------------------------------

    def _apply_seat(self, connection: psycopg.Connection[tuple[object, ...]]) -> None:
        wanted = self._signed_in
        if self._named != wanted:
            connection.execute("SELECT set_config('application_name', %s, false)",
                               (SEAT_NAME if wanted else IDLE_NAME,))
            self._named = wanted

    def _poll_sqlite(self, timeout: float) -> Change | None:
        assert self._lite is not None
        deadline = time.monotonic() + timeout
        while True:
            version = self._data_version(self._lite)
            if version != self._version:
                self._version = version
                return Change()
            left = deadline - time.monotonic()
            if left <= 0 or self._stopped.wait(min(self._poll_s, left)):
                return None

    @staticmethod
    def _data_version(connection: sqlite3.Connection) -> int:
        row = connection.execute("PRAGMA data_version").fetchone()
        return int(row[0])


def _connect_args(url: URL) -> dict[str, str | int]:
    """libpq's connection arguments from the store's SQLAlchemy URL (the password, never in
    the URL, comes from the ``.pgpass`` file libpq reads itself)."""
    args: dict[str, str | int] = {}
    for name, value in url.translate_connect_args(username="user", database="dbname").items():
        if value is not None and name != "password":
            args[name] = value
    for name, query_value in url.query.items():
        args[name] = query_value if isinstance(query_value, str) else query_value[-1]
    return args
