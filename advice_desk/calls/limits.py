"""How long a call and how many children a call can record: the record's rules check these,
and the intake form sizes its number boxes by them before the window's first paint, without
loading the record's rules (PRODUCT.md §11)."""

from __future__ import annotations

from datetime import timedelta

MAX_CALL_LENGTH = timedelta(hours=12)
MAX_CHILDREN = 20
