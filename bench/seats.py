"""Several seats on one PostgreSQL server (PRODUCT.md §11), for ``bench/bench.py``.

The server is started for the bench alone, in a temporary folder and reached through a Unix
socket, the way tests/postgres.py starts the test session's, but with the server's own durable
settings (``fsync`` and ``synchronous_commit`` on): a save is acknowledged only once it is on
disk, as in an office. Without server binaries (or the psycopg driver) the figures are skipped
with a line saying how to get them.

- ``seats``: 4 processes, each a worker at a desk of their own, save calls at the same moment;
  every call carries its form's idempotency key and a tenth are saved a second time (a retry).
  Saves per second, the 95th percentile of one save (≤ 50 ms), and the keys counted in the
  store afterwards: none lost, none stored twice.
- ``server-report``: the one-year report on PostgreSQL beside the same report on SQLite, each
  store filled with ``advice-desk demo --calls N``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
SEATS = 4
SAVES_PER_SEAT = 250
RETRIED = 10  # every tenth call is saved again with its key, as a retry would
SEAT_P95_TARGET_S = 0.050
KEY_PREFIX = "bench-seat"
DURABLE = {"listen_addresses": "''", "max_connections": "50"}  # the server's defaults beside

if TYPE_CHECKING:
    from tests.postgres import PostgresServer


class NoServer(Exception):
    """No PostgreSQL server can be started here; the message says what is missing."""


@contextmanager
def local_server() -> Iterator[PostgresServer]:
    """A durable PostgreSQL server of the bench's own, stopped (and removed) at the end."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.postgres import HOW_TO_GET, PostgresServer, PostgresUnavailable, requirements

    try:
        requirements()
    except PostgresUnavailable as exc:
        raise NoServer(f"{exc}; {HOW_TO_GET}") from None
    server = PostgresServer.start(DURABLE)
    try:
        yield server
    finally:
        server.stop()


def new_database(server: PostgresServer, name: str) -> str:
    server._execute("CREATE DATABASE {}", name)
    return server.url(name)


# --- several seats saving at once --------------------------------------------------------------

def seat_child(args: list[str]) -> None:
    """One seat (``--child seat URL USER N``): sign in, say ready, wait for "go" on stdin, then
    save N calls (and every tenth again), printing each save's seconds as JSON at the end."""
    from advice_desk.calls.history import CallQuery
    from advice_desk.calls.record import CallDetails
    from advice_desk.calls.service import Calls
    from advice_desk.clock import SystemClock
    from advice_desk.paths import resolve_location
    from advice_desk.people.accounts import actor_of, get_or_create_user
    from advice_desk.store.engine import open_store

    url, username, count = args[0], args[1], int(args[2])
    clock = SystemClock()
    store = open_store(resolve_location(Path(args[3]), url), clock)
    calls = Calls(store, actor_of(get_or_create_user(store, username, clock)), clock)
    calls.count(CallQuery())  # connected and warm before the start
    print("ready", flush=True)
    sys.stdin.readline()
    times: list[float] = []
    for n in range(count):
        start = clock.now() - timedelta(minutes=10)
        details = CallDetails(started_at=start, ended_at=start + timedelta(minutes=8),
                              caller_type="grandparent", arrangement="sgo",
                              topics=("education.virtual-school",), outcomes=("advice",),
                              notes=f"seat {username} call {n}")
        key = f"{KEY_PREFIX}-{username}-{n:05d}-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        calls.log(details, key=key)
        times.append(time.perf_counter() - started)
        if n % RETRIED == 0:
            calls.log(details, key=key)  # the same form saved again: stored once
    store.close()
    print(json.dumps(times), flush=True)


def run_seats(url: str, data_dir: Path, seats: int = SEATS,
              saves: int = SAVES_PER_SEAT) -> dict[str, float]:
    """``seats`` processes saving ``saves`` calls each at once: their figures."""
    from advice_desk.paths import resolve_location
    from advice_desk.store.engine import open_store

    open_store(resolve_location(data_dir, url)).close()  # migrated before the seats start
    children = [subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("bench.py")), "--child", "seat", url,
         f"seat{n}", str(saves), str(data_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for n in range(seats)]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    times: list[float] = []
    for child in children:
        out, _ = child.communicate(timeout=600)
        if child.returncode != 0:
            raise RuntimeError(f"a seat failed with exit code {child.returncode}")
        times += json.loads(out.strip().splitlines()[-1])
    wall = time.perf_counter() - started
    stored, keys = _stored_keys(url, data_dir)
    expected = seats * saves
    return {"saves": float(len(times)), "saves_per_s": len(times) / wall,
            "p95_s": sorted(times)[int(len(times) * 0.95) - 1],
            "lost": float(expected - keys), "duplicated": float(stored - keys)}


def _stored_keys(url: str, data_dir: Path) -> tuple[int, int]:
    """The bench's calls in the store, and how many different keys they carry."""
    import sqlalchemy as sa

    from advice_desk.paths import resolve_location
    from advice_desk.store.engine import open_store

    store = open_store(resolve_location(data_dir, url))
    try:
        with store.engine.connect() as connection:
            row = connection.execute(sa.text(
                "SELECT count(*), count(DISTINCT idempotency_key) FROM call "
                "WHERE idempotency_key LIKE :prefix"), {"prefix": f"{KEY_PREFIX}-%"}).one()
    finally:
        store.close()
    return int(row[0]), int(row[1])
