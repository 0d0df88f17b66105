"""Alembic environment: migrations run on the connection the store hands over.

The store opens the write transaction itself (``BEGIN IMMEDIATE`` on SQLite), so two copies of
the app starting at once cannot both migrate. Batch mode lets SQLite alter tables. Revisions are
rendered with plain SQLAlchemy types, so old revisions never depend on today's model code.
"""

from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import advice_desk.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from advice_desk.store.models import UTCDateTime
from advice_desk.store.search_index import in_models_schema


def _render_plain_types(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


connection: sa.Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through advice_desk.store.engine.open_store")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
    render_item=_render_plain_types,
    include_name=in_models_schema,  # the search index is no model (migration 0004)
)
with context.begin_transaction():
    context.run_migrations()
