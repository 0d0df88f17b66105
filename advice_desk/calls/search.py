"""Searching the calls by the words of their notes and caller names, on either engine.

What the user typed is never read as query syntax: it is split into words and each word becomes
a phrase of its own (on SQLite a double-quoted FTS5 string, quotes inside doubled; on
PostgreSQL ``phraseto_tsquery``), all of which a call must contain. So ``o'brien`` finds
"O'Brien", ``"`` or ``AND (`` find what they say, and no input can raise a syntax error.
Case and accents do not matter; words are not stemmed (names stay names).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import col

from advice_desk.store.models import Call
from advice_desk.store.search_index import POSTGRESQL_DOCUMENT, SQLITE_TABLE

_WORD = re.compile(r"\w")


def words(text: str) -> list[str]:
    """The words of ``text`` that can match: those with a letter or a digit."""
    return [word for word in text.split() if _WORD.search(word)]


def fts5_query(text: str) -> str:
    """``text`` as an FTS5 query of one phrase per word."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in words(text))


def matching_calls(text: str, dialect: str) -> sa.ColumnElement[bool] | None:
    """The condition a call meets when its notes and caller name hold every word of ``text``;
    None when ``text`` has no word (then nothing is filtered)."""
    found = words(text)
    if not found:
        return None
    if dialect == "sqlite":
        index = sa.table(SQLITE_TABLE, sa.column("rowid"), sa.column(SQLITE_TABLE))
        hits = sa.select(index.c.rowid).where(index.c[SQLITE_TABLE].op("MATCH")(
            fts5_query(text)))
        return col(Call.id).in_(hits)
    simple: sa.ColumnElement[str] = sa.literal_column("'simple'::regconfig")
    query: sa.ColumnElement[str] = sa.func.phraseto_tsquery(simple, found[0])
    for word in found[1:]:
        query = query.op("&&")(sa.func.phraseto_tsquery(simple, word))
    return sa.literal_column(POSTGRESQL_DOCUMENT).op("@@")(query)
