"""No silent overwrite: every call carries a version, bumped by every change of its row.

SQLAlchemy's version counter (``Call.__mapper_args__``) writes each change of a call as
``UPDATE call SET …, version = :v + 1 WHERE id = :id AND version = :v``; the bulk updates
(erasure, retention) bump it in their own statement. A form that opened a call keeps the
version it read; saving it names that version, and a call changed since (by another seat, or by
a review, a follow-up ticked off, a legal hold) is refused with :class:`CallChanged`, naming who
changed it and when, so the person can reload it instead of overwriting the other change.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from advice_desk.clock import to_uk

if TYPE_CHECKING:
    from sqlmodel import Session

    from advice_desk.store.models import Call


class CallChanged(Exception):
    """The call was changed since the form read it; the message says by whom and when (UK
    time). ``version`` is the call's version now."""

    def __init__(self, message: str, call_id: int = 0, version: int = 0) -> None:
        super().__init__(message)
        self.call_id, self.version = call_id, version


def _changed(call_id: int, by: str | None, at: datetime, version: int) -> CallChanged:
    when = to_uk(at).strftime("%H:%M on %d %b %Y")
    who = f"by {by} " if by else ""
    return CallChanged(f"call {call_id} was changed {who}at {when} (UK time) since you opened "
                       "it, so your edit was not saved", call_id, version)


def require_version(session: Session, call: Call, expected: int | None) -> None:
    """Refuse the change unless ``call`` is still at ``expected`` (None: the caller read it
    in this transaction, so the version counter alone guards it)."""
    if expected is None or call.version == expected:
        return
    from advice_desk.store.models import User

    editor = session.get(User, call.updated_by_id) if call.updated_by_id is not None else None
    assert call.id is not None
    raise _changed(call.id, editor.display_name if editor else None, call.updated_at,
                   call.version)


def touch(call: Call, by: int | None, at: datetime) -> None:
    """Stamp a change of ``call`` (its version is bumped as the row is written)."""
    call.updated_at, call.updated_by_id = at, by
