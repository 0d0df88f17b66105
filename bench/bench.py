"""Measure the speed targets of PRODUCT.md §11 (``make bench``); never run by the test suite.

Each measurement is a function of the bench settings that returns figures: what it measured,
the target, and a baseline (the same work done the plainest way, here on the same machine), so
a slow figure can be told from a slow machine. Add a measurement by writing such a function and
listing it in ``MEASUREMENTS``. Times come from ``time.perf_counter``. The script exits with 1
when a figure misses its target.

    make bench                              # the full size: a million calls
    make bench BENCH_ARGS="--calls 100000"  # a quick look

Targets are set for the full size. At another size they are scaled in proportion and shown as
indicative only: start-up costs do not shrink with the store, so they cannot fail the bench.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from advice_desk.calls.history import CallQuery
from advice_desk.calls.record import CallDetails
from advice_desk.calls.service import Calls
from advice_desk.clock import SystemClock
from advice_desk.paths import resolve_location
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.people.permissions import command_line_actor
from advice_desk.reports.compute import Reports
from advice_desk.store.engine import Store, open_store

FULL_SIZE = 1_000_000  # calls in the store the targets are set for
DEMO_TARGET_S = 30.0


@dataclass(frozen=True)
class Settings:
    calls: int
    work_dir: Path  # a temporary folder, removed when the bench ends

    @property
    def full_size(self) -> bool:
        return self.calls == FULL_SIZE

    def scaled(self, target_s: float) -> float:
        """A target set for the full size, for the size being measured."""
        return target_s * self.calls / FULL_SIZE


@dataclass(frozen=True)
class Figure:
    name: str
    measured_s: float
    target_s: float
    baseline_s: float | None = None
    baseline: str = ""  # what the baseline is
    indicative: bool = False  # a target scaled to another size, which cannot fail

    @property
    def met(self) -> bool:
        return self.indicative or self.measured_s <= self.target_s

    @property
    def verdict(self) -> str:
        if self.indicative:
            return "indicative"
        return "ok" if self.met else "MISSED"


Measurement = Callable[[Settings], list[Figure]]


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# --- demo ------------------------------------------------------------------------------------

def measure_demo(settings: Settings) -> list[Figure]:
    """``advice-desk demo --calls N`` as a user runs it, beside the raw-SQL floor."""
    demo_dir = settings.work_dir / "demo"
    command = [sys.executable, "-m", "advice_desk", "--data-dir", str(demo_dir), "demo",
               "--calls", str(settings.calls)]
    measured = timed(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL))
    floor = raw_insert_floor(settings.calls, settings.work_dir / "floor")
    return [Figure(f"demo --calls {settings.calls}", measured,
                   settings.scaled(DEMO_TARGET_S), floor,
                   f"sqlite3.executemany of {settings.calls} calls + topic rows",
                   indicative=not settings.full_size)]


def raw_insert_floor(calls: int, data_dir: Path) -> float:
    """Plain ``sqlite3.executemany`` of ``calls`` call rows and as many topic rows, in one
    transaction, into a store with the same schema and settings: no app can write faster."""
    location = resolve_location(data_dir)
    store = open_store(location)
    worker = get_or_create_user(store, "bench", SystemClock())
    store.close()
    assert location.sqlite_file is not None and worker.id is not None
    starts = list(_start_texts(calls))  # made before the clock starts
    connection = sqlite3.connect(location.sqlite_file, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        connection.execute(f"PRAGMA {pragma}")

    def insert() -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO call (id, kind, started_at, ended_at, duration_s, channel, direction,"
            " in_hours, worker_id, caller_type, arrangement, safeguarding, first_time_caller,"
            " consent_to_store_details, created_at, updated_at)"
            " VALUES (?, 'data', ?, ?, 720, 'phone', 'inbound', 1, ?, 'grandparent', 'sgo',"
            " 0, 'unknown', 0, ?, ?)",
            ((i, s, s, worker.id, s, s) for i, s in enumerate(starts, start=1)))
        connection.executemany(
            "INSERT INTO call_topic (call_id, topic_code, is_primary) VALUES (?, ?, 1)",
            ((i, "financial.allowances") for i in range(1, calls + 1)))
        connection.execute("COMMIT")

    try:
        return timed(insert)
    finally:
        connection.close()


def _start_texts(calls: int) -> Iterator[str]:
    """Start times spread evenly over a year, in order, as SQLAlchemy stores them."""
    first = datetime(2025, 1, 1, 9, 30)
    step = timedelta(days=365) / max(calls, 1)
    for i in range(calls):
        yield (first + i * step).isoformat(" ", "microseconds")


# --- on the demo store ----------------------------------------------------------------------
# These measure the store that measure_demo filled, so they run after it.

DAY_REPORT_TARGET_S, YEAR_REPORT_TARGET_S = 0.05, 1.0
SAVE_P95_TARGET_S, HISTORY_TARGET_S = 0.02, 0.2


def _demo_store(settings: Settings) -> Store:
    return open_store(resolve_location(settings.work_dir / "demo"))


def _best_of(runs: int, work: Callable[[], object]) -> float:
    return min(timed(work) for _ in range(runs))


def _busiest_recent_day(store: Store) -> date:
    with store.engine.connect() as connection:
        return date.fromisoformat(str(connection.exec_driver_sql(
            "SELECT local_date FROM call WHERE local_date < date('now') "
            "ORDER BY local_date DESC LIMIT 1").scalar()))


def _raw_report(store: Store, first: date, last: date) -> None:
    """The report's aggregates written directly in SQL, run through the plain driver."""
    assert store.location.sqlite_file is not None
    connection = sqlite3.connect(store.location.sqlite_file)
    period = (first.isoformat(), last.isoformat())
    where = "local_date BETWEEN ? AND ?"
    for sql in (
        f"SELECT kind, in_hours, caller_type, arrangement, worker_id, safeguarding, "
        f"reviewed_at IS NOT NULL, count(*) FROM call WHERE {where} GROUP BY 1, 2, 3, 4, 5, 6, 7",
        f"SELECT local_authority, count(*) FROM call WHERE {where} AND kind = 'data' GROUP BY 1",
        f"SELECT t.topic_code, count(*) FROM call_topic t JOIN call c ON c.id = t.call_id "
        f"WHERE {where} AND kind = 'data' GROUP BY 1",
        f"SELECT o.outcome, count(DISTINCT o.call_id) FROM call_outcome o JOIN call c "
        f"ON c.id = o.call_id WHERE {where} AND kind = 'data' GROUP BY 1",
        f"SELECT local_minute / 30, count(*) FROM call WHERE {where} AND in_hours GROUP BY 1",
        f"SELECT duration_s, count(*) FROM call WHERE {where} AND kind = 'data' "
        f"AND duration_s IS NOT NULL GROUP BY 1",
    ):
        connection.execute(sql, period).fetchall()
    connection.close()


