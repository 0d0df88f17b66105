"""Faults, really caused: a writer killed with SIGKILL at random moments, writers beside an
import, a full disk (a child with ``RLIMIT_FSIZE`` and SIGXFSZ ignored: the write fails with
EFBIG, as a full disk fails it, without root), a read-only store (the child runs as ``nobody``,
since root ignores file modes) and damaged pages.

Whatever happens, the person sees one line, ``advice-desk: error: ...``, exit code 1, never a
traceback nor a stored personal value; the store stays whole with every call it acknowledged;
no ``.part`` file is left behind.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path

import pytest

from advice_desk.store.audit_key import KEY_FILE, key_path

ROOT = Path(__file__).resolve().parent.parent
STORE_FILE = "advice-desk.sqlite3"

# A person whose details are seeded in the store; none of it may ever reach an output.
NAME, PHONE, EMAIL, POSTCODE = ("Philippa Quorndon", "07700 900461", "pq.xanthe@example.org",
                                "ZE2 9XQ")
NOTE_WORD = "marmalade-quokka"
PERSONAL = ("Quorndon", "900461", "pq.xanthe", "ZE2 9XQ", "ZE29XQ", NOTE_WORD)
PERSON_CALLS = 60
FULL_DISK = 48 * 1024
NOBODY = 65534  # no file of the child may grow past this (RLIMIT_FSIZE)

HEADER = ("started_at,duration_minutes,caller_type,arrangement,topics,outcomes,consent,"
          "caller_name,caller_phone,caller_email,caller_postcode,notes")


def person_csv(rows: int, first_day: int = 0) -> str:
    """``rows`` calls of the seeded person, spread over 2025 (older than the retention period),
    each with long notes holding the distinctive word."""
    notes = f"{NOTE_WORD} " + "said the allowance stopped after the review; " * 25
    lines = [HEADER]
    for i in range(rows):
        day = (first_day + i) % 300
        lines.append(f"2025-{1 + day // 28:02d}-{1 + day % 28:02d} {10 + i % 4}:{i % 60:02d},"
                     f"12,grandparent,sgo,financial.allowances,advice,yes,{NAME},{PHONE},"
                     f"{EMAIL},{POSTCODE},\"{notes}\"")
    return "\n".join(lines) + "\n"


def cli_env(config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVICE_DESK_")}
    env["ADVICE_DESK_CONFIG_DIR"] = str(config)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def cli(data: Path, *args: str, file_limit: int | None = None, as_nobody: bool = False,
        config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``advice-desk --data-dir DATA ARGS`` in a child process; with ``file_limit`` no file
    it writes may grow past that many bytes (SIGXFSZ ignored, so a write fails with EFBIG)."""
    command = [sys.executable, "-m", "advice_desk", "--data-dir", str(data), *args]
    if as_nobody:
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]

    def limited() -> None:
        if file_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env=cli_env(config or data / "config"), preexec_fn=limited)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 1 and one line on stderr, ``advice-desk: error: ...`` with ``words`` in it; no
    traceback, no personal value on stdout or stderr. Returns the line."""
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith("advice-desk: error: "), lines[0]
    assert result.returncode == 1, (result.returncode, lines[0])
    for word in words:
        assert word in lines[0], lines[0]
    assert_no_personal_values(result.stdout, result.stderr)
    return lines[0]


def assert_no_personal_values(*texts: str) -> None:
    for text in texts:
        for value in PERSONAL:
            assert value.lower() not in text.lower(), f"{value!r} leaked"


def integrity(store_file: Path) -> str:
    with closing(sqlite3.connect(store_file)) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def counts(store_file: Path) -> tuple[int, int]:
    """The calls, and those with the seeded person's name still stored."""
    with closing(sqlite3.connect(store_file)) as connection:
        calls = connection.execute('SELECT count(*) FROM "call"').fetchone()[0]
        named = connection.execute('SELECT count(*) FROM "call" WHERE caller_name = ?',
                                   (NAME,)).fetchone()[0]
        return int(calls), int(named)


def part_files(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.name.endswith(".part")]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store folder with 1,500 demo calls over two years and the seeded person's calls."""
    data = tmp_path_factory.mktemp("seeded")
    assert cli(data, "demo", "--calls", "1500", "--days", "700").returncode == 0
    (data / "person.csv").write_text(person_csv(PERSON_CALLS), encoding="utf-8")
    imported = cli(data, "import", str(data / "person.csv"))
    assert imported.returncode == 0, imported.stderr
    (data / "person.csv").unlink()
    return data


