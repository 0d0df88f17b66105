"""The row-level funder extract: one row per call with coarse fields only, k-anonymous.

Which fields may leave, and how coarsely, follows the personal-data classification: personal
fields never; quasi-identifiers only coarsened (month not date, region not authority, bands not
numbers); staff fields never. Every combination of the quasi-identifying columns appears at
least k times: rows in rarer combinations have those columns generalised to ``*``, one column
at a time, until the rule holds. "Repeat caller" compares an HMAC of the caller's phone number
or email, keyed with a secret kept outside the store, never the number itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from advice_desk.privacy.classification import CALL_FIELDS, Sensitivity
from advice_desk.privacy.identity import normalise_phone
from advice_desk.reference import lists as reference
from advice_desk.settings import EXPORT_K
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, CallOutcome, CallTopic

SUPPRESSED = "*"
COLUMNS = ("month", "weekday", "in_hours", "duration_band", "caller_type", "arrangement",
           "region", "topics", "outcomes", "repeat_caller", "children_band")
# The stored field each column is made from. The classification (privacy/classification.py)
# decides the rest: a quasi-identifying source makes a column that k-anonymity may generalise;
# a personal source may only leave as a keyed hash reduced to yes/no; a staff source never
# leaves.
SOURCES = {"month": "local_date", "weekday": "local_date", "in_hours": "in_hours",
           "duration_band": "duration_s", "caller_type": "caller_type",
           "arrangement": "arrangement", "region": "local_authority", "topics": None,
           "outcomes": None, "repeat_caller": "caller_phone", "children_band": "children_count"}
HASHED = ("repeat_caller",)
# Generalised first to last: the least useful detail goes first.
GENERALISE_ORDER = ("weekday", "duration_band", "children_band", "region", "arrangement",
                    "caller_type", "month")
QUASI_COLUMNS = tuple(c for c in GENERALISE_ORDER
                      if CALL_FIELDS[SOURCES[c] or ""] is Sensitivity.QUASI)


def unsafe_columns() -> list[str]:
    """Columns whose source the classification forbids to leave (a test keeps this empty)."""
    forbidden = (Sensitivity.PERSONAL, Sensitivity.STAFF)
    return [column for column, source in SOURCES.items()
            if source and CALL_FIELDS[source] in forbidden and column not in HASHED]
DURATION_BANDS = ((5, "0-4 min"), (15, "5-14 min"), (30, "15-29 min"), (60, "30-59 min"))
# Text no spreadsheet reads as a number (LibreOffice takes "3+" for 3).
CHILDREN_BANDS = ("no children", "1 child", "2 children", "3 or more")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def duration_band(seconds: int | None) -> str:
    if seconds is None:
        return "unknown"
    minutes = seconds // 60
    return next((band for limit, band in DURATION_BANDS if minutes < limit), "60+ min")


def children_band(count: int | None) -> str:
    if count is None:
        return "unknown"
    return CHILDREN_BANDS[min(count, 3)]


class ExportKeyError(Exception):
    """The export key may be read by other accounts: it is not used until it is private."""


def load_secret(path: Path) -> bytes:
    """The export key, made on first use readable by its owner only: created with mode 0600
    in one step (``O_EXCL``), never written first and narrowed after. A key that other
    accounts may read is refused, with the command that makes it private."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "wb") as made:
            made.write(secrets.token_bytes(32))
            made.flush()
            os.fsync(made.fileno())
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ExportKeyError(
            f"the export key {path} may be read by other accounts on this PC (mode "
            f"{stat.S_IMODE(path.stat().st_mode):04o}), so it is not used; make it yours alone "
            f"with: chmod 600 {path}")
    return path.read_bytes()


def caller_key(phone: str | None, email: str | None, secret: bytes) -> str | None:
    """A keyed hash of who called: the same person gives the same key, nobody can reverse it."""
    identity = normalise_phone(phone) or (email or "").strip().casefold()
    if not identity:
        return None
    return hmac.new(secret, identity.encode(), hashlib.sha256).hexdigest()


def extract_rows(store: Store, date_from: date, date_to: date, secret: bytes,
                 k: int = EXPORT_K.default) -> list[tuple[str, ...]]:
    """Rows for the calls with content in the period, k-anonymous over the quasi columns."""
    rows = list(_coarse_rows(store, date_from, date_to, secret))
    return generalise(rows, k)


def _coarse_rows(store: Store, date_from: date, date_to: date, secret: bytes
                 ) -> Iterable[dict[str, str]]:
    regions = {la.code: la.region for la in reference.local_authorities()}
    in_period = (col(Call.local_date).between(date_from, date_to), col(Call.kind) == "data")
    with store.read() as session:
        # Only the columns the extract is made from: a million whole calls would not fit.
        # (More columns than sqlmodel's select() is typed for: SQLAlchemy's, on the connection.)
        calls = session.connection().execute(sa.select(
            col(Call.id), col(Call.local_date), col(Call.in_hours), col(Call.duration_s),
            col(Call.caller_type), col(Call.arrangement), col(Call.local_authority),
            col(Call.children_count), col(Call.caller_phone), col(Call.caller_email))
            .where(*in_period).order_by(col(Call.id))).all()
        topics = _codes_by_call(session.exec(
            select(col(CallTopic.call_id), col(CallTopic.topic_code)).join(
                Call, col(Call.id) == col(CallTopic.call_id)).where(*in_period)).all())
        outcomes = _codes_by_call(session.exec(
            select(col(CallOutcome.call_id), col(CallOutcome.outcome)).join(
                Call, col(Call.id) == col(CallOutcome.call_id)).where(*in_period)).all())
    keys = {c[0]: caller_key(c[8], c[9], secret) for c in calls}
    seen = Counter(key for key in keys.values() if key)
    for (call_id, local_date, in_hours, duration_s, caller_type, arrangement, authority,
         children, _, _) in calls:
        assert call_id is not None and local_date is not None  # stored, and in the period
        key = keys[call_id]
        yield {
            "month": f"{local_date:%Y-%m}",
            "weekday": WEEKDAYS[local_date.weekday()],
            "in_hours": "yes" if in_hours else "no",
            "duration_band": duration_band(duration_s),
            "caller_type": caller_type or "unknown",
            "arrangement": arrangement or "unknown",
            "region": regions.get(authority or "", "unknown"),
            "topics": ";".join(sorted({t.split(".")[0] for t in topics.get(call_id, ())})),
            "outcomes": ";".join(sorted(set(outcomes.get(call_id, ())))),
            "repeat_caller": "unknown" if key is None else ("yes" if seen[key] > 1 else "no"),
            "children_band": children_band(children),
        }


def _codes_by_call(pairs: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = {}
    for call_id, code in pairs:
        codes.setdefault(call_id, []).append(code)
    return codes


def generalise(rows: list[dict[str, str]], k: int) -> list[tuple[str, ...]]:
    """Write ``*`` in quasi columns of rows whose combination is rarer than k, a column at a
    time; rows that stay rarer than k even with every quasi column ``*`` are left out."""
    for column in QUASI_COLUMNS:
        counts = Counter(_quasi(row) for row in rows)
        rare = [row for row in rows if counts[_quasi(row)] < k]
        if not rare:
            break
        for row in rare:
            row[column] = SUPPRESSED
    counts = Counter(_quasi(row) for row in rows)
    return [tuple(row[c] for c in COLUMNS) for row in rows if counts[_quasi(row)] >= k]


def _quasi(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row[c] for c in QUASI_COLUMNS)