def measure_reports(settings: Settings) -> list[Figure]:
    store = _demo_store(settings)
    reports = Reports(store, command_line_actor(), SystemClock())
    try:
        day = _busiest_recent_day(store)
        figures = []
        for name, first, target in (("daily report", day, DAY_REPORT_TARGET_S),
                                    ("one-year report", day - timedelta(days=364),
                                     YEAR_REPORT_TARGET_S)):
            measured = _best_of(3, lambda f=first: reports.compute(f, day))
            baseline = _best_of(3, lambda f=first: _raw_report(store, f, day))
            figures.append(Figure(f"{name} ({first} to {day})", measured, target, baseline,
                                  "the same aggregates in raw SQL",
                                  indicative=not settings.full_size))
        return figures
    finally:
        store.close()


def measure_saving(settings: Settings) -> list[Figure]:
    """The 95th percentile of saving one call, on the full store."""
    store = _demo_store(settings)
    clock = SystemClock()
    calls = Calls(store, actor_of(get_or_create_user(store, "bench", clock)), clock)
    try:
        times = []
        for _ in range(100):
            start = clock.now() - timedelta(minutes=10)
            details = CallDetails(started_at=start, ended_at=start + timedelta(minutes=8),
                                  caller_type="grandparent", arrangement="sgo",
                                  topics=("education.virtual-school",), outcomes=("advice",))
            times.append(timed(lambda d=details: calls.log(d)))
        p95 = sorted(times)[94]
        return [Figure("save a call (95th percentile of 100)", p95, SAVE_P95_TARGET_S,
                       indicative=not settings.full_size)]
    finally:
        store.close()