@pytest.fixture
def data(seeded: Path, tmp_path: Path) -> Path:
    """A copy of the seeded store folder, this test's own."""
    copy = tmp_path / "data"
    shutil.copytree(seeded, copy)
    return copy


def person_file(folder: Path, rows: int) -> Path:
    """A CSV of the seeded person's calls: a failing import holds their details in hand."""
    path = folder / "person.csv"
    path.write_text(person_csv(rows, first_day=100), encoding="utf-8")
    path.chmod(0o644)
    return path


def big_csv(folder: Path, rows: int) -> Path:
    path = folder / "calls.csv"
    lines = [HEADER] + [f"2026-{1 + i % 10:02d}-{1 + i % 28:02d} {10 + i % 4}:{i % 60:02d},9,"
                        f"parent,informal,legal,advice,no,,,,,Import row {i}"
                        for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- a full disk ------------------------------------------------------------------------------

FULL_DISK_COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "demo": lambda _: ["demo", "--calls", "3000"],
    "import": lambda folder: ["import", str(person_file(folder, 200))],
    "retention": lambda _: ["retention"],
    "subject-access": lambda folder: ["subject-access", "--name", NAME.lower(),
                                      "--out", str(folder / "out" / "answer.md")],
    "export": lambda folder: ["export", "--from", "2024-01-01", "--to", "2026-11-30",
                              "--rows", "--out", str(folder / "out")],
}


@pytest.mark.sqlite_only("a full disk under the SQLite file; a server's disk is its own")
@pytest.mark.parametrize("command", FULL_DISK_COMMANDS)
def test_a_full_disk_is_one_line_and_leaves_the_store_whole_and_no_part_file(
        command: str, data: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    store_file = data / STORE_FILE
    before = counts(store_file)
    result = cli(data, *FULL_DISK_COMMANDS[command](tmp_path), file_limit=FULL_DISK)
    line = assert_one_line_error(result, "full")
    assert "try again" in line
    assert integrity(store_file) == "ok"
    assert counts(store_file) == before
    assert part_files(data, tmp_path / "out") == []
    assert not (tmp_path / "out" / "answer.md").exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []


def test_a_file_that_fills_the_disk_on_its_last_flush_leaves_no_part_file(tmp_path: Path
                                                                          ) -> None:
    """atomic_files itself, in a child whose files may not pass 10 kB: a write that fits in
    the buffer, so the disk fills only when the file is flushed."""
    code = ("import sys; from pathlib import Path; from advice_desk.files import atomic_files\n"
            "try:\n"
            "    with atomic_files(Path(sys.argv[1]), Path(sys.argv[2])) as (a, b):\n"
            "        a.write('x' * 4000); b.write('y' * 6000)\n"
            "except OSError as e: print(e.errno)\n")

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (5000, 5000))

    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a.txt"),
                             str(tmp_path / "b.txt")], capture_output=True, text=True,
                            cwd=ROOT, preexec_fn=limited, timeout=60)
    assert result.stdout.strip() == "27", result.stderr  # EFBIG, the file too large
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --- a read-only store ------------------------------------------------------------------------

