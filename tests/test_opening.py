"""What opening a store checks: SQLite's quick check, files that are not stores, a read-only
store, network drives, private file modes, the daily full check and ``advice-desk check``.

Damaged stores are real files with pages overwritten by garbage (several seeds) or cut short.
The read-only cases run their command as ``nobody`` when the tests run as root (root ignores
file modes), in a folder of their own that nobody may enter.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from advice_desk.cli.main import main
from advice_desk.clock import FixedClock
from advice_desk.demo.synthetic import add_demo_calls
from advice_desk.paths import Location, resolve_location
from advice_desk.store import integrity, mounts
from advice_desk.store.engine import (
    NetworkDrive,
    Notice,
    StoreDamaged,
    StoreError,
    StoreReadOnly,
    open_store,
)
from advice_desk.store.schema import backup_before_migration
from tests.factories import store_options

CALLS = 300
PAGE = 4096


def fill(location: Location, clock: FixedClock, calls: int = CALLS) -> None:
    store = open_store(location, clock)
    try:
        add_demo_calls(store, calls, clock, days=30, parallel=False)
    finally:
        store.close()  # the last connection checkpoints the WAL into the file


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def damage(path: Path, seed: int, pages: int = 3) -> None:
    """Overwrite ``pages`` whole pages in the middle half of the file with random bytes."""
    rng = random.Random(seed)
    data = bytearray(path.read_bytes())
    count = len(data) // PAGE
    for page in rng.sample(range(count // 4, 3 * count // 4), pages):
        data[page * PAGE:(page + 1) * PAGE] = rng.randbytes(PAGE)
    path.write_bytes(bytes(data))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def store_file(location: Location) -> Path:
    assert location.sqlite_file is not None
    return location.sqlite_file


def backups(location: Location, store: Path, damaged_newest: bool) -> tuple[Path, Path]:
    """Two copies of the store in backups/: an older whole one and a newer, maybe damaged."""
    location.backup_dir.mkdir()
    older = location.backup_dir / "backup-20261122T101500Z.sqlite3"
    newer = location.backup_dir / "backup-20261123T101500Z.sqlite3"
    shutil.copyfile(store, older)
    shutil.copyfile(store, newer)
    if damaged_newest:
        damage(newer, seed=99)
    return older, newer


# --- damaged stores ------------------------------------------------------------------------

@pytest.mark.sqlite_only("pages of the SQLite file overwritten")
@pytest.mark.parametrize("seed", range(6))
def test_a_store_with_damaged_pages_is_refused_naming_the_newest_good_backup(
        location: Location, clock: FixedClock, seed: int,
        capsys: pytest.CaptureFixture[str]) -> None:
    fill(location, clock)
    path = store_file(location)
    good, bad = backups(location, path, damaged_newest=True)
    damage(path, seed)
    before = digest(path)

    with pytest.raises(StoreDamaged) as caught:
        open_store(location, clock)
    message = str(caught.value)
    assert f"the store {path} is damaged" in message
    assert f"advice-desk restore {good}" in message  # the newest backup that is whole
    assert str(bad) not in message
    assert digest(path) == before  # not a byte written to it

    # The report cannot give wrong figures: it stops with the same one line.
    assert main([*store_options(location), "report", "--date", "2026-11-20"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"advice-desk: error: the store {path} is damaged")
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.sqlite_only("a SQLite file cut short")
def test_a_truncated_store_is_refused(location: Location, clock: FixedClock) -> None:
    fill(location, clock)
    path = store_file(location)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(StoreDamaged, match=r"is damaged .*there is no good backup in"):
        open_store(location, clock)


@pytest.mark.sqlite_only("an empty file in place of the SQLite store")
def test_an_empty_store_file_is_refused_never_replaced(
        location: Location, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> None:
    fill(location, clock, calls=5)
    path = store_file(location)
    good, _ = backups(location, path, damaged_newest=False)
    path.write_bytes(b"")  # e.g. a sync tool or a full disk left it empty

    with pytest.raises(StoreError) as caught:
        open_store(location, clock)
    assert "is empty (0 bytes)" in str(caught.value)
    assert path.stat().st_size == 0
    assert main([*store_options(location), "demo", "--calls", "3"]) == 1
    err = capsys.readouterr().err
    assert "is empty (0 bytes)" in err and "advice-desk restore" in err
    assert path.stat().st_size == 0  # never turned into a new empty store
    assert good.is_file()


@pytest.mark.sqlite_only("another program's SQLite file in place of the store")
def test_an_sqlite_file_of_another_program_is_refused(location: Location,
                                                      clock: FixedClock) -> None:
    path = store_file(location)
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        other.execute("INSERT INTO contacts VALUES ('Jo', '07700 900123')")
    other.close()
    before = digest(path)
    with pytest.raises(StoreError, match="not an Advice Desk store: it holds another "
                                         r"program's tables \(contacts\)"):
        open_store(location, clock)
    assert digest(path) == before
    assert not location.backup_dir.exists()


# --- the full check and `advice-desk check` ------------------------------------------------

def break_an_index(path: Path) -> None:
    """Damage that only the full check sees: an index that no longer matches its table."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_schema SET sql = replace(sql, '(follow_up_on)', "
                   "'(local_date)') WHERE name = 'ix_call_follow_up_on'")
    db.close()


