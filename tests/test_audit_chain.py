"""The audit trail is append-only against REPLACE and tamper-evident: what the database cannot
stop its owner doing (dropping a trigger, then deleting or changing events) ``audit verify``
finds, naming the first broken link. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from advice_desk.cli.main import main
from advice_desk.clock import FixedClock
from advice_desk.paths import Location
from advice_desk.people import audit
from advice_desk.people.audit import AuditTrail
from advice_desk.people.permissions import Actor, PermissionDenied
from advice_desk.store import audit_anchor, audit_chain, audit_key
from advice_desk.store.audit_anchor import Anchor
from advice_desk.store.audit_key import AuditKeyError
from advice_desk.store.engine import Store
from tests.support import ANY_TIME, SUPERVISOR


def add_events(store: Store, clock: FixedClock, count: int) -> list[int]:
    """``count`` events, one transaction each; their ids."""
    ids = []
    for n in range(count):
        clock.advance(timedelta(minutes=1))
        with store.write() as session:
            audit.record(session, clock, SUPERVISOR, "settings-changed", "settings",
                         {"changed": [f"setting_{n}"]})
        with store.read() as session:
            ids.append(int(session.connection().execute(sa.text(
                "SELECT max(id) FROM audit_event")).scalar_one()))
    return ids


def owner_runs(store: Store, *statements: str) -> None:
    """What the database's owner can always do: SQL straight at the store."""
    with store.engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def drop_guards(store: Store) -> None:
    if store.is_sqlite:
        owner_runs(store, "DROP TRIGGER audit_event_no_update",
                   "DROP TRIGGER audit_event_no_delete")
    else:
        owner_runs(store, "DROP TRIGGER audit_event_no_change ON audit_event")


def verified(store: Store) -> audit_chain.Verdict:
    return AuditTrail(store, SUPERVISOR, ANY_TIME).verify()


@pytest.fixture
def trail(store: Store, clock: FixedClock) -> list[int]:
    return add_events(store, clock, 5)


def test_an_untouched_trail_verifies_with_its_count(store, clock, sam: Actor) -> None:
    add_events(store, clock, 5)  # after sam's first start, an event too
    verdict = AuditTrail(store, sam, clock).verify()
    assert (verdict.ok, verdict.count, verdict.anchored) == (True, 6, 6)


def test_only_supervisors_verify(store, amy: Actor, clock) -> None:
    with pytest.raises(PermissionDenied):
        AuditTrail(store, amy, clock).verify()


def test_replacing_an_event_is_refused(store, trail, clock) -> None:
    """SQLite's REPLACE deletes the old row without firing the DELETE trigger: the BEFORE
    INSERT guard refuses it; PostgreSQL's upsert is refused by the UPDATE trigger, TRUNCATE by
    its own."""
    target = trail[1]
    attempts = ([f"REPLACE INTO audit_event (id, at, actor, action) "
                 f"VALUES ({target}, '2026-01-01 00:00:00', 'nobody', 'forged')",
                 f"INSERT OR REPLACE INTO audit_event (id, at, actor, action) "
                 f"VALUES ({target}, '2026-01-01 00:00:00', 'nobody', 'forged')",
                 f"INSERT INTO audit_event (id, at, actor, action) "
                 f"VALUES ({target}, '2026-01-01 00:00:00', 'nobody', 'forged') "
                 f"ON CONFLICT (id) DO UPDATE SET action = 'forged'"]
                if store.is_sqlite else
                [f"INSERT INTO audit_event (id, at, actor, action) "
                 f"VALUES ({target}, '2026-01-01 00:00:00', 'nobody', 'forged') "
                 f"ON CONFLICT (id) DO UPDATE SET action = 'forged'",
                 "TRUNCATE audit_event"])
    for statement in attempts:
        with pytest.raises(sa.exc.DatabaseError, match="the audit trail cannot be changed"):
            owner_runs(store, statement)
    with store.read() as session:
        actions = session.connection().execute(sa.text(
            "SELECT action FROM audit_event ORDER BY id")).scalars().all()
    assert "forged" not in actions and len(actions) == 5
    assert verified(store).ok


