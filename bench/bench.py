"""Measure the speed targets of PRODUCT.md §11 (``make bench``); never run by the test suite.

Each measurement is a function of the bench settings that returns figures: what it measured,
the target, and a baseline (the same work done the plainest way, here on the same machine), so
a slow figure can be told from a slow machine; a figure measured in a child process can carry
that process's peak memory (RSS) and a target for it. Add a measurement by writing such a
function and listing it in ``MEASUREMENTS`` (and in ``ONLY`` if it needs no demo store). Times
come from ``time.perf_counter``. The script exits with 1 when a figure misses its target.

Helpers for measurements:
- ``timed(work)``, ``_best_of(runs, work)``: seconds of a callable; the best of several runs.
- ``_demo_store(settings)``: the store ``measure_demo`` filled (measurements after it use it).
- ``run_measured(command)``: run a command (``advice_desk_command(...)`` for ``advice-desk``)
  in a child process: its seconds and its standard output.
- ``run_child(settings, name, *args)``: run ``CHILDREN[name](args)`` in a child process of this
  script (for work timed inside, such as the import's write transaction): the figures it
  returns as JSON, with its peak RSS in MB as ``peak_rss_mb``.
- ``Figure(..., peak_rss_mb=..., rss_target_mb=...)``: the table's memory columns.

    make bench                              # the full size: a million calls
    make bench BENCH_ARGS="--calls 100000"  # a quick look

Targets are set for the full size. At another size they are scaled in proportion and shown as
indicative only: start-up costs do not shrink with the store, so they cannot fail the bench.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seats

FULL_SIZE = 1_000_000  # calls in the store the targets are set for
DEMO_TARGET_S = 30.0
IMPORT_ROWS = 100_000  # rows of the spreadsheet the import targets are set for


@dataclass(frozen=True)
class Settings:
    calls: int
    work_dir: Path  # a temporary folder, removed when the bench ends
    import_rows: int = IMPORT_ROWS

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
    unit: str = "s"  # or "x": a multiple (of the file's size, say), not a time
    peak_rss_mb: float | None = None  # of the child process that did the work, if it had one
    rss_target_mb: float | None = None

    @property
    def met(self) -> bool:
        memory_met = (self.rss_target_mb is None or self.peak_rss_mb is None
                      or self.peak_rss_mb <= self.rss_target_mb)
        return self.indicative or (self.measured_s <= self.target_s and memory_met)

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


# --- child processes -------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    seconds: float
    stdout: str


def advice_desk_command(data_dir: Path, *args: str) -> list[str]:
    """``advice-desk --data-dir DATA_DIR ARGS…`` as a user runs it, with this interpreter."""
    return [sys.executable, "-m", "advice_desk", "--data-dir", str(data_dir), *args]


def run_measured(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``command`` to its end; fails if it fails."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, env=env)
        _, status = os.waitpid(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise subprocess.CalledProcessError(process.returncode, command)
        out.seek(0)
        text = out.read().decode()
    return Run(seconds, text)


ChildWork = Callable[[list[str]], dict[str, float]]


def run_child(name: str, *args: str) -> dict[str, float]:
    """``CHILDREN[name](args)`` run in a process of its own: what it returned, and its peak
    RSS in MB as ``peak_rss_mb`` (its own, as it measured it: see :func:`own_memory`)."""
    run = run_measured([sys.executable, __file__, "--child", name, *args])
    figures: dict[str, float] = json.loads(run.stdout)
    return figures


def own_memory(field: str) -> int:
    """This process's ``VmRSS`` (now) or ``VmHWM`` (its peak) in bytes, from Linux's
    /proc/self/status. Not ``ru_maxrss``: a child inherits its parent's (the bench's, some
    hundreds of MB after the demo) across fork and exec, which hid most of a child's growth."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


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

DAY_REPORT_TARGET_S, YEAR_REPORT_TARGET_S = 0.02, 0.1  # PRODUCT.md §11
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
                       _raw_save_p95(store), "sqlite3: a call, its topic and outcome in one "
                       "transaction (95th percentile of 100)",
                       indicative=not settings.full_size)]
    finally:
        store.close()