@pytest.mark.sqlite_only("SQLite's integrity_check on the file")
def test_the_full_check_is_due_daily_and_finds_what_the_quick_check_misses(
        location: Location, clock: FixedClock) -> None:
    fill(location, clock, calls=50)
    assert integrity.full_check_due(location, clock)
    assert integrity.full_check(location, clock).ok
    assert not integrity.full_check_due(location, clock)
    clock.advance(timedelta(hours=23))
    assert not integrity.full_check_due(location, clock)
    clock.advance(timedelta(hours=1))
    assert integrity.full_check_due(location, clock)
    assert mode(location.data_dir / integrity.LAST_FULL_CHECK) == 0o600

    break_an_index(store_file(location))
    open_store(location, clock).close()  # the quick check does not see it
    result = integrity.FullCheck(location, clock).run_if_due()
    assert result is not None and not result.ok
    assert any("ix_call_follow_up_on" in problem for problem in result.problems)
    assert integrity.full_check_due(location, clock)  # a failed check is not remembered


@pytest.mark.sqlite_only("the full check of the file")
def test_a_cancelled_full_check_reports_nothing(location: Location, clock: FixedClock) -> None:
    fill(location, clock, calls=5)
    check = integrity.FullCheck(location, clock)
    check.cancel()
    assert check.run_if_due() is None
    assert integrity.last_full_check(location) is None