def test_a_deleted_event_is_found_after_the_trigger_is_dropped(store, trail) -> None:
    drop_guards(store)
    owner_runs(store, f"DELETE FROM audit_event WHERE id = {trail[2]}")
    verdict = verified(store)
    assert not verdict.ok
    assert (verdict.problem, verdict.event_id, verdict.count) == ("removed", trail[3], 2)
    assert verdict.at is not None and "event 3" in verdict.explanation


def test_a_changed_detail_is_found_after_the_trigger_is_dropped(store, trail) -> None:
    drop_guards(store)
    owner_runs(store, "UPDATE audit_event SET detail = '{\"changed\": [\"nothing\"]}' "
                      f"WHERE id = {trail[1]}")
    verdict = verified(store)
    assert (verdict.ok, verdict.problem, verdict.event_id) == (False, "changed", trail[1])


def test_a_relinked_event_is_found(store, trail) -> None:
    """A forger without the key cannot make a link that verifies."""
    drop_guards(store)
    owner_runs(store, f"UPDATE audit_event SET actor = 'Someone Else', "
                      f"link = '{'0' * 64}' WHERE id = {trail[0]}")
    verdict = verified(store)
    assert (verdict.problem, verdict.event_id) == ("changed", trail[0])


def test_an_event_added_outside_the_app_is_found(store, trail) -> None:
    owner_runs(store, "INSERT INTO audit_event (at, actor, action) "
                      "VALUES ('2026-01-01 00:00:00', 'nobody', 'forged')")
    verdict = verified(store)
    assert (verdict.ok, verdict.problem) == (False, "added")


def test_a_truncated_tail_is_found_against_the_anchor(store, trail) -> None:
    drop_guards(store)
    owner_runs(store, f"DELETE FROM audit_event WHERE id >= {trail[3]}")
    verdict = verified(store)
    assert (verdict.ok, verdict.problem, verdict.count, verdict.anchored) == (
        False, "truncated", 3, 5)
    assert "the newest 2 were removed" in verdict.explanation


def test_a_lagging_anchor_is_fine(store, trail, clock) -> None:
    """A crash between the commit and the anchor write leaves the anchor behind: a lower bound,
    not tampering. The next commit moves it on again."""
    with store.read() as session:
        events = session.connection().execute(sa.text(
            "SELECT id, seq, link FROM audit_event ORDER BY id")).all()
    path = audit.anchor_path(store)
    store_id = path.stem
    audit_anchor.write_anchor(path, Anchor(store_id, events[1].seq, events[1].id, events[1].link),
                              only_forward=False)
    verdict = verified(store)
    assert (verdict.ok, verdict.count, verdict.anchored) == (True, 5, 2)
    path.unlink()  # no anchor at all (another PC, a lost config folder): the chain alone
    assert verified(store).ok
    add_events(store, clock, 1)
    assert audit_anchor.read_anchor(path) == audit.chain_head(store)
    assert verified(store).anchored == 6


def test_an_anchor_never_moves_back(store, trail) -> None:
    path = audit.anchor_path(store)
    newest = audit_anchor.read_anchor(path)
    assert newest is not None and newest.count == 5
    audit_anchor.write_anchor(path, Anchor(newest.store, 2, 0, "old"))
    assert audit_anchor.read_anchor(path) == newest


def test_an_anchor_that_disagrees_with_the_trail_is_found(store, trail) -> None:
    path = audit.anchor_path(store)
    newest = audit_anchor.read_anchor(path)
    assert newest is not None
    audit_anchor.write_anchor(path, Anchor(newest.store, 3, trail[2], "f" * 64),
                              only_forward=False)
    verdict = verified(store)
    assert (verdict.ok, verdict.problem, verdict.event_id) == (False, "changed", trail[2])


