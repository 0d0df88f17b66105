"""Accounts and the audit trail in the core: argon2id hashes, the growing wait after wrong
passwords, the supervisor's user tools, the role rules and the append-only trail (real SQLite
store, fixed clock: no waiting for real time)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import select

from advice_desk.calls.drafts import Drafts
from advice_desk.calls.history import CallQuery
from advice_desk.calls.service import Calls
from advice_desk.people import accounts, audit
from advice_desk.people.accounts import Users, get_or_create_user
from advice_desk.people.audit import AuditQuery, AuditTrail
from advice_desk.people.permissions import AccountDisabled, PermissionDenied, Role
from advice_desk.store.models import AuditEvent, User
from advice_desk.validation import ValidationError
from tests.factories import add_account
from tests.support import ANY_TIME, PASSWORD, SUPERVISOR

WRONG = "wrong horse battery"


@pytest.fixture
def amy_id(store, clock, sam) -> int:
    return add_account(store, clock, sam, "amy")


def stored_user(store, username: str) -> User:
    with store.read() as session:
        user = session.exec(select(User).where(User.username == username)).one()
    return user


def actions(store, sam) -> list[str]:
    """The trail, oldest first."""
    return [e.action for e in reversed(AuditTrail(store, sam, ANY_TIME).events(AuditQuery()))]


def refused(store, clock, username: str, password: str) -> accounts.SignInError:
    with pytest.raises(accounts.SignInError) as caught:
        accounts.sign_in(store, username, password, clock)
    return caught.value


# --- the first supervisor --------------------------------------------------------------------

def test_the_first_supervisor_is_created_once(store, clock):
    assert accounts.needs_first_supervisor(store)
    sam = accounts.create_first_supervisor(store, "sam", "Sam Supervisor", PASSWORD, clock)
    assert sam.is_supervisor and sam.username == "sam" and sam.name == "Sam Supervisor"
    assert not accounts.needs_first_supervisor(store)
    with pytest.raises(ValidationError, match="already has a supervisor"):
        accounts.create_first_supervisor(store, "sue", "Sue Second", PASSWORD, clock)
    assert [a.username for a in Users(store, sam, clock).accounts()] == ["sam"]


# --- signing in ------------------------------------------------------------------------------

def test_sign_in_with_the_right_password_and_refused_with_a_wrong_one(store, clock, amy_id):
    amy = accounts.sign_in(store, "amy", PASSWORD, clock)
    assert (amy.id, amy.username, amy.name, amy.role) == (amy_id, "amy", "Amy Adviser",
                                                           Role.WORKER)
    assert accounts.sign_in(store, " amy ", PASSWORD, clock).id == amy_id
    error = refused(store, clock, "amy", WRONG)
    assert str(error) == "Wrong user name or password."
    assert error.retry_after is None


def test_user_names_are_the_same_in_any_case(store, clock, sam):
    bjones_id = add_account(store, clock, sam, "bjones")
    bjones = accounts.sign_in(store, "BJones", PASSWORD, clock)
    assert (bjones.id, bjones.username) == (bjones_id, "bjones")  # the name as it was added
    refused(store, clock, "BJONES", WRONG)
    assert stored_user(store, "bjones").failed_sign_ins == 1  # counted against bjones
    with pytest.raises(ValidationError, match="BJones is taken"):
        Users(store, sam, clock).add("BJones", "Another B Jones", Role.WORKER, PASSWORD)
    Users(store, bjones, clock).unlock("BJONES", PASSWORD)
    assert accounts.find_user(store, "Bjones").id == bjones_id


def test_an_imported_user_name_becomes_the_account_added_in_another_case(store, clock, sam):
    imported = accounts.get_or_create_user(store, "amy", clock)
    assert add_account(store, clock, sam, "Amy") == imported.id
    assert accounts.get_or_create_user(store, "AMY", clock).id == imported.id


def test_an_unknown_user_name_and_a_wrong_password_read_the_same(store, clock, amy_id):
    unknown = refused(store, clock, "nobody", PASSWORD)
    wrong = refused(store, clock, "amy", WRONG)
    assert str(unknown) == str(wrong) == "Wrong user name or password."


def test_the_wait_grows_after_three_wrong_passwords():
    assert [accounts.wait_after(n) for n in range(3)] == [timedelta(0)] * 3
    assert [accounts.wait_after(n).total_seconds() for n in range(3, 8)] == [1, 2, 4, 8, 16]
    assert accounts.wait_after(20) == timedelta(minutes=5)
    assert accounts.wait_after(100_000) == timedelta(minutes=5)  # no overflow, however many


def test_a_sign_in_inside_the_wait_is_refused_unchecked(store, clock, amy_id):
    """The message is the same as for a wrong password, so it never shows a name exists."""
    for _ in range(3):  # the free attempts: no wait between them
        assert str(refused(store, clock, "amy", WRONG)) == "Wrong user name or password."
    third_failure = clock.now()
    clock.advance(timedelta(milliseconds=200))
    inside = refused(store, clock, "amy", PASSWORD)  # even the right password waits
    assert str(inside) == "Wrong user name or password."
    assert inside.retry_after == third_failure + timedelta(seconds=1)

    clock.advance(timedelta(milliseconds=800))
    refused(store, clock, "amy", WRONG)  # the fourth: now 2 s
    clock.advance(timedelta(milliseconds=500))
    assert refused(store, clock, "amy", PASSWORD).retry_after == clock.now() + timedelta(
        milliseconds=1500)
    clock.advance(timedelta(milliseconds=1000))
    assert refused(store, clock, "amy", PASSWORD).retry_after is not None
    clock.advance(timedelta(milliseconds=500))
    assert accounts.sign_in(store, "amy", PASSWORD, clock).id == amy_id
    user = stored_user(store, "amy")
    assert (user.failed_sign_ins, user.last_failed_sign_in_at) == (0, None)
    refused(store, clock, "amy", WRONG)  # a good sign-in started the count again: no wait
    refused(store, clock, "amy", WRONG)
    assert accounts.sign_in(store, "amy", PASSWORD, clock).id == amy_id


def test_passwords_are_hashed_with_argon2id(store, clock, amy_id):
    stored = stored_user(store, "amy").password_hash
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_hash_with_weaker_parameters_is_rehashed_at_the_next_good_sign_in(store, clock,
                                                                           amy_id):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with store.write() as session:
        user = session.get(User, amy_id)
        user.password_hash = weak
    refused(store, clock, "amy", WRONG)
    assert stored_user(store, "amy").password_hash == weak  # a wrong password changes nothing

    accounts.sign_in(store, "amy", PASSWORD, clock)
    rehashed = stored_user(store, "amy").password_hash
    assert rehashed != weak and rehashed.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(rehashed)
    assert accounts.sign_in(store, "amy", PASSWORD, clock).id == amy_id


# --- the supervisor's tools ------------------------------------------------------------------

def test_a_disabled_user_cannot_sign_in_until_enabled(store, clock, sam, amy_id):
    users = Users(store, sam, clock)
    users.set_active(amy_id, False)
    assert str(refused(store, clock, "amy", PASSWORD)) == "Wrong user name or password."
    assert not {a.username: a for a in users.accounts()}["amy"].active
    users.set_active(amy_id, True)
    assert accounts.sign_in(store, "amy", PASSWORD, clock).id == amy_id


def test_the_last_supervisor_cannot_be_disabled(store, clock, sam):
    users = Users(store, sam, clock)
    with pytest.raises(ValidationError, match="the last supervisor cannot be disabled"):
        users.set_active(sam.id, False)
    assert accounts.sign_in(store, "sam", PASSWORD, clock).id == sam.id
    sue = users.add("sue", "Sue Second", Role.SUPERVISOR, PASSWORD)
    users.set_active(sam.id, False)  # another supervisor remains
    with pytest.raises(AccountDisabled):  # and sam's own session is locked from now on
        users.set_active(sue, False)
    sue_signed_in = accounts.sign_in(store, "sue", PASSWORD, clock)
    with pytest.raises(ValidationError, match="the last supervisor"):
        Users(store, sue_signed_in, clock).set_active(sue, False)


def test_new_users_are_checked(store, clock, sam, amy_id):
    users = Users(store, sam, clock)
    with pytest.raises(ValidationError) as short:
        users.add("bob", "Bob", Role.WORKER, "short")
    assert [(e.field, e.message) for e in short.value.errors] == [
        ("password", "use at least 8 characters")]
    with pytest.raises(ValidationError, match="amy is taken"):
        users.add("amy", "Another Amy", Role.WORKER, PASSWORD)
    with pytest.raises(ValidationError, match="without spaces"):
        users.add("bob smith", "Bob", Role.WORKER, PASSWORD)


def test_a_reset_password_works_at_once_and_clears_the_wait(store, clock, sam, amy_id):
    for _ in range(5):
        refused(store, clock, "amy", WRONG)
        clock.advance(timedelta(seconds=2))
    assert refused(store, clock, "amy", PASSWORD).retry_after is not None
    users = Users(store, sam, clock)
    with pytest.raises(ValidationError, match="at least 8"):
        users.reset_password(amy_id, "short")

    users.reset_password(amy_id, "a brand new secret")
    assert accounts.sign_in(store, "amy", "a brand new secret", clock).id == amy_id
    assert str(refused(store, clock, "amy", PASSWORD)) == "Wrong user name or password."


def test_an_imported_user_shows_as_unable_to_sign_in_until_added(store, clock, sam):
    from advice_desk.people.accounts import get_or_create_user

    get_or_create_user(store, "imported", clock, display_name="Imported calls")
    listed = {a.username: a for a in Users(store, sam, clock).accounts()}
    assert not listed["imported"].can_sign_in
    assert listed["sam"].can_sign_in
    assert str(refused(store, clock, "imported", "")) == "Wrong user name or password."


# --- the audit trail -------------------------------------------------------------------------

def test_every_account_action_leaves_an_audit_event(store, clock, sam):
    accounts.sign_in(store, "sam", PASSWORD, clock)
    users = Users(store, sam, clock)
    amy_id = users.add("amy", "Amy Adviser", Role.WORKER, PASSWORD)
    refused(store, clock, "amy", WRONG)
    refused(store, clock, "nobody", WRONG)
    users.set_active(amy_id, False)
    users.set_active(amy_id, True)
    users.reset_password(amy_id, "a brand new secret")
    accounts.sign_in(store, "amy", "a brand new secret", clock)

    trail = AuditTrail(store, sam, clock)
    events = list(reversed(trail.events(AuditQuery())))
    assert [(e.action, e.actor, e.subject) for e in events] == [
        ("user-added", "Sam Supervisor", "user sam"),
        ("sign-in", "Sam Supervisor", None),
        ("user-added", "Sam Supervisor", "user amy"),
        ("sign-in-failed", "amy", "user amy"),
        ("sign-in-failed", "(unknown)", "an unknown user name"),  # what was typed is not kept
        ("user-disabled", "Sam Supervisor", "user amy"),
        ("user-enabled", "Sam Supervisor", "user amy"),
        ("password-reset", "Sam Supervisor", "user amy"),
        ("sign-in", "Amy Adviser", None),
    ]
    assert events[-1].actor_id == amy_id
    assert events[3].actor_id is None  # a failed sign-in is nobody's yet
    assert audit.describe(events[0]) == "made at the first start; as a supervisor"
    assert audit.describe(events[2]) == "as a worker"
    assert all(PASSWORD not in (e.detail or "") and "a brand new" not in (e.detail or "")
               for e in events)
    assert trail.actions() == sorted({e.action for e in events})


def test_the_trail_filters_by_action_person_and_uk_day(store, clock, sam, amy_id):
    accounts.sign_in(store, "amy", PASSWORD, clock)
    clock.advance(timedelta(days=2))
    accounts.sign_in(store, "amy", PASSWORD, clock)
    today = clock.now().date()
    trail = AuditTrail(store, sam, clock)
    assert len(trail.events(AuditQuery(action="sign-in"))) == 2
    assert len(trail.events(AuditQuery(actor="Amy"))) == 2
    assert len(trail.events(AuditQuery(date_from=today, date_to=today))) == 1
    assert trail.events(AuditQuery(date_from=today + timedelta(days=1))) == []
    newest_first = trail.events(AuditQuery())
    assert [e.at for e in newest_first] == sorted((e.at for e in newest_first), reverse=True)
    assert len(trail.events(AuditQuery(), offset=1, limit=2)) == 2


@pytest.mark.parametrize("call", [
    lambda store, worker, clock: Users(store, worker, clock).accounts(),
    lambda store, worker, clock: Users(store, worker, clock).add("bob", "Bob", Role.WORKER,
                                                                 PASSWORD),
    lambda store, worker, clock: Users(store, worker, clock).set_active(worker.id, False),
    lambda store, worker, clock: Users(store, worker, clock).reset_password(
        worker.id, "a brand new secret"),
    lambda store, worker, clock: AuditTrail(store, worker, clock).events(AuditQuery()),
], ids=["list_accounts", "add_user", "set_active", "reset_password", "list_events"])
def test_a_worker_cannot_manage_users_or_read_the_trail(store, clock, amy_id, call):
    amy = accounts.sign_in(store, "amy", PASSWORD, clock)
    with pytest.raises(PermissionDenied, match="only a supervisor can"):
        call(store, amy, clock)
    assert accounts.sign_in(store, "amy", PASSWORD, clock).id == amy_id  # nothing changed


def test_the_database_refuses_to_change_or_delete_audit_events(store, clock, sam):
    with store.read() as session:
        before = session.exec(select(AuditEvent)).all()
    assert before
    for statement in ("UPDATE audit_event SET actor = 'someone else'",
                      "DELETE FROM audit_event"):
        with pytest.raises(sa.exc.DatabaseError, match="the audit trail cannot be changed"), \
                store.write() as session:
            session.exec(sa.text(statement))
    with pytest.raises(sa.exc.DatabaseError, match="the audit trail cannot be changed"), \
            store.write() as session:
        event = session.get(AuditEvent, before[0].id)
        session.delete(event)
    with store.read() as session:
        after = session.exec(select(AuditEvent)).all()
    assert [(e.id, e.actor, e.action) for e in after] == [(e.id, e.actor, e.action)
                                                          for e in before]


def test_wrong_passwords_while_disabled_do_not_lock_out_the_enabled_account(store, clock,
                                                                           amy_id):
    sam = accounts.sign_in(store, "sam", PASSWORD, clock)
    users = Users(store, sam, clock)
    users.set_active(amy_id, False)
    for _ in range(60):
        refused(store, clock, "amy", WRONG)
    users.set_active(amy_id, True)
    assert accounts.sign_in(store, "amy", PASSWORD, clock).id == amy_id


def test_a_sign_in_refused_during_the_wait_is_audited(store, clock, amy_id):
    for _ in range(4):
        refused(store, clock, "amy", WRONG)
    refused(store, clock, "amy", PASSWORD)
    sam = accounts.sign_in(store, "sam", PASSWORD, clock)
    actions = [e.action for e in AuditTrail(store, sam, clock).events(AuditQuery(actor="amy"))]
    assert actions[0] == "sign-in-waiting"


# --- a session outliving its account, and what a session is told about others ----------------

def test_a_disabled_accounts_open_session_is_refused_at_its_next_action(store, clock, sam,
                                                                       amy_id):
    amy = accounts.sign_in(store, "amy", PASSWORD, clock)
    calls, drafts = Calls(store, amy, clock), Drafts(store, amy, clock)
    calls.log_non_data("silent")
    Users(store, sam, clock).set_active(amy_id, False)
    for action in (lambda: calls.log_non_data("silent"), lambda: calls.list(CallQuery()),
                   lambda: drafts.save({"notes": "half typed"}),
                   lambda: Users(store, amy, clock).workers()):
        with pytest.raises(AccountDisabled, match="Amy Adviser's account has been disabled"):
            action()
    # At the lock screen her password is refused like any other, and audited as such.
    with pytest.raises(accounts.SignInError, match="Wrong user name or password"):
        Users(store, amy, clock).unlock("amy", PASSWORD)
    assert actions(store, sam)[-1] == "sign-in-failed"
    assert Calls(store, SUPERVISOR, clock).count(CallQuery()) == 1  # the command line goes on
    Users(store, sam, clock).set_active(amy_id, True)
    Users(store, amy, clock).unlock("amy", PASSWORD)
    assert calls.log_non_data("silent") > 0


def test_workers_get_names_never_password_hashes(store, clock, sam, amy_id):
    amy = accounts.sign_in(store, "amy", PASSWORD, clock)
    get_or_create_user(store, "imported", clock, display_name="Imported calls")
    listed = Users(store, amy, clock).workers()
    assert all(type(w) is accounts.Worker for w in listed)
    assert not any(hasattr(w, "password_hash") for w in listed)
    assert [(w.username, w.display_name, w.role, w.active) for w in listed] == [
        ("amy", "Amy Adviser", Role.WORKER, True),
        ("imported", "Imported calls", Role.WORKER, True),
        ("sam", "Sam Supervisor", Role.SUPERVISOR, True)]
    assert PASSWORD not in repr(listed) and "argon2" not in repr(listed)
