"""The tables of a store.

Times are stored as naive UTC and read back as aware UTC (:class:`UTCDateTime`), so the same
columns work on SQLite and PostgreSQL. Code lists other than topics are validated against
``resources/`` rather than held in tables: they change with the helpline, not with the data.
Every schema change goes through an Alembic revision in ``advice_desk/migrations``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store naive datetime {value.isoformat()}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def _text(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.Text(), nullable=nullable))


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=120)
    role: str = Field(max_length=20)  # "worker" or "supervisor"
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = True
    created_at: datetime = _utc()
    # Wrong passwords since the last good one: each makes the next attempt wait longer.
    failed_sign_ins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_failed_sign_in_at: datetime | None = _utc(nullable=True)


class Topic(SQLModel, table=True):
    """A call topic. Codes are stable; topics are retired, never deleted."""

    __tablename__ = "topic"

    code: str = Field(primary_key=True, max_length=80)
    parent_code: str | None = Field(default=None, foreign_key="topic.code", max_length=80)
    label: str = Field(max_length=200)
    position: int = 0
    retired: bool = False


CALL_VERSION = sa.Column("version", sa.Integer(), nullable=False, server_default="1")


class Call(SQLModel, table=True):
    __tablename__ = "call"
    __mapper_args__ = {"version_id_col": CALL_VERSION}
    __table_args__ = (
        sa.Index("ix_call_worker_started", "worker_id", "started_at"),
        sa.Index("ix_call_follow_up_on", "follow_up_on"),
        sa.Index("ix_call_idempotency_key", "idempotency_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="data", max_length=20)  # "data" or a non-data kind
    started_at: datetime = _utc(index=True)
    # The start as the line's clock read it, kept beside the UTC instant because every report
    # groups by UK day and 30-minute slot: stored once, they need no time-zone arithmetic in SQL
    # (which SQLite and PostgreSQL spell differently) and the day can be indexed.
    local_date: date | None = Field(default=None, index=True)
    local_minute: int | None = None  # minutes after local midnight
    ended_at: datetime | None = _utc(nullable=True)
    duration_s: int | None = None
    channel: str = Field(default="phone", max_length=30)
    direction: str = Field(default="inbound", max_length=30)
    in_hours: bool | None = None
    worker_id: int = Field(foreign_key="app_user.id")
    caller_type: str | None = Field(default=None, max_length=40)
    arrangement: str | None = Field(default=None, max_length=40)
    local_authority: str | None = Field(default=None, max_length=9)
    children_count: int | None = None
    children_age_bands: str | None = Field(default=None, max_length=200)  # ";"-joined
    follow_up_on: date | None = None
    follow_up_note: str | None = _text()
    follow_up_done_at: datetime | None = _utc(nullable=True)
    safeguarding: bool = False
    first_time_caller: str = Field(default="unknown", max_length=10)
    how_heard: str | None = Field(default=None, max_length=40)
    consent_to_store_details: bool = False
    caller_name: str | None = _text()
    caller_phone: str | None = _text()
    caller_email: str | None = _text()
    caller_postcode: str | None = _text()
    notes: str | None = _text()
    reviewed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reviewed_at: datetime | None = _utc(nullable=True)
    review_note: str | None = _text()
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    # Retention leaves a call on legal hold alone; personal_erased_at is when retention or an
    # erasure on request last set the personal fields (privacy.PERSONAL_CALL_FIELDS) to NULL.
    legal_hold: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    personal_erased_at: datetime | None = _utc(nullable=True)
    # A non-data call logged by mistake is withdrawn, not deleted: kept and audited, it is left
    # out of every figure. Only non-data calls are ever withdrawn.
    withdrawn_at: datetime | None = _utc(nullable=True)
    withdrawn_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    # The intake form's own UUID, made when the form starts and kept in its draft: saving the
    # same form again (a retry, a recovered draft, a second copy) finds this call, never adds one.
    idempotency_key: str | None = Field(default=None, max_length=36)
    # Bumped by every change of the row (SQLAlchemy's version counter: each UPDATE says
    # ``WHERE id = :id AND version = :v``), with who made it (``updated_at`` says when): an
    # edit of a call another seat changed since it was opened is refused (store.versions).
    # ``updated_by_id`` is NULL until the call is first changed after it was logged.
    version: int = Field(default=1, sa_column=CALL_VERSION)
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class CallTopic(SQLModel, table=True):
    __tablename__ = "call_topic"
    __table_args__ = (sa.Index("ix_call_topic_topic", "topic_code", "call_id"),)

    call_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    )
    topic_code: str = Field(foreign_key="topic.code", primary_key=True, max_length=80)
    is_primary: bool = False


class CallOutcome(SQLModel, table=True):
    __tablename__ = "call_outcome"
    __table_args__ = (sa.Index("ix_call_outcome_outcome", "outcome", "call_id"),)

    call_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    )
    outcome: str = Field(primary_key=True, max_length=40)
    referred_to: str = Field(default="", primary_key=True, max_length=40)  # "" unless referred


class Figure(SQLModel, table=True):
    """The rollup (advice_desk.figures): how many calls of a UK day (``span`` "d") or of a
    month (``span`` "m", ``period`` its first day) fall in each category of each measure.
    Kept in step with every write to the calls, in the same transaction."""

    __tablename__ = "figure"

    span: str = Field(primary_key=True, max_length=1)
    period: date = Field(primary_key=True)
    measure: str = Field(primary_key=True, max_length=20)
    category: str = Field(primary_key=True, max_length=80)
    calls: int = 0


class FigureDuration(SQLModel, table=True):
    """The rollup's histogram of durations in whole seconds (calls with content), by day and
    by month as :class:`Figure`: the median and 90th percentile come out exact."""

    __tablename__ = "figure_duration"

    span: str = Field(primary_key=True, max_length=1)
    period: date = Field(primary_key=True)
    seconds: int = Field(primary_key=True)
    calls: int = 0


class AuditEvent(SQLModel, table=True):
    """Who did what, when. Append-only: the database itself refuses updates and deletes."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc(index=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    actor: str = Field(max_length=120)  # the name at the time; the command line has no user row
    action: str = Field(max_length=40, index=True)
    subject: str | None = Field(default=None, max_length=120)  # e.g. "call 123", "user amy"
    detail: str | None = _text()  # JSON; never personal values
    # The chain (advice_desk.store.audit_chain): the event's position in the trail, from 1, and
    # the HMAC-SHA256 of its content and the previous event's link. NULL only on an event added
    # outside the app, which ``audit verify`` reports.
    seq: int | None = None
    link: str | None = Field(default=None, max_length=64)


class AuditChain(SQLModel, table=True):
    """One row: the store's id (which names this PC's anchor file of it, and is bound into the
    chain's first link) and the fingerprint of the audit key its chain is made with."""

    __tablename__ = "audit_chain"

    store_id: str = Field(primary_key=True, max_length=36)
    key_id: str | None = Field(default=None, max_length=16)


class Setting(SQLModel, table=True):
    __tablename__ = "setting"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON


class Draft(SQLModel, table=True):
    """The intake form as the worker left it: one per worker, kept until saved or discarded."""

    __tablename__ = "draft"

    user_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    )
    updated_at: datetime = _utc()
    payload: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON of the form