def test_events_of_one_transaction_are_chained_in_order(store, clock) -> None:
    with store.write() as session:
        for n in range(3):
            audit.record(session, clock, SUPERVISOR, "export", None, {"files": [str(n)]})
    with store.read() as session:
        seqs = session.connection().execute(sa.text(
            "SELECT seq FROM audit_event ORDER BY id")).scalars().all()
    assert seqs == [1, 2, 3]
    assert verified(store).count == 3
    anchor = audit_anchor.read_anchor(audit.anchor_path(store))
    assert anchor is not None and anchor.count == 3


def test_a_rolled_back_event_leaves_no_link_and_no_anchor(store, clock) -> None:
    with pytest.raises(RuntimeError), store.write() as session:
        audit.record(session, clock, SUPERVISOR, "export", None)
        raise RuntimeError("the export failed")
    assert audit_anchor.read_anchor(audit.anchor_path(store)) is None
    add_events(store, clock, 1)
    assert verified(store).count == 1


# --- the key ---------------------------------------------------------------------------------

def test_the_key_is_made_owner_only_and_outside_the_store(store, trail, config_folder: Path
                                                          ) -> None:
    key = config_folder / audit_key.KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_bytes()) == audit_key.KEY_BYTES
    with store.read() as session:
        key_id = session.connection().execute(sa.text(
            "SELECT key_id FROM audit_chain")).scalar_one()
    assert key_id == audit_key.fingerprint(key.read_bytes())
    assert key.read_bytes().hex() != key_id


def test_a_key_others_may_read_is_refused(store, trail, clock, config_folder: Path) -> None:
    key = config_folder / audit_key.KEY_FILE
    key.chmod(0o644)
    with pytest.raises(AuditKeyError, match=r"may be read by other accounts \(mode 0644\)"):
        add_events(store, clock, 1)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        verified(store)
    key.chmod(0o600)
    assert verified(store).count == 5


def test_another_key_is_refused_before_it_links_anything(store, trail, clock,
                                                         config_folder: Path) -> None:
    key = config_folder / audit_key.KEY_FILE
    original = key.read_bytes()
    key.write_bytes(os.urandom(32))
    with pytest.raises(AuditKeyError, match="is not the key of this store"):
        add_events(store, clock, 1)
    key.write_bytes(original)
    assert verified(store).count == 5


def test_a_missing_key_is_said_so(store, trail, clock, config_folder: Path) -> None:
    (config_folder / audit_key.KEY_FILE).unlink()
    with pytest.raises(AuditKeyError, match="this PC has no audit key"):
        verified(store)
    with pytest.raises(AuditKeyError, match="this PC has no audit key"):
        add_events(store, clock, 1)


def test_a_seat_names_the_shared_key_file(store, trail, clock, config_folder: Path,
                                          tmp_path: Path, monkeypatch) -> None:
    """A server store's seats all name one key file in ADVICE_DESK_AUDIT_KEY."""
    shared = tmp_path / "shared" / "advice-desk-audit-key"
    shared.parent.mkdir()
    (config_folder / audit_key.KEY_FILE).rename(shared)
    monkeypatch.setenv(audit_key.KEY_ENV, str(shared))
    add_events(store, clock, 1)
    assert verified(store).count == 6


# --- the command -------------------------------------------------------------------------------

def _cli(location: Location) -> list[str]:
    if location.sqlite_file is not None:
        return ["--data-dir", str(location.data_dir)]
    return ["--data-dir", str(location.data_dir), "--database-url", location.database_url]


