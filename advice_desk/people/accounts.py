"""Local accounts: argon2id password hashes, a growing wait after wrong passwords, and the
supervisor's tools to add, disable and reset users (:class:`Users`). Every sign-in, good or
bad, is audited. Sign-in itself stays a function: nobody is signed in yet to bind it to.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from advice_desk.clock import Clock
from advice_desk.people import audit
from advice_desk.people.manager import Manager, unchecked
from advice_desk.people.permissions import Action, Actor, Role, require
from advice_desk.store.engine import Store
from advice_desk.store.models import User
from advice_desk.validation import FieldError, ValidationError

MIN_PASSWORD_LENGTH = 8
MAX_USERNAME, MAX_DISPLAY_NAME = 64, 120  # the columns' sizes
FREE_ATTEMPTS = 3  # wrong passwords before any wait
MAX_WAIT = timedelta(minutes=5)
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class SignInError(Exception):
    """Sign-in refused; ``retry_after`` is set when the user must wait."""

    def __init__(self, message: str, retry_after: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    can_sign_in: bool


@dataclass(frozen=True)
class Worker:
    """Who a call may be logged under, as the history's filter lists them."""

    id: int
    username: str
    display_name: str
    role: Role
    active: bool


def actor_of(user: User) -> Actor:
    assert user.id is not None
    return Actor(user.id, user.username, user.display_name, Role(user.role))


def wait_after(failures: int) -> timedelta:
    """How long to wait after this many wrong passwords in a row: 0, then 1 s doubling to 5 min."""
    if failures < FREE_ATTEMPTS:
        return timedelta(0)
    doublings = min(failures - FREE_ATTEMPTS, 16)  # beyond the cap already: no overflow
    return min(timedelta(seconds=2 ** doublings), MAX_WAIT)


def _check_new(username: str, display_name: str, password: str) -> None:
    errors = []
    if not username.strip() or any(ch.isspace() for ch in username.strip()):
        errors.append(FieldError("username", "give a user name without spaces"))
    elif len(username.strip()) > MAX_USERNAME:
        errors.append(FieldError("username", f"use at most {MAX_USERNAME} characters"))
    if not display_name.strip():
        errors.append(FieldError("display_name", "give the name people know this user by"))
    elif len(display_name.strip()) > MAX_DISPLAY_NAME:
        errors.append(FieldError("display_name", f"use at most {MAX_DISPLAY_NAME} characters"))
    errors += _password_problems(password)
    if errors:
        raise ValidationError(errors)


def check_new_account(username: str, display_name: str, password: str) -> None:
    """Raise :class:`ValidationError` for an account that could not be made, before anything
    is written (``advice-desk setup`` checks its first supervisor before building a store)."""
    _check_new(username, display_name, password)


def _password_problems(password: str) -> list[FieldError]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [FieldError("password", f"use at least {MIN_PASSWORD_LENGTH} characters")]
    return []


def needs_first_supervisor(store: Store) -> bool:
    """True until somebody can sign in as a supervisor: the first start asks for one."""
    with store.read() as session:
        return session.exec(select(User.id).where(
            User.role == Role.SUPERVISOR, col(User.password_hash).is_not(None),
            col(User.active).is_(True)).limit(1)).first() is None


def create_first_supervisor(store: Store, username: str, display_name: str, password: str,
                            clock: Clock) -> Actor:
    _check_new(username, display_name, password)
    with store.write() as session:
        if session.exec(select(User.id).where(User.role == Role.SUPERVISOR,
                                              col(User.password_hash).is_not(None))).first():
            raise ValidationError([FieldError("username", "this store already has a supervisor")])
        user = _new_user(session, username, display_name, Role.SUPERVISOR, password, clock)
        actor = actor_of(user)
        audit.record(session, clock, actor, "user-added", f"user {user.username}",
                     {"role": user.role, "first start": True})
        return actor


def user_named(session: Session, username: str) -> User | None:
    """The user of that name in any case ("BJones" is bjones); an exact match first, for a
    store made before names were compared without case that holds both "amy" and "Amy"."""
    exact = session.exec(select(User).where(User.username == username)).first()
    if exact is not None:
        return exact
    return session.exec(select(User).where(
        sa.func.lower(User.username) == username.lower()).order_by(col(User.id))).first()


def _new_user(session: Session, username: str, display_name: str, role: Role, password: str,
              clock: Clock) -> User:
    username = username.strip()
    user = user_named(session, username)
    if user is not None and user.password_hash is not None:
        taken = (f"{username} is taken" if user.username == username
                 else f"{username} is taken: user names are the same in any case "
                      f"({user.username})")
        raise ValidationError([FieldError("username", taken)])
    if user is None:  # a user with no password yet (imported calls) becomes a real account
        user = User(username=username, display_name="", role=role, created_at=clock.now())
    user.display_name = display_name.strip()
    user.role = role
    user.password_hash = _hasher.hash(password)
    user.active = True
    session.add(user)
    session.flush()
    return user


WRONG = "Wrong user name or password."