@pytest.fixture
def outer() -> Iterator[Path]:
    """A folder of its own that ``nobody`` may enter (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="advice-desk-ro-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def read_only_copy(outer: Path, seeded: Path, how: str) -> Path:
    """A copy of the seeded store that ``nobody`` may read but not write: the file is root's
    and read-only in a folder of nobody's, or nobody's in a folder of root's (where no -wal
    or -shm file can be made beside it)."""
    data = outer / "data"
    data.mkdir()
    shutil.copy(seeded / STORE_FILE, data / STORE_FILE)
    config = outer / "config"
    config.mkdir()
    shutil.copy2(seeded / "config" / KEY_FILE, config / KEY_FILE)  # the store's audit key
    for path in (config, config / KEY_FILE):
        os.chown(path, NOBODY, NOBODY)
    if how == "file":
        os.chown(data, NOBODY, NOBODY)
        (data / STORE_FILE).chmod(0o444)
    else:
        os.chown(data / STORE_FILE, NOBODY, NOBODY)
        data.chmod(0o755)
    return data


@pytest.mark.sqlite_only("the SQLite file or its folder read-only")
@pytest.mark.parametrize("how", ["file", "folder"])
@pytest.mark.parametrize("command", ["demo", "import"])
def test_a_read_only_store_is_one_line_and_unchanged(command: str, how: str, seeded: Path,
                                                     outer: Path) -> None:
    data = read_only_copy(outer, seeded, how)
    before = counts(data / STORE_FILE)
    args = (["demo", "--calls", "50"] if command == "demo"
            else ["import", str(person_file(outer, 50))])
    result = cli(data, *args, as_nobody=True, config=outer / "config")
    line = assert_one_line_error(result)
    assert "read-only" in line or "cannot open" in line, line
    assert integrity(data / STORE_FILE) == "ok"
    assert counts(data / STORE_FILE) == before


# --- damaged pages ----------------------------------------------------------------------------

def damage(store_file: Path, seed: int) -> None:
    """Overwrite one to three pages in the middle of the file with random bytes."""
    chance = random.Random(seed)
    size = store_file.stat().st_size
    page = 4096
    pages = size // page
    with store_file.open("r+b") as f:
        for _ in range(chance.randint(1, 3)):
            f.seek(page * chance.randint(pages // 4, 3 * pages // 4))
            f.write(chance.randbytes(page))


DAMAGE_SEEDS = range(12)


@pytest.fixture(scope="module")
def damaged_reports(tmp_path_factory: pytest.TempPathFactory
                    ) -> dict[int, subprocess.CompletedProcess[str]]:
    """``report`` run on a 300-call store with damaged pages, for each seed."""
    store = tmp_path_factory.mktemp("report")
    assert cli(store, "demo", "--calls", "300", "--days", "30").returncode == 0
    results = {}
    for seed in DAMAGE_SEEDS:
        data = tmp_path_factory.mktemp(f"damaged-{seed}")
        shutil.copy(store / STORE_FILE, data / STORE_FILE)
        damage(data / STORE_FILE, seed)
        results[seed] = cli(data, "report", "--from", "2020-01-01", "--to", "2026-12-31",
                            "--format", "json")
    return results


@pytest.mark.sqlite_only("damaged pages of the SQLite file")
@pytest.mark.slow
def test_a_report_from_damaged_pages_is_never_a_traceback(
        damaged_reports: dict[int, subprocess.CompletedProcess[str]]) -> None:
    """Damage the report reads is one line; damage it does not read goes unseen here (the
    check at open is for that: the next test)."""
    for result in damaged_reports.values():
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        if result.returncode != 0:
            assert_one_line_error(result, "damaged")
    assert any(result.returncode == 1 for result in damaged_reports.values())


@pytest.mark.sqlite_only("damaged pages of the SQLite file")
@pytest.mark.slow
def test_a_report_from_damaged_pages_is_one_line_never_figures(
        damaged_reports: dict[int, subprocess.CompletedProcess[str]]) -> None:
    for result in damaged_reports.values():
        assert_one_line_error(result, "damaged")
        assert result.stdout == ""


# --- kill -9 of a writer ----------------------------------------------------------------------

WRITER = """
import sys, time
from advice_desk.calls.record import CALL_KEY
from advice_desk.clock import SystemClock
from advice_desk.desk import Desk
from advice_desk.paths import resolve_location
from advice_desk.people.accounts import sign_in
from advice_desk.store.engine import open_store
from tests.factories import a_call
from tests.support import PASSWORD

run, user, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
clock = SystemClock()
store = open_store(resolve_location(sys.argv[1]), clock)
desk = Desk(store, clock, sign_in(store, user, PASSWORD, clock))
i = 0
while count < 0 or i < count:
    key = f"{run}-{i}"
    desk.drafts.save({CALL_KEY: key, "notes": "typing"})
    began = time.monotonic()
    call_id = desk.log_call(a_call(clock, notes=f"call {key}"), key=key)
    print(key, call_id, round(time.monotonic() - began, 3), flush=True)
    i += 1