def measure_history(settings: Settings) -> list[Figure]:
    store = _demo_store(settings)
    calls = Calls(store, command_line_actor(), SystemClock())
    try:
        queries = (("history: first screen", CallQuery()),
                   ("history: filter by topic", CallQuery(topic="education")),
                   ("history: filter by worker", CallQuery(worker_id=1)),
                   ("history: filter by date", CallQuery(date_from=date(2026, 6, 1),
                                                         date_to=date(2026, 6, 30))))
        return [Figure(name, _best_of(3, lambda q=query: calls.list(q)),
                       HISTORY_TARGET_S, indicative=not settings.full_size)
                for name, query in queries]
    finally:
        store.close()


SEARCH_TARGET_S = 0.1
SEARCHES = (("a rare name", "margaret smith"), ("a common topic word", "respite"),
            ("a very common word", "the"))


def measure_search(settings: Settings) -> list[Figure]:
    """A search of the history as the screen asks it: the first page and the total."""
    store = _demo_store(settings)
    calls = Calls(store, command_line_actor(), SystemClock())
    try:
        figures = []
        for what, text in SEARCHES:
            query = CallQuery(text=text)
            figures.append(Figure(f"search: {what} ({text!r}), page and total",
                                  _best_of(3, lambda q=query: (calls.list(q), calls.count(q))),
                                  SEARCH_TARGET_S, indicative=not settings.full_size))
        return figures
    finally:
        store.close()


BACKUP_TARGET_S, RESTORE_TARGET_S, SAVE_DURING_BACKUP_TARGET_S = 30.0, 60.0, 1.0


def measure_backups(settings: Settings) -> list[Figure]:
    """A verified copy (online backup + integrity check), saves while it runs (on another
    thread, as the GUI does), and a restore (the copy checked, the store kept aside, swapped);
    beside a plain file copy of the store."""
    import shutil
    import threading

    from advice_desk.backups.copies import AutoOutcome, auto_backup
    from advice_desk.backups.restore import restore_file

    store = _demo_store(settings)
    clock = SystemClock()
    calls = Calls(store, actor_of(get_or_create_user(store, "bench", clock)), clock)
    store_file = store.location.sqlite_file
    assert store_file is not None
    try:
        plain = timed(lambda: shutil.copyfile(store_file, settings.work_dir / "plain-copy"))
        saves: list[float] = []
        outcome: list[AutoOutcome] = []
        backing_up = threading.Thread(
            target=lambda: outcome.append(auto_backup(store, clock, force=True)))
        started = time.perf_counter()
        backing_up.start()
        while backing_up.is_alive():
            start = clock.now() - timedelta(minutes=10)
            details = CallDetails(started_at=start, ended_at=start + timedelta(minutes=8),
                                  caller_type="grandparent", arrangement="sgo",
                                  topics=("education.virtual-school",), outcomes=("advice",))
            saves.append(timed(lambda d=details: calls.log(d)))
        backup = time.perf_counter() - started
        made = outcome[0].made
        assert made is not None
        copy = made.path
    finally:
        store.close()
    restore = timed(lambda: restore_file(store.location, copy, clock))
    scaled = not settings.full_size
    return [Figure("backup: a verified copy of the store", backup,
                   settings.scaled(BACKUP_TARGET_S), plain, "shutil.copyfile of the store",
                   indicative=scaled),
            Figure(f"save a call while a backup runs (worst of {len(saves)})", max(saves),
                   SAVE_DURING_BACKUP_TARGET_S, indicative=scaled),
            Figure("restore: copy checked, store kept aside, swapped", restore,
                   settings.scaled(RESTORE_TARGET_S), plain, "shutil.copyfile of the store",
                   indicative=scaled)]


# --- the table -------------------------------------------------------------------------------

MEASUREMENTS: list[Measurement] = [measure_demo, measure_reports, measure_saving,
                                   measure_history, measure_search, measure_backups]


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def print_table(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    print(f"{'measurement':<{width}}  {'measured':>9}  {'target':>9}  {'baseline':>9}")
    for f in figures:
        print(f"{f.name:<{width}}  {_seconds(f.measured_s):>9}  "
              f"{'≤ ' + _seconds(f.target_s):>9}  {_seconds(f.baseline_s):>9}  {f.verdict}"
              + (f"  (baseline: {f.baseline})" if f.baseline else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=FULL_SIZE, metavar="N",
                        help=f"size of the store to measure with (default: {FULL_SIZE})")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="advice-desk-bench-") as work_dir:
        settings = Settings(args.calls, Path(work_dir))
        figures = [figure for measure in MEASUREMENTS for figure in measure(settings)]
    print_table(figures)
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
