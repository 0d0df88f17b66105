"""People who use the app. Sign-in and roles arrive with accounts; until then a store knows
its users by username, and the desktop session's user logs calls under their own name."""

from __future__ import annotations

from sqlmodel import select

from advice_desk.clock import Clock
from advice_desk.store.engine import Store
from advice_desk.store.models import User

ROLES = ("worker", "supervisor")


def get_or_create_user(store: Store, username: str, clock: Clock, *,
                       display_name: str | None = None, role: str = "worker") -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    with store.write() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            user = User(username=username, display_name=display_name or username, role=role,
                        created_at=clock.now())
            session.add(user)
            session.flush()
        return user


def list_users(store: Store) -> list[User]:
    with store.read() as session:
        return list(session.exec(select(User).order_by(User.display_name)))
