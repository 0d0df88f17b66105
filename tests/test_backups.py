"""Backups (PRODUCT.md §9): copies made with the online backup API, verified, kept in tiers,
pruned only after the newest copy passed its check; restore refusing what it must; the
``backup`` and ``restore`` commands; the pg_dump / pg_restore wrapper of a server store."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from advice_desk.backups.copies import (
    BackupError,
    auto_backup,
    list_copies,
    make_copy,
    prune,
    verify,
)
from advice_desk.backups.restore import restore_file
from advice_desk.backups.tiers import Tiers, copies_to_keep
from advice_desk.calls.service import Calls
from advice_desk.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from advice_desk.cli.main import main
from advice_desk.clock import UK, FixedClock
from advice_desk.paths import Location, resolve_location
from advice_desk.people.audit import AuditQuery, AuditTrail, describe
from advice_desk.people.permissions import command_line_actor
from advice_desk.settings import Settings
from advice_desk.store.engine import Store
from advice_desk.store.schema import schema_head
from tests.factories import a_call, first_supervisor, opened_store, store_options, uk
from tests.support import SUPERVISOR

DAY = timedelta(days=1)


def _log(store: Store, clock: FixedClock, actor, count: int = 1) -> None:
    calls = Calls(store, actor, clock)
    for _ in range(count):
        calls.log(a_call(clock))


def _count(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        (count,) = db.execute('SELECT count(*) FROM "call"').fetchone()
    db.close()
    return int(count)


def _calls_in(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.exec_driver_sql('SELECT count(*) FROM "call"').scalar_one())


def _damage(path: Path) -> None:
    """Overwrite the pages of the calls table with noise, as a failing disk would."""
    with sqlite3.connect(path) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'call'").fetchone()[0]
    db.close()
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xa5" * page_size)


def _kept_days(location: Location) -> list[date]:
    return sorted(c.made_at.astimezone(UK).date() for c in list_copies(location.backup_dir)
                  if c.kind == "backup")


# --- the tiers --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.sqlite_only("the automatic copies of the SQLite file; "
                         "a server store makes none (pg_dump backs it up)")
def test_400_days_of_daily_backups_keep_exactly_the_tiers(store, clock, sam, location):
    """One automatic backup a day, at 10:00 UK time, with a change each day (a call), for 400
    days from Tuesday 28 October 2025: the last 14 days, the Sundays of the 8 weeks before
    them, and the last Sunday of each month before those back to the first month that still
    has a copy (the 400 days hold 10 of the 12 monthly ones)."""
    start = uk(2025, 10, 28, 10, 0)
    made = 0
    for day in range(400):
        clock.set(start + day * DAY)
        _log(store, clock, sam)
        outcome = auto_backup(store, clock)
        made += outcome.made is not None
    assert made == 400
    daily = [date(2026, 11, 18) + n * DAY for n in range(14)]
    weekly = [date(2026, 9, 27) + n * timedelta(weeks=1) for n in range(8)]
    monthly = [date(2025, 11, 30), date(2025, 12, 28), date(2026, 1, 25), date(2026, 2, 22),
               date(2026, 3, 29), date(2026, 4, 26), date(2026, 5, 31), date(2026, 6, 28),
               date(2026, 7, 26), date(2026, 8, 30)]
    assert _kept_days(location) == monthly + weekly + daily
    assert all(d.weekday() == 6 for d in monthly + weekly)  # Sundays


def test_the_tiers_keep_12_monthly_copies_given_the_history():
    start = datetime(2024, 1, 1, 9, tzinfo=UTC)
    kept: set[datetime] = set()
    for day in range(800):
        kept = copies_to_keep(kept | {start + day * DAY}, Tiers())
    assert len(kept) == 14 + 8 + 12
    assert copies_to_keep(kept, Tiers()) == kept  # a second pruning removes nothing more
    assert copies_to_keep(kept, Tiers(1, 0, 0)) == {max(kept)}


def test_no_copy_is_made_while_the_store_is_unchanged(store, clock, sam, location):
    if location.sqlite_file is None:
        assert auto_backup(store, clock).made is None
        assert not location.backup_dir.exists() or not list(location.backup_dir.iterdir())
        return
    first = auto_backup(store, clock)
    assert first.made is not None
    clock.advance(timedelta(hours=4))
    again = auto_backup(store, clock)
    assert again.made is None and "not changed" in again.reason
    _log(store, clock, sam)
    clock.advance(timedelta(hours=4))
    assert auto_backup(store, clock).made is not None
    # The daily tier keeps one copy a day: the newer copy of the day replaced the older.
    (kept,) = list_copies(location.backup_dir)
    assert kept.made_at == clock.now() and kept.calls == 1


@pytest.mark.sqlite_only("copies of the SQLite file, damaged on disk")
def test_a_damaged_newest_copy_stops_pruning(store, clock, sam, location):
    Settings(store, sam, clock).save({"backup_daily_copies": 2, "backup_weekly_copies": 0,
                                      "backup_monthly_copies": 0})
    for _ in range(3):
        _log(store, clock, sam)
        auto_backup(store, clock)
        clock.advance(DAY)
    copies = list_copies(location.backup_dir)
    assert len(copies) == 2
    _damage(copies[0].path)
    with pytest.raises(BackupError, match="damaged"):
        verify(copies[0].path)
    older = make_copy(location.sqlite_file, location.backup_dir, "backup",
                      FixedClock(clock.now() - 30 * DAY))
    pruned, reason = prune(location.backup_dir, Tiers(2, 0, 0), clock)
    assert pruned == [] and "failed its check" in reason
    assert older.path.exists()
    # A store too damaged to copy: the new copy fails its check, and nothing is pruned.
    store.purge_erased()
    store.close()
    _damage(location.sqlite_file)
    with pytest.raises(BackupError):
        auto_backup(store, clock)
    assert {c.path for c in list_copies(location.backup_dir)} == {c.path for c in copies} | {
        older.path}


@pytest.mark.sqlite_only("the modes of the SQLite file's copies")
def test_copies_are_private_files_in_a_private_folder(store, clock, location):
    made = auto_backup(store, clock).made
    assert made is not None
    assert stat.S_IMODE(location.backup_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600
    assert not list(location.backup_dir.glob("*.part"))
    assert not Path(f"{made.path}-wal").exists()  # one file: no log beside it


@pytest.mark.sqlite_only("the before-restore copies of the SQLite file")
def test_old_safety_copies_go_but_the_newest_of_each_kind_stays(store, clock, sam, location):
    folder = location.backup_dir
    first = make_copy(location.sqlite_file, folder, "before-restore", clock)
    clock.advance(100 * DAY)
    second = make_copy(location.sqlite_file, folder, "before-restore", clock)
    _log(store, clock, sam)
    auto_backup(store, clock)
    assert not first.path.exists() and second.path.exists()


@pytest.mark.sqlite_only("the SQLite copies in the backups folder and their old anchor files")
def test_old_anchor_files_go_once_their_copy_is_gone_or_carries_its_anchor(store, clock, sam,
                                                                           location):
    """Earlier builds kept a copy's audit anchor beside it (``COPY.anchor``); it is now sealed
    inside the copy (table backup_anchor). Pruning removes such a file when its copy is gone or
    carries its anchor inside; beside a copy without one it stays, and other files stay."""
    folder = location.backup_dir
    _log(store, clock, sam)
    unsealed = make_copy(location.sqlite_file, folder, "backup", clock)
    with sqlite3.connect(unsealed.path) as db:
        db.execute("DROP TABLE backup_anchor")  # as an earlier build's copy was
    db.close()
    clock.advance(DAY)
    _log(store, clock, sam)
    sealed = make_copy(location.sqlite_file, folder, "backup", clock)
    old = {name: folder / f"{name}.anchor" for name in (
        unsealed.path.name, sealed.path.name, "backup-20250101T101500Z.sqlite3",
        "before-migration-0005-20250101-101500.sqlite3")}
    foreign = folder / "notes.anchor"
    for path in (*old.values(), foreign):
        path.write_text('{"store": "s", "count": 1, "event": 1, "link": "x"}')
    clock.advance(DAY)
    _log(store, clock, sam)
    outcome = auto_backup(store, clock)
    assert outcome.made is not None and outcome.pruned == []
    assert sorted(path.name for path in folder.glob("*.anchor")) == sorted(
        [f"{unsealed.path.name}.anchor", "notes.anchor"])
    # Once its copy is pruned, the last one goes too.
    pruned, _ = prune(folder, Tiers(2, 0, 0), clock)
    assert pruned == [unsealed.path]
    assert [path.name for path in folder.glob("*.anchor")] == ["notes.anchor"]


# --- restoring ----------------------------------------------------------------------------


@pytest.fixture
def sqlite_location(tmp_path: Path) -> Location:
    return resolve_location(tmp_path / "data")


@pytest.mark.sqlite_only("a copy of the SQLite file put back in its place; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_a_restore_puts_the_copy_back_and_keeps_the_store_as_it_was(sqlite_location, clock,
                                                                       tmp_path):
    from tests.factories import first_supervisor

    with opened_store(sqlite_location, clock) as store:
        sam = first_supervisor(store, clock)
        _log(store, clock, sam, 3)
        made = make_copy(sqlite_location.sqlite_file, tmp_path, "backup", clock)
        _log(store, clock, sam, 2)
    clock.advance(timedelta(minutes=5))
    restored = restore_file(sqlite_location, made.path, clock)
    assert restored.calls == 3
    assert not Path(f"{sqlite_location.sqlite_file}-wal").exists()
    assert stat.S_IMODE(sqlite_location.sqlite_file.stat().st_mode) == 0o600
    with opened_store(sqlite_location, clock) as store:
        assert _calls_in(store) == 3
    assert restored.previous is not None
    assert _count(restored.previous.path) == 5
    assert restored.previous.path.name.startswith("before-restore-")


def _newer(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    db.close()


def _not_a_store(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    db.close()


def _text_file(path: Path) -> None:
    path.write_text("started_at,duration_minutes\n")


@pytest.mark.parametrize(("spoil", "reason"), [
    (_damage, "is damaged"),
    (_not_a_store, "is not an Advice Desk store"),
    (_text_file, r"is not an Advice Desk store \(not a SQLite database\)"),
    (_newer, "was written by a newer version of Advice Desk"),
])
@pytest.mark.sqlite_only("SQLite copies of a newer schema, of another program, or text; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_restore_refuses_a_copy_it_cannot_trust(sqlite_location, clock, tmp_path, spoil,
                                                reason):
    from tests.factories import first_supervisor

    with opened_store(sqlite_location, clock) as store:
        _log(store, clock, first_supervisor(store, clock), 3)
    copy = tmp_path / "copy.sqlite3"
    make_copy(sqlite_location.sqlite_file, tmp_path, "backup", clock).path.rename(copy)
    spoil(copy)
    before = sqlite_location.sqlite_file.read_bytes()
    with pytest.raises(BackupError, match=reason) as refused:
        restore_file(sqlite_location, copy, clock)
    assert "\n" not in str(refused.value)
    assert sqlite_location.sqlite_file.read_bytes() == before
    assert not list(sqlite_location.data_dir.glob(".*.part"))


HOLDER = ("import sys\nfrom advice_desk.paths import resolve_location\n"
          "from advice_desk.store.engine import open_store\n"
          "store = open_store(resolve_location(sys.argv[1]))\n"
          "print('open', flush=True); sys.stdin.readline(); store.close()")


@pytest.mark.sqlite_only("the SQLite file held open by another process; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_restore_refuses_while_another_process_has_the_store_open(sqlite_location, clock,
                                                                   tmp_path):
    """Any process that has the store open (here a plain script; the app's window, an import,
    a demo alike) holds its claim: the restore refuses, saying which process, and changes
    nothing; once the process has gone (even killed), the restore goes ahead."""
    with opened_store(sqlite_location, clock) as store:
        make_copy(sqlite_location.sqlite_file, tmp_path, "backup", clock)
        _log(store, clock, first_supervisor(store, clock), 2)
    del store
    (copy,) = tmp_path.glob("backup-*.sqlite3")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(sqlite_location.data_dir)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "ADVICE_DESK_DATA_DIR": ""})
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        before = sqlite_location.sqlite_file.read_bytes()
        with pytest.raises(BackupError) as refused:
            restore_file(sqlite_location, copy, clock)
        assert str(refused.value) == (
            f"not restored: the store is open in another program (process {holder.pid}): "
            "close it, or wait for it to end, then restore again")
        assert sqlite_location.sqlite_file.read_bytes() == before
        assert not list(sqlite_location.backup_dir.glob("before-restore-*"))
    finally:
        holder.kill()  # a crash: its claim goes with it
        holder.communicate(timeout=30)
    assert restore_file(sqlite_location, copy, clock).calls == 0
    with opened_store(sqlite_location, clock) as store:
        assert _calls_in(store) == 0


@pytest.mark.sqlite_only("the SQLite file held open in this process; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_an_open_store_in_this_process_also_holds_it(sqlite_location, clock, tmp_path):
    with opened_store(sqlite_location, clock):
        copy = make_copy(sqlite_location.sqlite_file, tmp_path, "backup", clock).path
        with pytest.raises(BackupError, match="the store is open in this process"):
            restore_file(sqlite_location, copy, clock)
    assert restore_file(sqlite_location, copy, clock).calls == 0


def _has_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has the file ``path`` open (Linux's /proc)."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if Path(os.readlink(fd)) == path:
                return True
        except OSError:
            continue
    return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="Linux's /proc")
@pytest.mark.sqlite_only("the SQLite file held open by an import; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_a_restore_refuses_while_an_import_runs_and_the_import_keeps_its_calls(
        sqlite_location, clock, tmp_path):
    """The reviewer's case: ``restore`` during a long ``import`` went ahead and the imported
    calls went to the replaced file. Now the restore is refused, naming the import, and every
    call the import said it imported is in the store."""
    with opened_store(sqlite_location, clock) as store:
        _log(store, clock, first_supervisor(store, clock), 3)
    del store
    copy = tmp_path / "b2.sqlite3"
    assert main(["backup", "--out", str(copy), *store_options(sqlite_location)]) == EXIT_OK
    rows = 60_000
    csv = tmp_path / "calls.csv"
    csv.write_text("started_at,duration_minutes,caller_type,arrangement,topics,outcomes,consent\n"
                   + "".join(f"2026-{1 + i % 10:02d}-{1 + i % 28:02d} 10:{i % 60:02d},9,parent,"
                             "informal,legal,advice,no\n" for i in range(rows)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVICE_DESK_")}
    env["ADVICE_DESK_CONFIG_DIR"] = os.environ["ADVICE_DESK_CONFIG_DIR"]
    importing = subprocess.Popen(
        [sys.executable, "-m", "advice_desk", "--data-dir", str(sqlite_location.data_dir),
         "import", str(csv)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # The import has the store open once the store's file is among its open files.
        deadline = datetime.now() + timedelta(seconds=60)
        while not _has_open(importing.pid, sqlite_location.sqlite_file):
            assert importing.poll() is None and datetime.now() < deadline
        restore = subprocess.run(
            [sys.executable, "-m", "advice_desk", "--data-dir", str(sqlite_location.data_dir),
             "restore", str(copy)], capture_output=True, text=True, env=env, timeout=120)
        out, err = importing.communicate(timeout=300)
    finally:
        importing.kill()
    assert restore.returncode == EXIT_FAILED, restore.stderr
    assert restore.stderr == (f"advice-desk: error: not restored: the store is open in "
                              f"advice-desk import (process {importing.pid}): close it, or "
                              "wait for it to end, then restore again\n")
    assert importing.returncode == 0, err
    assert out.startswith(f"Imported {rows} calls")
    assert _count(sqlite_location.sqlite_file) == rows + 3


@pytest.mark.sqlite_only("the modes of a SQLite file restored into a new folder; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_a_restore_into_a_new_folder_makes_it_private_and_says_nothing_of_modes(
        sqlite_location, clock, tmp_path, capsys):
    with opened_store(sqlite_location, clock) as store:
        _log(store, clock, first_supervisor(store, clock), 2)
    del store
    copy = tmp_path / "copy.sqlite3"
    assert main(["backup", "--out", str(copy), *store_options(sqlite_location)]) == EXIT_OK
    capsys.readouterr()
    fresh = tmp_path / "new" / "desk"
    assert main(["restore", str(copy), "--data-dir", str(fresh)]) == EXIT_OK
    said = capsys.readouterr()
    assert said.err == ""
    assert said.out.startswith(f"restored 2 calls from {copy} (")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700


# --- the command line ---------------------------------------------------------------------


@pytest.mark.sqlite_only("backup and restore of the SQLite file; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_backup_and_restore_on_the_command_line(sqlite_location, clock, tmp_path, capsys):
    from tests.factories import first_supervisor

    with opened_store(sqlite_location, clock) as store:
        _log(store, clock, first_supervisor(store, clock), 4)
    out = tmp_path / "monday.sqlite3"
    options = store_options(sqlite_location)
    assert main(["backup", "--out", str(out), *options]) == EXIT_OK
    said = capsys.readouterr().out
    assert said.startswith(f"backed up 4 calls to {out} (") and "KB)" in said
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert main(["restore", str(out), *options]) == EXIT_OK
    said = capsys.readouterr().out
    assert said.startswith(f"restored 4 calls from {out} (")
    assert "the store as it was is in " in said
    with opened_store(sqlite_location, clock) as store:
        restores = AuditTrail(store, SUPERVISOR, clock).events(AuditQuery(
            action="store-restored"))
    assert [(event.actor, describe(event)) for event in restores] == [
        (command_line_actor().name, "4 calls in the copy restored")]


@pytest.mark.sqlite_only("no SQLite file to copy, or a copy that is not one; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_the_commands_fail_in_one_line(sqlite_location, clock, tmp_path, capsys):
    options = store_options(sqlite_location)
    assert main(["backup", "--out", str(tmp_path / "x.sqlite3"), *options]) == EXIT_FAILED
    assert capsys.readouterr().err == (
        f"advice-desk: error: there is no store at {sqlite_location.sqlite_file}\n")
    with opened_store(sqlite_location, clock):
        pass
    assert main(["backup", "--out", str(tmp_path / "no" / "x.sqlite3"), *options]) == EXIT_FAILED
    assert "does not exist" in capsys.readouterr().err
    assert main(["backup", "--out", str(tmp_path), *options]) == EXIT_BAD_INPUT
    assert "is a folder" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "missing.sqlite3"), *options]) == EXIT_FAILED
    assert capsys.readouterr().err == (f"advice-desk: error: not restored: "
                                       f"{tmp_path / 'missing.sqlite3'} does not exist; name a "
                                       "backup file\n")
    text = tmp_path / "calls.csv"
    text.write_text("a,b\n")
    assert main(["restore", str(text), *options]) == EXIT_FAILED
    assert capsys.readouterr().err == ("advice-desk: error: not restored: calls.csv is not an "
                                       "Advice Desk store (not a SQLite database)\n")
    with pytest.raises(SystemExit) as bad:
        main(["backup", *options])
    assert bad.value.code == EXIT_BAD_INPUT


def _revision_before_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from advice_desk.store.schema import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    down = ScriptDirectory.from_config(config).get_revision(schema_head()).down_revision
    assert isinstance(down, str)
    return down


# --- a server store -----------------------------------------------------------------------


@pytest.mark.postgres
def test_pg_dump_and_pg_restore_round_trip_and_refuse_another_schema(postgres_url, tmp_path,
                                                                      clock, capsys):
    from tests.factories import first_supervisor

    location = resolve_location(tmp_path / "data", postgres_url)
    options = store_options(location)
    with opened_store(location, clock) as store:
        sam = first_supervisor(store, clock)
        _log(store, clock, sam, 3)
    dump = tmp_path / "server.dump"
    assert main(["backup", "--out", str(dump), *options]) == EXIT_OK
    assert capsys.readouterr().out.startswith(f"backed up 3 calls to {dump} (")
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    assert not location.backup_dir.exists()  # nothing spread over this PC
    with opened_store(location, clock) as store:
        _log(store, clock, sam, 2)
    assert main(["restore", str(dump), *options]) == EXIT_OK
    said = capsys.readouterr().out
    assert said.startswith(f"restored 3 calls from {dump} (")
    with opened_store(location, clock) as store:
        assert _calls_in(store) == 3
    (previous,) = tmp_path.glob("before-restore-*.dump")
    # A dump of another schema version (the one before this app's) is refused.
    import sqlalchemy as sa

    from advice_desk.backups.server import tool
    from advice_desk.store.schema import current_revision
    older = _revision_before_head()
    server = sa.create_engine(postgres_url)
    with server.begin() as connection:
        connection.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{older}'")
    old = tmp_path / "old.dump"
    subprocess.run([tool("pg_dump"), "--format=custom", f"--file={old}",
                    f"--dbname={postgres_url.replace('+psycopg', '')}"], check=True)
    with server.begin() as connection:
        connection.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{schema_head()}'")
    server.dispose()
    assert main(["restore", str(old), *options]) == EXIT_FAILED
    with opened_store(location, clock) as store, store.engine.connect() as connection:
        assert current_revision(connection) == schema_head()
        assert _calls_in(store) == 3
    assert f"holds schema {older} but this version of Advice Desk uses {schema_head()}" in (
        capsys.readouterr().err)
    assert main(["restore", str(previous.with_suffix(".txt")), *options]) == EXIT_FAILED
    capsys.readouterr()
    not_a_dump = tmp_path / "x.dump"
    not_a_dump.write_bytes(os.urandom(64))
    assert main(["restore", str(not_a_dump), *options]) == EXIT_FAILED
    assert "is not a PostgreSQL dump of an Advice Desk store" in capsys.readouterr().err


@pytest.mark.sqlite_only("the automatic copy of the SQLite file, locked by another process")
def test_two_copies_of_the_app_never_back_up_at_once(store, clock, sam, location):
    """While another process holds the backup folder's lock, the automatic backup makes no
    copy and says why; once it is released, the copy is made."""
    folder = location.backup_dir
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom pathlib import Path\n"
         "from advice_desk.backups.locks import backup_lock\n"
         "with backup_lock(Path(sys.argv[1])):\n"
         "    print('held', flush=True); sys.stdin.readline()", str(folder)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        busy = auto_backup(store, clock)
        assert busy.made is None and "another copy of Advice Desk" in busy.reason
    finally:
        holder.communicate("\n", timeout=30)
    assert auto_backup(store, clock).made is not None


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        found = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    return found


@pytest.mark.sqlite_only("the anchor table inside a copy of the SQLite file; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_a_copy_carries_its_audit_anchor_inside_so_a_restore_verifies(sqlite_location, clock,
                                                                      tmp_path, capsys):
    """Without the copy's anchor, the PC's anchor (5 events) would call the restored trail
    (3 events) cut short. The anchor is inside the copy (no file beside it to lose), and is
    taken out of the restored store (its schema is exactly the migrations')."""
    from tests.test_audit_chain import add_events, verified

    with opened_store(sqlite_location, clock) as store:
        add_events(store, clock, 3)
        made = make_copy(sqlite_location.sqlite_file, tmp_path, "backup", clock)
        add_events(store, clock, 2)
        assert verified(store).count == 5
    assert [path.name for path in tmp_path.iterdir() if path.is_file()] == [made.path.name]
    assert "backup_anchor" in _tables(made.path)
    out = tmp_path / "out" / "by-hand.sqlite3"
    out.parent.mkdir()
    assert main(["backup", "--out", str(out), *store_options(sqlite_location)]) == EXIT_OK
    assert list(out.parent.iterdir()) == [out]  # no FILE.anchor beside it
    restored = restore_file(sqlite_location, made.path, clock)
    assert restored.tail == ""
    assert "backup_anchor" not in _tables(sqlite_location.sqlite_file)
    with opened_store(sqlite_location, clock) as store:
        verdict = verified(store)
    assert (verdict.ok, verdict.count, verdict.anchored) == (True, 3, 3)


def _cut_tail(copy_file: Path, *, forge_anchor: bool = False) -> None:
    """What the owner of a copy can do without the audit key: drop a guard, delete the
    newest event, and make the anchor in the copy agree."""
    copy = sqlite3.connect(copy_file)
    with copy:
        copy.execute("DROP TRIGGER audit_event_no_delete")
        copy.execute("DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)")
        if forge_anchor:
            copy.execute("UPDATE backup_anchor SET count = count - 1, event = event - 1, "
                         "link = (SELECT link FROM audit_event ORDER BY id DESC LIMIT 1)")
    copy.close()


def _new_pc(tmp_path: Path, config_folder: Path, monkeypatch) -> None:
    """A PC with the audit key (kept safe with the backups) but no anchor of its own."""
    from advice_desk.paths import CONFIG_DIR_ENV
    from advice_desk.store.audit_key import KEY_FILE

    new_pc = tmp_path / "new-pc-config"
    new_pc.mkdir(mode=0o700)
    (new_pc / KEY_FILE).write_bytes((config_folder / KEY_FILE).read_bytes())
    (new_pc / KEY_FILE).chmod(0o600)
    monkeypatch.setenv(CONFIG_DIR_ENV, str(new_pc))


@pytest.mark.sqlite_only("a copy of the SQLite file with its audit tail cut; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_a_copy_whose_audit_tail_was_cut_is_found_when_restored_on_another_pc(
        sqlite_location, clock, tmp_path, config_folder, monkeypatch):
    from tests.test_audit_chain import add_events, verified

    with opened_store(sqlite_location, clock) as store:
        add_events(store, clock, 3)
        made = make_copy(sqlite_location.sqlite_file, tmp_path, "backup", clock)
    _new_pc(tmp_path, config_folder, monkeypatch)
    _cut_tail(made.path)
    restore_file(sqlite_location, made.path, clock)
    with opened_store(sqlite_location, clock) as store:
        verdict = verified(store)
    assert (verdict.ok, verdict.problem, verdict.count) == (False, "truncated", 2)


@pytest.mark.sqlite_only("copies of the SQLite file without their anchor or with a forged one; "
                         "a server store is copied by pg_dump, restored by pg_restore")
def test_a_copy_without_its_anchor_or_with_a_forged_one_is_restored_saying_so(
        sqlite_location, clock, tmp_path, config_folder, monkeypatch, capsys):
    """A copy of an older version (no anchor inside), or one whose anchor was rewritten to
    match a cut tail (its seal no longer matches): the restore says the tail cannot be
    checked; the guard dropped to cut it is found by ``audit verify``."""
    from advice_desk.backups.anchors import UNCHECKED, UNSEALED
    from tests.test_audit_chain import add_events

    with opened_store(sqlite_location, clock) as store:
        add_events(store, clock, 3)
        older = make_copy(sqlite_location.sqlite_file, tmp_path, "backup", clock)
        clock.advance(timedelta(minutes=1))
        forged = make_copy(sqlite_location.sqlite_file, tmp_path, "backup", clock)
    with sqlite3.connect(older.path) as copy:
        copy.execute("DROP TABLE backup_anchor")
    copy.close()
    _cut_tail(forged.path, forge_anchor=True)
    _new_pc(tmp_path, config_folder, monkeypatch)
    options = store_options(sqlite_location)
    assert main(["restore", str(older.path), *options]) == EXIT_OK
    assert capsys.readouterr().err == f"advice-desk: {UNCHECKED}\n"
    assert main(["restore", str(forged.path), *options]) == EXIT_OK
    assert capsys.readouterr().err == f"advice-desk: {UNSEALED}\n"
    assert main(["audit", "verify", *options]) == EXIT_FAILED  # the guard it dropped is seen
    assert "guards audit_event_no_delete are missing" in capsys.readouterr().err


@pytest.mark.postgres
def test_a_server_restore_is_audited_and_every_seats_anchor_follows_it(
        postgres_url, tmp_path, clock, config_folder, monkeypatch, capsys):
    """This seat's anchor is reset to the restored trail and a store-restored event written;
    another seat (same key, its own anchor, ahead of the restored trail) accepts the restore;
    a tail cut after the restore is still found, on both seats."""
    from advice_desk.paths import CONFIG_DIR_ENV
    from advice_desk.store.audit_anchor import ANCHORS_DIR
    from advice_desk.store.audit_key import KEY_FILE
    from tests.factories import first_supervisor
    from tests.test_audit_chain import add_events, drop_guards, owner_runs, verified

    location = resolve_location(tmp_path / "data", postgres_url)
    options = store_options(location)
    other_seat = tmp_path / "other-seat-config"
    other_seat.mkdir(mode=0o700)
    with opened_store(location, clock) as store:
        first_supervisor(store, clock)
        add_events(store, clock, 2)
        dump = tmp_path / "server.dump"
        assert main(["backup", "--out", str(dump), *options]) == EXIT_OK
        add_events(store, clock, 3)  # 6 events, seen by both seats
    (other_seat / KEY_FILE).write_bytes((config_folder / KEY_FILE).read_bytes())
    (other_seat / KEY_FILE).chmod(0o600)
    (other_seat / ANCHORS_DIR).mkdir(mode=0o700)
    for anchor in (config_folder / ANCHORS_DIR).iterdir():
        (other_seat / ANCHORS_DIR / anchor.name).write_bytes(anchor.read_bytes())
        (other_seat / ANCHORS_DIR / anchor.name).chmod(0o600)
    capsys.readouterr()
    assert main(["restore", str(dump), *options]) == EXIT_OK
    assert "the tail of the restored audit trail cannot be checked" in capsys.readouterr().err
    assert main(["audit", "verify", *options]) == EXIT_OK
    assert capsys.readouterr().out.startswith("audit trail ok: 4 events")  # 3 + store-restored
    with opened_store(location, clock) as store:
        (event,) = AuditTrail(store, command_line_actor(), clock).events(
            AuditQuery(action="store-restored"))
        assert describe(event) == "0 calls in the copy restored; replacing a trail of 6 events"
        monkeypatch.setenv(CONFIG_DIR_ENV, str(other_seat))
        verdict = verified(store)  # its anchor (6 events of the trail replaced) accepts it
        assert (verdict.ok, verdict.count, verdict.restored_at is not None) == (True, 4, True)
        add_events(store, clock, 1)  # the other seat writes after the restore: 5 events
        monkeypatch.setenv(CONFIG_DIR_ENV, str(config_folder))
        add_events(store, clock, 1)  # and this one: 6 events
        drop_guards(store)
        owner_runs(store, "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)")
        verdict = verified(store)
        assert (verdict.ok, verdict.problem, verdict.count) == (False, "truncated", 5)
        owner_runs(store, "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)")
        monkeypatch.setenv(CONFIG_DIR_ENV, str(other_seat))
        verdict = verified(store)
        assert (verdict.ok, verdict.problem, verdict.count) == (False, "truncated", 4)


def test_a_failed_postgresql_tool_never_shows_its_error_output():
    """pg_restore quotes the row of a failed COPY, personal values and all."""
    from advice_desk.backups.server import _run

    with pytest.raises(BackupError) as raised:
        _run([sys.executable, "-c", "import sys; sys.stderr.write('ERROR: invalid input: "
              "Ada Lovelace 07700 900123\\n'); sys.exit(1)"], "pg_restore")
    assert str(raised.value) == (
        "pg_restore failed (exit 1): check that the server is running and that this PC may "
        "connect to it (its .pgpass); to see why, run pg_restore by hand")