def test_audit_verify_says_ok_or_names_the_first_broken_link(
        store, trail, location: Location, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_cli(location), "audit", "verify"]) == 0
    assert capsys.readouterr().out == (
        "audit trail ok: 5 events, every link checked; this PC saw 5 events committed, "
        "all there\n")
    drop_guards(store)
    owner_runs(store, f"DELETE FROM audit_event WHERE id = {trail[1]}")
    assert main([*_cli(location), "audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"advice-desk: error: the audit trail is broken at event #{trail[2]}"
                          " of 2026-")
    assert "removed: event 2 of the trail removed before this one" in err
    assert "(the first event is whole)" in err
    assert err.count("\n") == 1


def test_audit_verify_without_the_key_is_one_line(
        store, trail, location: Location, config_folder: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    (config_folder / audit_key.KEY_FILE).unlink()
    assert main([*_cli(location), "audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("advice-desk: error: this PC has no audit key at ")
    assert err.count("\n") == 1


def test_the_anchor_holds_no_personal_value(store, trail, config_folder: Path) -> None:
    (anchor,) = (config_folder / audit_anchor.ANCHORS_DIR).iterdir()
    assert set(json.loads(anchor.read_text())) == {"store", "count", "event", "link"}
    assert stat.S_IMODE(anchor.stat().st_mode) == 0o600


# --- a lost key ---------------------------------------------------------------------------------

def test_a_lost_key_is_replaced_and_the_chain_goes_on_from_there(
        store, trail, clock, location: Location, config_folder: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AuditKeyError, match="there is an audit key"):
        AuditTrail(store, SUPERVISOR, clock).replace_lost_key()
    (config_folder / audit_key.KEY_FILE).unlink()
    with pytest.raises(AuditKeyError, match="audit new-key"):
        add_events(store, clock, 1)
    assert main([*_cli(location), "audit", "new-key"]) == 0
    assert "the trail is chained with it from event 6 on" in capsys.readouterr().out
    add_events(store, clock, 2)
    verdict = verified(store)
    assert (verdict.ok, verdict.count, verdict.unchecked) == (True, 8, 5)
    assert main([*_cli(location), "audit", "verify"]) == 0
    assert "the 5 events before can be checked only with the lost key" in capsys.readouterr().out
    # Whoever has the database but not the key cannot start a chain of their own that way.
    drop_guards(store)
    owner_runs(store, f"DELETE FROM audit_event WHERE id > {trail[-1]}")
    with store.read() as session:
        last_seq = session.connection().execute(sa.text(
            "SELECT max(seq) FROM audit_event")).scalar_one()
    owner_runs(store, "INSERT INTO audit_event (at, actor, action, seq, link) VALUES "
                      f"('2026-01-01 00:00:00', 'x', '{audit_chain.KEY_REPLACED}', "
                      f"{last_seq + 1}, '{'a' * 64}')")
    verdict = verified(store)
    assert (verdict.ok, verdict.problem) == (False, "changed")


def test_two_writers_at_once_make_one_chain_without_a_fork(store, location: Location) -> None:
    """Appends are serialised by the write lock (BEGIN IMMEDIATE; the advisory lock on
    PostgreSQL): the newest event read under it is always the one just committed."""
    import threading

    from advice_desk.clock import SystemClock
    from tests.factories import opened_store

    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            with opened_store(location, SystemClock()) as own:
                start.wait()
                for n in range(15):
                    with own.write() as session:
                        audit.record(session, SystemClock(), SUPERVISOR, "export", name,
                                     {"files": [str(n)]})
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    verdict = verified(store)
    assert (verdict.ok, verdict.count) == (True, 30)
    with store.read() as session:
        subjects = session.connection().execute(sa.text(
            "SELECT subject FROM audit_event ORDER BY id")).scalars().all()
    assert sorted(subjects) == ["one"] * 15 + ["two"] * 15


def test_stores_sharing_a_config_folder_keep_their_own_anchors(
        store, trail, clock, tmp_path: Path) -> None:
    from tests.factories import opened_store

    with opened_store(tmp_path / "another", clock) as another:
        add_events(another, clock, 2)
        assert audit.anchor_path(another) != audit.anchor_path(store)
        assert verified(another).anchored == 2
    assert verified(store).anchored == 5


# --- the guards --------------------------------------------------------------------------------

def test_dropped_guards_are_named_by_verify_and_check_and_put_back_only_on_request(
        store, trail, location: Location, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing trigger is itself a sign of tampering: said by name (exit 1), never put back
    silently (reopening the store leaves it missing); ``audit verify --repair`` puts it back
    and records that in the trail."""
    drop_guards(store)
    dropped = (["audit_event_no_update", "audit_event_no_delete"] if store.is_sqlite
               else ["audit_event_no_change"])
    assert main([*_cli(location), "audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"advice-desk: error: the audit trail's guards {', '.join(dropped)} "
                          "are missing")
    assert "audit verify --repair" in err and err.count("\n") == 1
    assert main([*_cli(location), "check"]) == 1
    err = capsys.readouterr().err
    assert f"the guards of its audit trail {', '.join(dropped)} are missing" in err
    assert AuditTrail(store, SUPERVISOR, ANY_TIME).missing_guards() == dropped  # still gone
    assert main([*_cli(location), "audit", "verify", "--repair"]) == 0
    said = capsys.readouterr()
    assert f"put back the audit trail's guards {', '.join(dropped)}" in said.err
    assert said.out.startswith("audit trail ok: 6 events")
    assert AuditTrail(store, SUPERVISOR, ANY_TIME).missing_guards() == []
    with pytest.raises(sa.exc.DBAPIError, match="the audit trail cannot be changed"):
        owner_runs(store, f"DELETE FROM audit_event WHERE id = {trail[0]}")
    (event,) = AuditTrail(store, SUPERVISOR, ANY_TIME).events(
        audit.AuditQuery(action=audit.GUARDS_PUT_BACK))
    assert audit.describe(event) == f"guards {', '.join(dropped)} put back"
    assert main([*_cli(location), "check"]) == 0


def test_a_guard_made_harmless_is_found(store, trail) -> None:
    if store.is_sqlite:
        owner_runs(store, "DROP TRIGGER audit_event_no_delete",
                   "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
                   "BEGIN SELECT 1; END")
        found = ["audit_event_no_delete (changed)"]
    else:
        owner_runs(store, "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_truncate")
        found = ["audit_event_no_truncate (disabled)"]
    assert AuditTrail(store, SUPERVISOR, ANY_TIME).missing_guards() == found


# --- what this PC saw ------------------------------------------------------------------------

def test_verify_without_an_anchor_says_the_tail_could_not_be_checked(
        store, trail, location: Location, config_folder: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    for anchor in (config_folder / audit_anchor.ANCHORS_DIR).iterdir():
        anchor.unlink()
    assert main([*_cli(location), "audit", "verify"]) == 0
    assert capsys.readouterr().out == (
        "audit trail ok: 5 events, every link checked; this PC has no anchor of this store "
        "(what it saw committed), so whether newest events were cut from the tail could not "
        "be checked\n")


def test_a_loose_anchor_is_tightened_and_one_others_may_change_is_refused(
        store, trail, location: Location, config_folder: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = config_folder / audit_anchor.ANCHORS_DIR
    (anchor,) = folder.iterdir()
    anchor.chmod(0o644)
    folder.chmod(0o755)
    assert main([*_cli(location), "audit", "verify"]) == 0
    assert stat.S_IMODE(anchor.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    capsys.readouterr()
    anchor.chmod(0o666)
    assert main([*_cli(location), "audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"advice-desk: error: this PC's audit anchor {anchor} may be changed "
                          "by other accounts (mode 0666)")
    assert f"chmod 600 {anchor}" in err and err.count("\n") == 1
    add_events(store, FixedClock(ANY_TIME.now()), 1)  # a new anchor: 0600 again
    assert stat.S_IMODE(anchor.stat().st_mode) == 0o600