store.close()
"""


def start_writer(data: Path, run: str, user: str, count: int = -1) -> subprocess.Popen[str]:
    """A child that logs calls in a loop (``count`` of them, or until stopped) and prints
    ``KEY ID SECONDS`` for each one saved (how long the save took)."""
    return subprocess.Popen([sys.executable, "-c", WRITER, str(data), run, user, str(count)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=cli_env(data / "config"))


def writers_store(folder: Path, users: Sequence[str]) -> Path:
    from advice_desk.clock import SystemClock
    from tests.factories import add_account, first_supervisor, opened_store

    with opened_store(folder, SystemClock()) as store:
        sam = first_supervisor(store, SystemClock())
        for user in users:
            add_account(store, SystemClock(), sam, user)
    # The children use the folder's own config folder: the store's audit key goes with it.
    (folder / "config").mkdir(mode=0o700)
    shutil.copy2(key_path(), folder / "config" / KEY_FILE)
    return folder


# A fork server for the killed writers: the modules are imported and amy signed in once, and
# each writer is a fork that opens the store itself, so a kill costs milliseconds, not the
# second a new interpreter takes. A line "FIFO RUN" on stdin starts a writer that prints its
# acknowledgements into the named pipe FIFO; the server answers with the writer's pid.
FORK_SERVER = """
import os, signal, sys
from advice_desk.calls.record import CALL_KEY
from advice_desk.clock import SystemClock
from advice_desk.desk import Desk
from advice_desk.paths import resolve_location
from advice_desk.people.accounts import sign_in
from advice_desk.store.engine import open_store
from tests.factories import a_call
from tests.support import PASSWORD

clock, location = SystemClock(), resolve_location(sys.argv[1])
store = open_store(location, clock)
actor = sign_in(store, "amy", PASSWORD, clock)
store.close()
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed writers are reaped by the system
for line in sys.stdin:
    fifo, run = line.split()
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        continue
    out = open(fifo, "w")
    store = open_store(location, clock)
    desk = Desk(store, clock, actor)
    i = 0
    while True:
        key = f"{run}-{i}"
        desk.drafts.save({CALL_KEY: key, "notes": "typing"})
        call_id = desk.log_call(a_call(clock, notes=f"call {key}"), key=key)
        out.write(f"{key} {call_id}\\n")
        out.flush()
        i += 1