def sign_in(store: Store, username: str, password: str, clock: Clock) -> Actor:
    """The signed-in actor; raises :class:`SignInError` with a message to show.

    Every refusal says the same thing, so the message never tells whether a user name
    exists; an account that must wait after wrong passwords is refused unchecked.
    """
    now = clock.now()
    username = username.strip()
    with store.write() as session:
        user = user_named(session, username)
        usable = user is not None and user.active and user.password_hash is not None
        retry_after = _retry_after(user) if usable and user is not None else None
        waiting = retry_after is not None and now < retry_after
        if usable and user is not None and not waiting and _verify(user, password):
            user.failed_sign_ins = 0
            user.last_failed_sign_in_at = None
            actor = actor_of(user)
            audit.record(session, clock, actor, "sign-in")
            return actor
        if not usable:
            _verify_nothing(password)
        if user is not None and not waiting:
            user.failed_sign_ins += 1
            user.last_failed_sign_in_at = now
        # What was typed as a user name is kept only when it names a user: it may be a password.
        name = f"user {user.username}" if user is not None else "an unknown user name"
        audit.record(session, clock, None, "sign-in-waiting" if waiting else "sign-in-failed",
                     name, actor_name=user.username if user is not None else "(unknown)")
    raise SignInError(WRONG, retry_after if waiting else None)


def _retry_after(user: User) -> datetime | None:
    if user.last_failed_sign_in_at is None:
        return None
    return user.last_failed_sign_in_at + wait_after(user.failed_sign_ins)


def _verify(user: User, password: str) -> bool:
    assert user.password_hash is not None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)  # the parameters have risen since
    return True


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not the password of anyone")


def _verify_nothing(password: str) -> None:
    """Spend as long on an unknown user name as on a wrong password: names stay secret."""
    with suppress(VerificationError):
        _hasher.verify(_dummy_hash(), password)


def get_or_create_user(store: Store, username: str, clock: Clock, *,
                       display_name: str | None = None, role: Role = Role.WORKER) -> User:
    """The user of that name, made without a password when there is none: the name calls are
    imported or generated under; it becomes a real account once a supervisor adds it."""
    if role not in tuple(Role):
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(Role)}")
    with store.write() as session:
        user = user_named(session, username)
        if user is None:
            user = User(username=username, display_name=display_name or username, role=role,
                        created_at=clock.now())
            session.add(user)
            session.flush()
        return user


def find_user(store: Store, username: str) -> User | None:
    with store.read() as session:
        return user_named(session, username)


class Users(Manager):
    """The supervisor's user tools, and the list of everyone calls are logged under."""

    def unlock(self, username: str, password: str) -> None:
        """After idle time: only the signed-in user's own password opens the app again, and
        wrong ones count as at sign-in; raises :class:`SignInError`."""
        if username.strip().casefold() != self.actor.username.casefold():
            raise SignInError("Only the person who was signed in can unlock.")
        # Unchecked: a disabled account is refused by sign-in itself, as any wrong password.
        sign_in(unchecked(self.store), username, password, self.clock)

    def workers(self) -> list[Worker]:
        """Every user, by name: whoever may have logged a call (the history's filter). Names
        and roles only: no session is handed anyone's password hash."""
        with self.store.read() as session:
            rows = session.connection().execute(sa.select(
                col(User.id), col(User.username), col(User.display_name), col(User.role),
                col(User.active)).order_by(col(User.display_name))).all()
        return [Worker(int(row.id), row.username, row.display_name, Role(row.role),
                       bool(row.active)) for row in rows]

    def accounts(self) -> list[Account]:
        require(self.actor, Action.USERS)
        with self.store.read() as session:
            users = session.exec(select(User).order_by(User.display_name)).all()
        return [Account(u.id or 0, u.username, u.display_name, Role(u.role), u.active,
                        u.password_hash is not None) for u in users]

    def add(self, username: str, display_name: str, role: Role, password: str) -> int:
        require(self.actor, Action.USERS)
        _check_new(username, display_name, password)
        with self.store.write() as session:
            user = _new_user(session, username, display_name, role, password, self.clock)
            audit.record(session, self.clock, self.actor, "user-added", f"user {user.username}",
                         {"role": user.role})
            assert user.id is not None
            return user.id

    def set_active(self, user_id: int, active: bool) -> None:
        require(self.actor, Action.USERS)
        with self.store.write() as session:
            user = _user(session, user_id)
            if (not active and user.role == Role.SUPERVISOR
                    and _other_supervisors(session, user) == 0):
                raise ValidationError(
                    [FieldError("active", "the last supervisor cannot be disabled")])
            user.active = active
            if active:  # a fresh start: wrong passwords tried while disabled do not count
                user.failed_sign_ins = 0
                user.last_failed_sign_in_at = None
            audit.record(session, self.clock, self.actor,
                         "user-enabled" if active else "user-disabled", f"user {user.username}")

    def reset_password(self, user_id: int, password: str) -> None:
        require(self.actor, Action.USERS)
        if problems := _password_problems(password):
            raise ValidationError(problems)
        with self.store.write() as session:
            user = _user(session, user_id)
            user.password_hash = _hasher.hash(password)
            user.failed_sign_ins = 0
            user.last_failed_sign_in_at = None
            audit.record(session, self.clock, self.actor, "password-reset",
                         f"user {user.username}")


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise ValidationError([FieldError("user", f"there is no user {user_id}")])
    return user


def _other_supervisors(session: Session, user: User) -> int:
    """Other supervisors who can sign in (an account with no password cannot)."""
    return len(session.exec(select(User.id).where(
        User.role == Role.SUPERVISOR, col(User.active).is_(True),
        col(User.password_hash).is_not(None), User.id != user.id)).all())
