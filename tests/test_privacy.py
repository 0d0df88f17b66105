"""The classification of stored fields (PRODUCT.md §2): complete, and right where it matters."""

from __future__ import annotations

import sqlalchemy as sa

from advice_desk.calls.record import CallDetails
from advice_desk.privacy.classification import (
    CALL_FIELDS,
    CONSENT_GATED_FIELDS,
    PERSONAL_CALL_FIELDS,
    Sensitivity,
    call_fields,
)
from advice_desk.store.engine import Store
from advice_desk.store.models import Call


def test_every_column_of_the_call_table_is_classified(store: Store) -> None:
    with store.engine.connect() as connection:
        stored = {column["name"] for column in sa.inspect(connection).get_columns("call")}
    assert stored == set(CALL_FIELDS), (
        f"unclassified: {sorted(stored - set(CALL_FIELDS))}; "
        f"classified but not stored: {sorted(set(CALL_FIELDS) - stored)}")


def test_the_model_and_the_classification_agree() -> None:
    assert {column.name for column in Call.__table__.columns} == set(CALL_FIELDS)


def test_every_field_of_the_form_is_classified() -> None:
    # Form fields that are not columns of their own are stored in other tables.
    elsewhere = {"topics", "outcomes", "referred_to"}
    form = set(CallDetails.__dataclass_fields__)
    assert form - elsewhere <= set(CALL_FIELDS)


def test_the_consent_gated_fields_are_the_callers_contact_details() -> None:
    assert set(CONSENT_GATED_FIELDS) == {"caller_name", "caller_phone", "caller_email",
                                         "caller_postcode"}


def test_contact_details_and_free_text_are_personal() -> None:
    for name in (*CONSENT_GATED_FIELDS, "notes", "follow_up_note", "review_note"):
        assert CALL_FIELDS[name] is Sensitivity.PERSONAL, name
    assert set(PERSONAL_CALL_FIELDS) == {*CONSENT_GATED_FIELDS, "notes", "follow_up_note",
                                         "review_note"}


def test_every_text_column_is_personal() -> None:
    """Free text can hold anything a caller said, so a Text column is personal by default."""
    text_columns = {column.name for column in Call.__table__.columns
                    if type(column.type) is sa.Text}
    assert text_columns
    assert text_columns <= set(PERSONAL_CALL_FIELDS)


def test_quasi_identifiers_are_not_plain() -> None:
    for name in ("started_at", "ended_at", "local_authority", "children_age_bands",
                 "children_count", "caller_type", "arrangement", "follow_up_on"):
        assert CALL_FIELDS[name] is Sensitivity.QUASI, name
    for name in ("worker_id", "reviewed_by_id"):
        assert CALL_FIELDS[name] is Sensitivity.STAFF, name


def test_call_fields_partitions_the_classification() -> None:
    groups = [call_fields(sensitivity) for sensitivity in Sensitivity]
    assert sorted(name for group in groups for name in group) == sorted(CALL_FIELDS)