"""


def kills() -> int:
    """30 in the suite; ``make soak`` sets more."""
    return int(os.environ.get("ADVICE_DESK_SOAK_KILLS", "30"))


@pytest.mark.sqlite_only("kill -9 of a writer and the SQLite WAL it leaves behind")
@pytest.mark.slow
def test_a_writer_killed_at_random_moments_loses_no_acknowledged_call(tmp_path: Path) -> None:
    """Kill -9 a writer after a random number of acknowledged calls (so mid-transaction, mid-
    draft or mid-commit), again and again: every call it acknowledged is stored with the id it
    said, the store is whole after each kill, and no saved call comes back as a draft."""
    data = writers_store(tmp_path / "data", ["amy"])
    server = subprocess.Popen([sys.executable, "-c", FORK_SERVER, str(data)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env=cli_env(data / "config"))
    assert server.stdin is not None and server.stdout is not None
    chance = random.Random(11)
    acknowledged: dict[str, int] = {}
    try:
        for run in range(kills()):
            fifo = tmp_path / f"run{run}"
            os.mkfifo(fifo)
            server.stdin.write(f"{fifo} r{run}\n")
            server.stdin.flush()
            pid = int(server.stdout.readline())
            with fifo.open() as acks:
                for _ in range(chance.randint(0, 12)):
                    key, call_id = acks.readline().split()
                    acknowledged[key] = int(call_id)
                os.kill(pid, signal.SIGKILL)
                for line in acks:  # what it acknowledged before it died
                    key, call_id = line.split()
                    acknowledged[key] = int(call_id)
            assert integrity(data / STORE_FILE) == "ok"
    finally:
        server.kill()
        server.communicate()
    with closing(sqlite3.connect(data / STORE_FILE)) as connection:
        stored = dict(connection.execute('SELECT idempotency_key, id FROM "call"').fetchall())
        drafts = [row[0] for row in connection.execute("SELECT payload FROM draft")]
    lost = {key for key, call_id in acknowledged.items() if stored.get(key) != call_id}
    back_as_drafts = [d for d in drafts if any(f'"{key}"' in d for key in stored)]
    print(f"\nkills {kills()}, acknowledged {len(acknowledged)}, lost {len(lost)}")
    assert lost == set()
    assert back_as_drafts == []
    assert len(acknowledged) > kills()  # the writer got far enough, often enough


# --- two writers and an import ----------------------------------------------------------------

# The import's write transaction is to last 5 s at most for 100,000 rows (about 1 s for these
# 20,000); today it holds the lock for its whole run, 10 to 30 s here.
MAX_SAVE_WAIT_S = 5


@pytest.mark.sqlite_only("three processes on SQLite's one write lock; two imports at once "
                         "on a server are in test_server_cli")
@pytest.mark.slow
def test_two_writers_and_an_import_at_once_never_meet_locked(tmp_path: Path) -> None:
    """Two workers save calls while 20,000 rows are imported: no save fails with "locked",
    and none waits long for the write lock."""
    data = writers_store(tmp_path / "data", ["amy", "bob"])
    csv_file = big_csv(tmp_path, 20_000)
    writers = [start_writer(data, user, user) for user in ("amy", "bob")]
    acknowledged: list[list[str]] = [[], []]
    for writer, lines in zip(writers, acknowledged, strict=True):
        assert writer.stdout is not None
        lines.append(writer.stdout.readline())  # both are writing before the import starts
        threading.Thread(target=lines.extend, args=(writer.stdout,), daemon=True).start()
    imported = cli(data, "import", str(csv_file))
    for writer in writers:
        writer.send_signal(signal.SIGTERM)
    outputs = [writer.communicate()[1] for writer in writers]
    assert imported.returncode == 0, imported.stderr
    for errors, writer in zip(outputs, writers, strict=True):
        assert "locked" not in errors, errors[-2000:]
        assert writer.returncode == -signal.SIGTERM, errors[-2000:]
    for lines in acknowledged:
        waits = [float(line.split()[2]) for line in lines if line.strip()]
        assert len(waits) > 2  # each writer saved calls while the import ran
        assert max(waits) < MAX_SAVE_WAIT_S  # the import held the write lock only briefly
    assert counts(data / STORE_FILE)[0] >= 20_000


# --- reading a read-only store; a full disk before SQLite's shared-memory file exists --------

@pytest.mark.parametrize("how", ["file", "folder"])
def test_a_read_only_store_can_still_be_read_checked_and_reported(how: str, seeded: Path,
                                                                  outer: Path) -> None:
    """Reading commands work on a store this account may not write (the reviewer's ``check``
    said "damaged (attempt to write a readonly database)", ``report`` and ``hours`` were
    refused); writing ones are still refused up front; nothing is written."""
    data = read_only_copy(outer, seeded, how)
    before = (data / STORE_FILE).read_bytes()
    config = outer / "config"
    check = cli(data, "check", as_nobody=True, config=config)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith(f"ok: the store {data / STORE_FILE} is whole")
    period = ["report", "--from", "2024-01-01", "--to", "2026-11-30"]
    report = cli(data, *period, as_nobody=True, config=config)
    assert report.returncode == 0, report.stderr
    assert "Total calls" in report.stdout
    assert report.stdout == cli(seeded, *period).stdout  # the same figures as its owner sees
    hours = cli(data, "hours", "--at", "2026-11-24 10:00", as_nobody=True, config=config)
    assert hours.returncode == 0, hours.stderr
    assert hours.stdout.startswith("Line open · closes 14:00"), hours.stdout
    verify = cli(data, "audit", "verify", as_nobody=True, config=config)
    assert "read-only" not in verify.stderr, verify.stderr
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("audit trail ok"), verify.stdout
    recompute = cli(data, "hours", "--recompute", as_nobody=True, config=config)
    assert "read-only" in assert_one_line_error(recompute)
    for result in (check, report, hours, verify):
        assert_no_personal_values(result.stdout, result.stderr)
    assert (data / STORE_FILE).read_bytes() == before


def test_a_copy_of_a_store_in_a_read_only_folder_is_not_called_damaged(seeded: Path,
                                                                      outer: Path) -> None:
    data = read_only_copy(outer, seeded, "folder")
    out = outer / "out"
    out.mkdir()
    os.chown(out, NOBODY, NOBODY)
    result = cli(data, "backup", "--out", str(out / "copy.sqlite3"), as_nobody=True,
                 config=outer / "config")
    if result.returncode != 0:
        line = assert_one_line_error(result)
        assert "damaged" not in line, line
    else:
        assert result.stdout.startswith("backed up 1560 calls")


@pytest.mark.parametrize("command", [["check"], ["hours"], ["demo", "--calls", "10"],
                                     ["erase", "--name", NAME.lower()]])
def test_a_full_disk_before_the_shared_memory_file_is_said_full_not_damaged(
        command: list[str], data: Path) -> None:
    """The store's -wal and -shm files are gone (as after the last copy closed it); SQLite
    must write its -shm file even to read the store, and the disk has no room for it."""
    for suffix in ("-wal", "-shm"):
        (data / f"{STORE_FILE}{suffix}").unlink(missing_ok=True)
    before = (data / STORE_FILE).read_bytes()
    result = cli(data, *command, file_limit=16 * 1024)
    line = assert_one_line_error(result, "full")
    assert "damaged" not in line, line
    assert (data / STORE_FILE).read_bytes() == before
    assert part_files(data) == []