def _raw_sqlite(store: Store) -> sqlite3.Connection:
    """The demo store through the plain driver, with the store's settings."""
    assert store.location.sqlite_file is not None
    connection = sqlite3.connect(store.location.sqlite_file, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        connection.execute(f"PRAGMA {pragma}")
    return connection


def _raw_save_p95(store: Store) -> float:
    connection = _raw_sqlite(store)
    worker = connection.execute("SELECT min(id) FROM app_user").fetchone()[0]

    def save() -> None:
        start = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        connection.execute("BEGIN IMMEDIATE")
        call_id = connection.execute(
            "INSERT INTO call (kind, started_at, ended_at, duration_s, channel, direction,"
            " in_hours, worker_id, caller_type, arrangement, safeguarding, first_time_caller,"
            " consent_to_store_details, created_at, updated_at)"
            " VALUES ('data', ?, ?, 480, 'phone', 'inbound', 1, ?, 'grandparent', 'sgo',"
            " 0, 'unknown', 0, ?, ?)", (start, start, worker, start, start)).lastrowid
        connection.execute("INSERT INTO call_topic (call_id, topic_code, is_primary)"
                           " VALUES (?, 'education.virtual-school', 1)", (call_id,))
        connection.execute("INSERT INTO call_outcome (call_id, outcome, referred_to)"
                           " VALUES (?, 'advice', '')", (call_id,))
        connection.execute("COMMIT")

    try:
        return sorted(timed(save) for _ in range(100))[94]
    finally:
        connection.close()


def measure_history(settings: Settings) -> list[Figure]:
    store = _demo_store(settings)
    calls = Calls(store, command_line_actor(), SystemClock())
    try:
        queries = (("history: first screen", CallQuery(), "1", ()),
                   ("history: filter by topic", CallQuery(topic="education"),
                    "EXISTS (SELECT 1 FROM call_topic t WHERE t.call_id = c.id AND "
                    "(t.topic_code = 'education' OR t.topic_code LIKE 'education.%'))", ()),
                   ("history: filter by worker", CallQuery(worker_id=1), "c.worker_id = 1", ()),
                   ("history: filter by date", CallQuery(date_from=date(2026, 6, 1),
                                                         date_to=date(2026, 6, 30)),
                    "c.local_date BETWEEN ? AND ?", ("2026-06-01", "2026-06-30")))
        connection = _raw_sqlite(store)
        try:
            return [Figure(name, _best_of(3, lambda q=query: calls.list(q)),
                           HISTORY_TARGET_S,
                           _best_of(3, lambda w=where, p=params: _raw_page(connection, w, p)),
                           "sqlite3: the page of 200 calls and their topics",
                           indicative=not settings.full_size)
                    for name, query, where, params in queries]
        finally:
            connection.close()
    finally:
        store.close()


def _raw_page(connection: sqlite3.Connection, where: str, params: tuple[str, ...]) -> None:
    """The history's first page in plain SQL: 200 calls, newest first, and their topics."""
    ids = [row[0] for row in connection.execute(
        f"SELECT c.id, c.started_at, c.kind, c.duration_s, c.worker_id, c.caller_type "
        f"FROM call c WHERE {where} ORDER BY c.started_at DESC LIMIT 200", params)]
    connection.execute(f"SELECT call_id, topic_code FROM call_topic WHERE call_id IN "
                       f"({', '.join('?' * len(ids))})", ids).fetchall()


SEARCH_TARGET_S = 0.1
SEARCHES = (("a rare name", "margaret smith"), ("a common topic word", "respite"),
            ("a very common word", "the"))


def measure_search(settings: Settings) -> list[Figure]:
    """A search of the history as the screen asks it: the first page and the total."""
    store = _demo_store(settings)
    calls = Calls(store, command_line_actor(), SystemClock())
    try:
        connection = _raw_sqlite(store)
        match = "c.id IN (SELECT rowid FROM call_search WHERE call_search MATCH ?)"
        figures = []
        for what, text in SEARCHES:
            query = CallQuery(text=text)
            phrase = " ".join(f'"{word}"' for word in text.split())
            figures.append(Figure(f"search: {what} ({text!r}), page and total",
                                  _best_of(3, lambda q=query: (calls.list(q), calls.count(q))),
                                  SEARCH_TARGET_S,
                                  _best_of(3, lambda p=phrase: _raw_search(connection, match,
                                                                            p)),
                                  "sqlite3: FTS5 MATCH, the page of 200 and the count",
                                  indicative=not settings.full_size))
        connection.close()
        return figures
    finally:
        store.close()


def _raw_search(connection: sqlite3.Connection, match: str, phrase: str) -> None:
    _raw_page(connection, match, (phrase,))
    connection.execute(f"SELECT count(*) FROM call c WHERE {match}", (phrase,)).fetchone()


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
# --- import ----------------------------------------------------------------------------------

IMPORT_TARGET_S, IMPORT_WRITE_TARGET_S, IMPORT_MEMORY_TARGET = 20.0, 5.0, 2.0
IMPORT_COLUMNS = ("started_at", "duration_minutes", "caller_type", "arrangement",
                  "local_authority", "topics", "outcomes", "consent", "caller_name",
                  "caller_phone", "caller_email", "caller_postcode", "notes", "follow_up_on",
                  "safeguarding", "channel", "direction", "children_age_bands")
NOTE_WORDS = ("allowance", "school", "court", "contact", "respite", "housing", "benefit",
              "social", "worker", "letter", "meeting", "assessment", "support", "group",
              "advice", "placement")


def write_import_file(path: Path, rows: int, topics: list[str], seed: int = 0) -> None:
    """A spreadsheet of ``rows`` good calls as a line would export its log: codes and labels,
    authorities by name, personal details where the caller agreed, a sentence of notes."""
    from advice_desk.reference import lists

    h = lists.helpline()
    rng = random.Random(seed)
    authorities = [a.name for a in lists.local_authority_by_code().values()]
    caller_types = [c.code for c in h.caller_types]
    arrangements = [c.label for c in h.arrangements]
    bands = [c.code for c in h.age_bands]
    first = date(2024, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(IMPORT_COLUMNS)
        for i in range(rows):
            day = first + timedelta(days=rng.randrange(700))
            agreed = rng.random() < 0.6
            writer.writerow((
                f"{day} {rng.randrange(9, 17):02d}:{rng.randrange(60):02d}",
                rng.randint(1, 60), rng.choice(caller_types), rng.choice(arrangements),
                rng.choice(authorities), ";".join(rng.sample(topics, rng.randint(1, 3))),
                ";".join(rng.sample(["information", "advice", "signposted",
                                     "referred:virtual-school"], rng.randint(1, 2))),
                "yes" if agreed else "no", f"Person {i}" if agreed else "",
                f"07700 9{i % 100_000:05d}" if agreed else "",
                f"p{i}@example.org" if agreed else "", "LS6 2AB" if agreed else "",
                " ".join(rng.choices(NOTE_WORDS, k=rng.randint(5, 25))),
                day + timedelta(days=7) if rng.random() < 0.2 else "",
                "yes" if rng.random() < 0.05 else "no", "phone", "inbound",
                ";".join(sorted(set(rng.choices(bands, k=rng.randint(0, 2)))))))


def measure_import(settings: Settings) -> list[Figure]:
    """``advice-desk import`` of a spreadsheet of 100,000 calls into an empty store, in a child
    process: its time, the time of its write transaction (the only time it holds the write
    lock) and how far its peak memory grew above the idle process, as a multiple of the
    file's size."""
    from advice_desk.calls.topics import topics_in_order

    data_dir = settings.work_dir / "import"
    store = open_store(resolve_location(data_dir))
    topics = list(topics_in_order(store, include_retired=False))
    store.close()
    path = settings.work_dir / "import.csv"
    write_import_file(path, settings.import_rows, topics)
    figures = run_child("import", str(path), str(data_dir))
    floor = raw_insert_floor(settings.import_rows, settings.work_dir / "import-floor")
    size = path.stat().st_size
    indicative = settings.import_rows != IMPORT_ROWS
    scale = settings.import_rows / IMPORT_ROWS
    name = f"import of {settings.import_rows} rows ({size / 2**20:.0f} MiB)"
    return [Figure(name, figures["total_s"], IMPORT_TARGET_S * scale, indicative=indicative),
            Figure(f"{name}: write transaction", figures["write_s"],
                   IMPORT_WRITE_TARGET_S * scale, floor,
                   f"sqlite3.executemany of {settings.import_rows} calls + topic rows",
                   indicative=indicative),
            Figure(f"{name}: peak memory growth / file size", figures["growth"] / size,
                   IMPORT_MEMORY_TARGET, unit="x", indicative=indicative,
                   peak_rss_mb=figures["peak_rss_mb"])]


def import_child(args: list[str]) -> dict[str, float]:
    """Run in a process of its own (``run_child``), so its peak memory is the import's."""
    from advice_desk.calls.import_source import CsvSource
    from advice_desk.calls.importer import ImportWatch, import_calls

    path, data_dir = Path(args[0]), Path(args[1])

    class Watch(ImportWatch):
        write_s = 0.0

        def written(self, calls: int, seconds: float) -> None:
            self.write_s = seconds

    watch = Watch()
    store = open_store(resolve_location(data_dir))
    idle = own_memory("VmRSS")
    total = timed(lambda: import_calls(store, CsvSource.of_file(path), SystemClock(),
                                       watch=watch))
    peak = own_memory("VmHWM")
    store.close()
    return {"total_s": total, "write_s": watch.write_s, "growth": peak - idle}


# --- start-up --------------------------------------------------------------------------------

STARTUP_RUNS = 7  # of each window, after one of each to warm the caches; the best one counts
STARTUP_TARGET_RATIO = 2.0  # the app's first paint ≤ 2 × a bare PySide6 window's
# The bare window, timed by the same rule as the app's ADVICE_DESK_FIRST_PAINT hook
# (advice_desk.gui.app.FirstPaint): once its first paint is over, print when, and close.
BARE_WINDOW = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

class FirstPaint(QObject):
    painted = False

    def eventFilter(self, watched, event):
        if not self.painted and event.type() == QEvent.Type.Paint:
            self.painted = True
            QTimer.singleShot(0, report)
        return False

def report():
    print(f"first-paint {time.monotonic():.6f} {time.process_time():.6f}", flush=True)
    window.close()

app = QApplication(sys.argv[:1])
window = QWidget()
window.resize(1280, 800)
first_paint = FirstPaint()
window.installEventFilter(first_paint)
window.show()
sys.exit(app.exec())
"""


def _first_paint(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from starting ``command`` to the end of its window's first paint, and the
    processor time it had used by then (less sensitive to a busy machine)."""
    started = time.monotonic()  # one clock for the whole machine (Linux, macOS, Windows)
    result = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("first-paint ")]
    if not lines:
        raise RuntimeError(f"no first paint reported by {command[1:]}: {result.stderr[-500:]}")
    _, painted, processor = lines[0].split()
    return float(painted) - started, float(processor)


def measure_startup(settings: Settings) -> list[Figure]:
    """The main window's first paint beside a bare PySide6 window's, each timed from its
    process's start, in fresh processes run in turn. Both have compiled bytecode (as an
    installed app has; kept in the bench's folder) and the platform's display, or the
    offscreen one where there is none."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(settings.work_dir / "pycache"),
           "ADVICE_DESK_CONFIG_DIR": str(settings.work_dir / "startup-config"),
           "ADVICE_DESK_FIRST_PAINT": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env["QT_QPA_PLATFORM"] = env.get("QT_QPA_PLATFORM", "offscreen")
    bare = [sys.executable, "-c", BARE_WINDOW]
    app = advice_desk_command(settings.work_dir / "startup-store")
    bare_runs, app_runs = [], []
    for _ in range(STARTUP_RUNS + 1):  # the first of each warms the caches
        bare_runs.append(_first_paint(bare, env))
        app_runs.append(_first_paint(app, env))
    figures = []
    for what, column in (("first paint", 0), ("processor time to first paint", 1)):
        bare_best = min(run[column] for run in bare_runs[1:])
        app_best = min(run[column] for run in app_runs[1:])
        figures.append(Figure(f"start-up: main window's {what} (best of {STARTUP_RUNS})",
                              app_best, STARTUP_TARGET_RATIO * bare_best, bare_best,
                              f"a bare PySide6 QWidget shown; the target is "
                              f"{STARTUP_TARGET_RATIO:g} × its {what}"))
    return figures


# --- start-up of the frozen program ------------------------------------------------------------

FROZEN_PROGRAM = Path(__file__).resolve().parent.parent / "dist" / "advice-desk" / "advice-desk"


def _wheel_install(work_dir: Path) -> Path:
    """The wheel of this checkout built and installed into a virtual environment of its own
    (its dependencies seen through a .pth, as tests/test_wheel.py does): its ``advice-desk``."""
    out, venv = work_dir / "wheel", work_dir / "wheel-venv"
    build = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out),
             str(FROZEN_PROGRAM.parents[2])]
    if importlib.util.find_spec("hatchling") is not None:
        build.append("--no-isolation")  # otherwise build fetches hatchling for its own env
    subprocess.run(build, check=True, capture_output=True)
    (wheel,) = out.glob("advice_desk-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--no-index", "--disable-pip-version-check", "--quiet",
                    str(wheel)], check=True)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                              "get_paths()['purelib'])"], check=True, capture_output=True,
                             text=True).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "bench-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv / "bin" / "advice-desk"


def measure_frozen_startup(settings: Settings) -> list[Figure]:
    """The first paint of the program ``make package`` built (dist/advice-desk), beside the
    same code installed from its wheel, and a bare PySide6 window: fresh processes in turn,
    the best of several after one of each warms the caches. Skipped, saying so, when
    dist/advice-desk has not been built."""
    if not FROZEN_PROGRAM.is_file():
        print(f"start-up of the frozen program: skipped, {FROZEN_PROGRAM.parent} is not built "
              "(make package)")
        return []
    env = {**os.environ, "ADVICE_DESK_CONFIG_DIR": str(settings.work_dir / "frozen-config"),
           "ADVICE_DESK_FIRST_PAINT": "1"}
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env["QT_QPA_PLATFORM"] = env.get("QT_QPA_PLATFORM", "offscreen")
    store = ["--data-dir", str(settings.work_dir / "frozen-store")]
    commands = {"bare": [sys.executable, "-c", BARE_WINDOW],
                "wheel": [str(_wheel_install(settings.work_dir)), *store],
                "frozen": [str(FROZEN_PROGRAM), *store]}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(STARTUP_RUNS + 1):  # the first of each warms the caches
        for name, command in commands.items():
            runs[name].append(_first_paint(command, env))
    figures = []
    for what, column in (("first paint", 0), ("processor time to first paint", 1)):
        best = {name: min(run[column] for run in times[1:]) for name, times in runs.items()}
        target = STARTUP_TARGET_RATIO * best["bare"]
        figures += [
            Figure(f"start-up: wheel install's {what} (best of {STARTUP_RUNS})", best["wheel"],
                   target, best["bare"], f"a bare PySide6 QWidget; the target is "
                                         f"{STARTUP_TARGET_RATIO:g} × its {what}"),
            Figure(f"start-up: frozen program's {what} (best of {STARTUP_RUNS})",
                   best["frozen"], target, best["wheel"], f"the wheel install; the target "
                   f"is {STARTUP_TARGET_RATIO:g} × a bare PySide6 window's {what}")]
    return figures


# --- the funder export -------------------------------------------------------------------------

EXPORT_TARGET_S, EXPORT_MEMORY_TARGET_MB = 5.0, 300.0  # peak resident memory
SUMMARY_TARGET_S = 1.0  # the one-year funder summary, without --rows


def measure_export(settings: Settings) -> list[Figure]:
    """A one-year funder export of the demo store, with ``--rows`` and without, each in a child
    process: its time and its peak resident memory (the whole process, as a user's would be).
    The row-level extract alone (both passes and the search, no summary) is the baseline
    column of the first: what the rows add."""
    store = _demo_store(settings)
    try:
        day = _busiest_recent_day(store)
    finally:
        store.close()
    first = day - timedelta(days=364)
    figures = []
    for rows in ("rows", "summary"):
        out = settings.work_dir / f"export-{rows}"
        out.mkdir(exist_ok=True)
        figures.append(run_child("export", str(settings.work_dir / "demo"), first.isoformat(),
                                 day.isoformat(), str(out), rows))
    with_rows, summary = figures
    return [Figure(f"one-year funder export with --rows ({first} to {day})",
                   with_rows["total_s"], EXPORT_TARGET_S, with_rows["extract_s"],
                   "the row-level extract alone (its read, the search and the writing)",
                   indicative=not settings.full_size, peak_rss_mb=with_rows["peak_rss_mb"],
                   rss_target_mb=EXPORT_MEMORY_TARGET_MB),
            Figure(f"one-year funder summary ({first} to {day})", summary["total_s"],
                   SUMMARY_TARGET_S, indicative=not settings.full_size,
                   peak_rss_mb=summary["peak_rss_mb"])]


def export_child(args: list[str]) -> dict[str, float]:
    """Run in a process of its own (``run_child``), so its peak memory is the export's."""
    from advice_desk.reports.extract import write_rows
    from advice_desk.reports.funder_export import ExportChoices, FunderExport

    data_dir, first, last, out = Path(args[0]), *map(date.fromisoformat, args[1:3]), Path(args[3])
    rows = args[4] == "rows"
    store = open_store(resolve_location(data_dir))
    export = FunderExport(store, command_line_actor(), SystemClock())
    secret = b"bench" * 8
    choices = ExportChoices(rows_secret=secret if rows else None)
    total = timed(lambda: export.write(first, last, out, choices))
    extract = 0.0
    if rows:  # written nowhere: the peak memory stays the export's
        with open(os.devnull, "w", encoding="utf-8") as nowhere:
            extract = timed(lambda: write_rows(nowhere, store, first, last, secret))
    store.close()
    return {"total_s": total, "extract_s": extract}


# --- several seats on a PostgreSQL server (bench/seats.py) -----------------------------------

NOT_A_TARGET = math.nan  # a figure shown for what it is, with no target of PRODUCT.md


def measure_seats(settings: Settings) -> list[Figure]:
    """4 seats saving at once on a local server, beside one seat saving alone."""
    try:
        with seats.local_server() as server:
            together = seats.run_seats(seats.new_database(server, "seats"),
                                       settings.work_dir / "seats")
            alone = seats.run_seats(seats.new_database(server, "seat"),
                                    settings.work_dir / "seat", seats=1)
    except seats.NoServer as exc:
        print(f"several seats on PostgreSQL: skipped: {exc}", file=sys.stderr)
        return []
    name = f"{seats.SEATS} seats saving at once on PostgreSQL"
    saves = int(together["saves"])
    return [
        Figure(f"{name}: saves per second", together["saves_per_s"], NOT_A_TARGET,
               alone["saves_per_s"], "one seat saving alone", indicative=True, unit="/s"),
        Figure(f"{name}: one save (95th percentile of {saves})", together["p95_s"],
               seats.SEAT_P95_TARGET_S, alone["p95_s"], "one seat saving alone"),
        Figure(f"{name}: calls lost (counted by idempotency key)", together["lost"], 0,
               unit="calls"),
        Figure(f"{name}: calls stored twice (a tenth saved again)", together["duplicated"], 0,
               unit="calls"),
    ]


def measure_server_report(settings: Settings) -> list[Figure]:
    """The one-year report on PostgreSQL beside SQLite, both filled by ``demo --calls N``."""
    if not (settings.work_dir / "demo").exists():  # measure_demo has not filled it
        subprocess.run(advice_desk_command(settings.work_dir / "demo", "demo", "--calls",
                                           str(settings.calls)),
                       check=True, stdout=subprocess.DEVNULL)
    try:
        with seats.local_server() as server:
            url = seats.new_database(server, "report")
            data_dir = settings.work_dir / "server"
            fill = timed(lambda: subprocess.run(
                [*advice_desk_command(data_dir, "--database-url", url), "demo", "--calls",
                 str(settings.calls)], check=True, stdout=subprocess.DEVNULL))
            on_sqlite, on_server = _demo_store(settings), open_store(resolve_location(
                data_dir, url))
            try:
                day = _busiest_recent_day(on_sqlite)
                first = day - timedelta(days=364)
                timings = [_best_of(3, lambda s=store: Reports(
                    s, command_line_actor(), SystemClock()).compute(first, day))
                    for store in (on_sqlite, on_server)]
            finally:
                on_sqlite.close()
                on_server.close()
    except seats.NoServer as exc:
        print(f"the year report on PostgreSQL: skipped: {exc}", file=sys.stderr)
        return []
    return [Figure(f"demo --calls {settings.calls} on PostgreSQL", fill, NOT_A_TARGET,
                   indicative=True),
            Figure(f"one-year report on PostgreSQL ({first} to {day})", timings[1],
                   YEAR_REPORT_TARGET_S, timings[0], "the same report on SQLite",
                   indicative=not settings.full_size)]


# --- the table -------------------------------------------------------------------------------

MEASUREMENTS: list[Measurement] = [measure_startup, measure_frozen_startup, measure_demo,
                                   measure_reports, measure_saving, measure_history,
                                   measure_search, measure_backups, measure_export,
                                   measure_import, measure_seats, measure_server_report]
# Measurements that need no demo store, for ``--only`` (server-report fills its own).
ONLY: dict[str, list[Measurement]] = {"startup": [measure_startup],
                                      "frozen": [measure_frozen_startup],
                                      "import": [measure_import],
                                      "seats": [measure_seats],
                                      "server-report": [measure_server_report]}
# Work run in a child process of this script by ``run_child(name, args…)``.
CHILDREN: dict[str, ChildWork] = {"import": import_child, "export": export_child}


def _seconds(value: float | None, unit: str = "s") -> str:
    if value is None or math.isnan(value):
        return ""
    if unit == "calls":
        return f"{value:.0f}"
    if unit == "/s":
        return f"{value:.0f}/s"
    if unit == "x":
        return f"{value:.2f}×"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _megabytes(value: float | None, bound: bool = False) -> str:
    if value is None:
        return ""
    return f"{'≤ ' if bound else ''}{value:.0f} MB"


def print_table(figures: list[Figure]) -> None:
    """One line a figure: measured, target, baseline, then the peak RSS and its target where
    the figure has them, the verdict, and what the baseline is."""
    width = max(len(f.name) for f in figures)
    print(f"{'measurement':<{width}}  {'measured':>9}  {'target':>9}  {'baseline':>9}  "
          f"{'peak RSS':>8}  {'RSS target':>10}  verdict")
    for f in figures:
        print(f"{f.name:<{width}}  {_seconds(f.measured_s, f.unit):>9}  "
              f"{('≤ ' + _seconds(f.target_s, f.unit)).removesuffix('≤ '):>9}  "
              f"{_seconds(f.baseline_s, f.unit):>9}  {_megabytes(f.peak_rss_mb):>8}  "
              f"{_megabytes(f.rss_target_mb, bound=True):>10}  {f.verdict}"
              + (f"  (baseline: {f.baseline})" if f.baseline else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=FULL_SIZE, metavar="N",
                        help=f"size of the store to measure with (default: {FULL_SIZE})")
    parser.add_argument("--import-rows", type=int, default=IMPORT_ROWS, metavar="N",
                        help=f"rows of the file the import reads (default: {IMPORT_ROWS})")
    parser.add_argument("--only", choices=sorted(ONLY),
                        help="measure only this (these need no demo store)")
    parser.add_argument("--child", nargs=argparse.REMAINDER,
                        help=argparse.SUPPRESS)  # NAME ARGS…: the work run_child runs
    args = parser.parse_args(argv)
    if args.child and args.child[0] == "seat":  # prints each save's seconds itself
        seats.seat_child(args.child[1:])
        return 0
    if args.child:
        figures = CHILDREN[args.child[0]](args.child[1:])
        print(json.dumps({**figures, "peak_rss_mb": own_memory("VmHWM") / 2**20}))
        return 0
    measurements = ONLY[args.only] if args.only else MEASUREMENTS
    with tempfile.TemporaryDirectory(prefix="advice-desk-bench-") as work_dir:
        settings = Settings(args.calls, Path(work_dir), args.import_rows)
        figures = [figure for measure in measurements for figure in measure(settings)]
    if figures:
        print_table(figures)
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
