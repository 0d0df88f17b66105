"""Which stored fields identify people. The one place that decides it.

Exports, logs, retention and erasure read this classification; nothing else decides what is
personal. A test fails when a column is added to a table without being classified here.
"""

from __future__ import annotations

from enum import StrEnum


class Sensitivity(StrEnum):
    PERSONAL = "personal"  # a direct identifier or free text: erased by retention, never exported
    QUASI = "quasi"  # identifies in combination (dates, place, ages, caller type): only coarsened
    STAFF = "staff"  # identifies a worker, not a caller: kept, never exported
    PLAIN = "plain"  # a category or flag that identifies nobody


P, Q, S, N = Sensitivity.PERSONAL, Sensitivity.QUASI, Sensitivity.STAFF, Sensitivity.PLAIN

CALL_FIELDS: dict[str, Sensitivity] = {
    "id": N,
    "kind": N,
    "started_at": Q,
    "local_date": Q,
    "local_minute": Q,
    "ended_at": Q,
    "duration_s": Q,
    "channel": N,
    "direction": N,
    "in_hours": Q,  # derived from the start time
    "worker_id": S,
    "caller_type": Q,
    "arrangement": Q,
    "local_authority": Q,
    "children_count": Q,
    "children_age_bands": Q,
    "follow_up_on": Q,
    "follow_up_note": P,
    "follow_up_done_at": Q,
    "safeguarding": N,
    "first_time_caller": N,
    "how_heard": N,
    "consent_to_store_details": N,
    "caller_name": P,
    "caller_phone": P,
    "caller_email": P,
    "caller_postcode": P,
    "notes": P,
    "reviewed_by_id": S,
    "reviewed_at": Q,
    "review_note": P,
    "created_at": Q,
    "updated_at": Q,
    "legal_hold": N,
    "personal_erased_at": Q,
    "withdrawn_at": Q,
    "withdrawn_by_id": S,
    "idempotency_key": N,  # a random UUID of the form the call was typed in
    "version": N,  # how many times the row was written: a counter, no content
    "updated_by_id": S,
}

# Fields the worker may only fill when the caller agrees to their details being stored.
CONSENT_GATED_FIELDS: tuple[str, ...] = (
    "caller_name", "caller_phone", "caller_email", "caller_postcode",
)


def call_fields(sensitivity: Sensitivity) -> tuple[str, ...]:
    return tuple(name for name, s in CALL_FIELDS.items() if s is sensitivity)


PERSONAL_CALL_FIELDS = call_fields(Sensitivity.PERSONAL)