def test_check_says_ok_for_a_whole_store(location: Location, clock: FixedClock,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    fill(location, clock, calls=20)
    assert main([*store_options(location), "check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: the ")
    assert location.shown in out


@pytest.mark.sqlite_only("a damaged SQLite file")
def test_check_says_what_is_wrong_with_exit_1(location: Location, clock: FixedClock,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    fill(location, clock, calls=50)
    _, newest = backups(location, store_file(location), damaged_newest=False)
    break_an_index(store_file(location))
    assert main([*store_options(location), "check"]) == 1
    err = capsys.readouterr().err
    first, *details = err.splitlines()
    assert first.startswith(f"advice-desk: error: the store {store_file(location)} is damaged")
    assert f"advice-desk restore {newest}" in first
    assert details and all("ix_call_follow_up_on" in line or "row" in line for line in details)
    assert integrity.last_full_check(location) is None


@pytest.mark.sqlite_only("no SQLite file")
def test_check_of_a_missing_store_fails_without_making_one(
        location: Location, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*store_options(location), "check"]) == 1
    assert "there is no store at" in capsys.readouterr().err
    assert not store_file(location).exists()


def test_the_check_command_is_listed_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "check" in capsys.readouterr().out


# --- file modes ----------------------------------------------------------------------------

@pytest.mark.sqlite_only("the modes of the SQLite file and its -wal and -shm")
def test_a_new_store_is_readable_by_its_owner_alone(location: Location,
                                                    clock: FixedClock) -> None:
    store = open_store(location, clock)
    try:
        add_demo_calls(store, 5, clock, days=5, parallel=False)
        path = store_file(location)
        wal, shm = (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))
        assert wal.exists() and shm.exists()
        assert (mode(location.data_dir), mode(path), mode(wal), mode(shm)) == (
            0o700, 0o600, 0o600, 0o600)
        assert store.notices == []
    finally:
        store.close()


@pytest.mark.sqlite_only("how the SQLite file of a new store is made")
def test_a_new_store_file_appears_whole_and_leaves_nothing_beside_it(
        location: Location, clock: FixedClock) -> None:
    path = store_file(location)
    path.parent.mkdir(parents=True)
    killed = path.with_name(f"{path.name}.new-{os.getpid()}")  # left by a killed opening
    killed.write_bytes(b"")
    open_store(location, clock).close()
    assert path.read_bytes()[:16] == integrity.SQLITE_HEADER
    claim = path.with_name(f"{path.name}.claim")  # its openings' claim (store/claim.py)
    assert sorted(p.name for p in location.data_dir.iterdir()) == [path.name, claim.name]
    assert mode(path) == 0o600 and mode(claim) == 0o600


@pytest.mark.sqlite_only("the before-migration copy of the SQLite file")
def test_the_copy_before_a_migration_is_private(location: Location, clock: FixedClock) -> None:
    store = open_store(location, clock)
    try:
        copy = backup_before_migration(store, "0001", clock)
    finally:
        store.close()
    assert copy is not None
    assert (mode(location.backup_dir), mode(copy)) == (0o700, 0o600)


@pytest.mark.sqlite_only("modes of the first wave's SQLite files")
def test_a_store_with_loose_modes_is_tightened_and_says_so_once(
        location: Location, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> None:
    fill(location, clock, calls=5)
    path = store_file(location)
    location.backup_dir.mkdir()
    old_copy = location.backup_dir / "before-migration-0004-20260101-120000.sqlite3"
    shutil.copyfile(path, old_copy)
    for loose, bits in ((location.data_dir, 0o755), (path, 0o644),
                        (location.backup_dir, 0o755), (old_copy, 0o644)):
        loose.chmod(bits)

    assert main([*store_options(location), "hours"]) == 0
    assert capsys.readouterr().err == f"advice-desk: {Notice.MODES_TIGHTENED.value}\n"
    assert [mode(p) for p in (location.data_dir, path, location.backup_dir, old_copy)] == [
        0o700, 0o600, 0o700, 0o600]
    assert main([*store_options(location), "hours"]) == 0
    assert capsys.readouterr().err == ""  # said once
    store = open_store(location, clock)
    assert store.notices == []
    store.close()


def test_a_server_store_makes_no_notice(store) -> None:  # type: ignore[no-untyped-def]
    assert store.notices == []


# --- read-only stores ----------------------------------------------------------------------

AS_NOBODY = (["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
             if os.geteuid() == 0 else [])


@pytest.fixture
def nobody_folder() -> Iterator[Path]:
    """A folder of its own that ``nobody`` owns (tmp_path is not readable by nobody)."""
    if AS_NOBODY and shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to drop root's privileges")
    folder = Path(tempfile.mkdtemp(prefix="advice-desk-ro-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def chown_nobody(path: Path) -> None:
    if AS_NOBODY:
        for item in [path, *path.rglob("*")]:
            os.chown(item, 65534, 65534)


def as_nobody(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ADVICE_DESK_CONFIG_DIR": str(folder / "config"), "HOME": str(folder)}
    return subprocess.run([*AS_NOBODY, sys.executable, "-m", "advice_desk", *args],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.sqlite_only("file modes of the SQLite file, as another account")
def test_a_read_only_store_is_said_so_at_open(nobody_folder: Path, clock: FixedClock) -> None:
    location = resolve_location(nobody_folder / "data")
    fill(location, clock, calls=10)
    path = store_file(location)
    chown_nobody(nobody_folder)
    path.chmod(0o400)
    before = digest(path)
    data = ["--data-dir", str(location.data_dir)]

    done = as_nobody(nobody_folder, "demo", "--calls", "3", *data)  # a writing command
    assert done.returncode == 1, done.stderr
    assert done.stderr == (f"advice-desk: error: the store {path} is read-only for this "
                           "account (the file may not be written), so no call could be "
                           f"saved; ask whoever looks after this PC to give this account "
                           f"write access to {path}\n")
    report = as_nobody(nobody_folder, "report", "--date", "2026-11-20", *data)  # reading
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("Kinship advice line: report for")
    checked = as_nobody(nobody_folder, "check", *data)
    assert checked.returncode == 0, checked.stderr  # a read-only store can still be checked
    assert checked.stdout.startswith("ok: ")
    assert digest(path) == before

    path.chmod(0o600)
    location.data_dir.chmod(0o500)  # the file may be written, its folder may not
    done = as_nobody(nobody_folder, "demo", "--calls", "3", *data)
    assert done.returncode == 1
    assert "is read-only for this account (its folder may not be written)" in done.stderr
    location.data_dir.chmod(0o700)


@pytest.mark.postgres
def test_a_read_only_server_is_said_so_at_open(postgres_url: str, tmp_path: Path,
                                               clock: FixedClock) -> None:
    url = f"{postgres_url}&options=-c%20default_transaction_read_only%3Don"
    location = resolve_location(tmp_path / "data", url)
    with pytest.raises(StoreReadOnly, match="is read-only for this account"):
        open_store(location, clock)


# --- network drives ------------------------------------------------------------------------

def test_a_store_on_a_network_drive_is_refused(tmp_path: Path, clock: FixedClock,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal itself, with the mount table of a PC whose data folder is an NFS share."""
    real = mounts.MOUNTINFO.read_text() if mounts.MOUNTINFO.exists() else ""
    share = tmp_path / "share"
    share.mkdir()
    table = tmp_path / "mountinfo"
    table.write_text(real + f"412 25 0:61 / {share.resolve()} rw,relatime shared:210 - nfs4 "
                     "files:/export/desk rw,vers=4.2,rsize=1048576,wsize=1048576,hard,"
                     "proto=tcp,timeo=600,retrans=2,sec=sys,local_lock=none\n")
    monkeypatch.setattr(mounts, "MOUNTINFO", table)
    location = resolve_location(share / "advice-desk")
    with pytest.raises(NetworkDrive) as caught:
        open_store(location, clock)
    message = str(caught.value)
    assert "is on a network drive (nfs4)" in message
    assert "use a database server (PostgreSQL) with --database-url" in message
    assert not location.data_dir.exists()  # nothing made there


@pytest.mark.sqlite_only("the backups of a SQLite store")
def test_the_newest_good_backup_is_the_listed_copy_dated_by_its_name_with_the_store_options(
        location: Location, clock: FixedClock) -> None:
    """The reviewer's case: the newest files by modification time were an ``.anchor`` sidecar
    and a ``-damaged`` before-restore file, so no good backup was found; the date was the
    file's time; the command, typed as given, restored into the default store."""
    fill(location, clock, calls=50)
    path = store_file(location)
    location.backup_dir.mkdir()
    good = location.backup_dir / "backup-20260715T091500Z.sqlite3"  # 10:15 in London (BST)
    shutil.copyfile(path, good)
    os.utime(good, (1_600_000_000, 1_600_000_000))  # its file time says 2020
    newer = [location.backup_dir / name for name in (
        "backup-20260715T091500Z.sqlite3.anchor", "before-restore-20260716T080000Z-damaged.sqlite3",
        "before-restore-20260716T080000Z-damaged.sqlite3-wal", "notes.sqlite3", "x.anchor")]
    for junk in newer:
        junk.write_bytes(b"not a store")
    damage(path, seed=3)

    with pytest.raises(StoreDamaged) as caught:
        open_store(location, clock)
    message = str(caught.value)
    assert message.endswith(
        f"restore the newest good backup (made Wed 15 Jul 2026 10:15) with: advice-desk "
        f"restore {good} --data-dir {location.data_dir}"), message


def test_restore_commands_name_the_store_unless_it_is_the_default(tmp_path: Path) -> None:
    from advice_desk.paths import default_data_dir, restore_command

    assert restore_command(resolve_location(default_data_dir()), "b.sqlite3") == (
        "advice-desk restore b.sqlite3")
    other = resolve_location(tmp_path / "my data")
    assert restore_command(other, "b.sqlite3") == (
        f"advice-desk restore b.sqlite3 --data-dir '{tmp_path / 'my data'}'")
    url = resolve_location(tmp_path, f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")
    assert restore_command(url, "b.sqlite3") == (
        f"advice-desk restore b.sqlite3 --data-dir {tmp_path} --database-url "
        f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")


def test_a_damaged_page_found_after_opening_names_the_data_folder_in_the_restore_advice(
        tmp_path: Path) -> None:
    import argparse

    from advice_desk.cli.common import failure_message

    corrupt = sqlite3.DatabaseError("database disk image is malformed")
    corrupt.sqlite_errorcode = 11  # SQLITE_CORRUPT, as SQLite raises it
    corrupt.sqlite_errorname = "SQLITE_CORRUPT"
    args = argparse.Namespace(data_dir=str(tmp_path / "g"), database_url=None)
    line = failure_message(corrupt, args)
    assert f"(advice-desk restore FILE --data-dir {tmp_path / 'g'})" in line, line
