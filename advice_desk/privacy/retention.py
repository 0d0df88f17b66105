"""Retention (PRODUCT.md §7): the personal details of a call are kept for the retention period
(the ``retention_months`` setting) and then erased, unless the call is on legal hold. The app
applies it at every start; the command line on demand. Erasure works as in
:mod:`advice_desk.privacy.erasure`: the calls and their statistics stay.
"""

from __future__ import annotations

from sqlmodel import col, select

from advice_desk.clock import Clock, months_before
from advice_desk.people import audit
from advice_desk.people.permissions import Action, Actor, require
from advice_desk.privacy.erasure import erase_calls, has_personal_data
from advice_desk.settings import RETENTION_MONTHS, Settings
from advice_desk.store.engine import Store
from advice_desk.store.models import Call


def apply_retention(store: Store, actor: Actor, clock: Clock, months: int | None = None,
                    dry_run: bool = False) -> int:
    """Erase the personal fields of every call that started more than ``months`` (default:
    the ``retention_months`` setting) before now and is not on legal hold. Returns how many
    calls were (with ``dry_run``: would be) erased; running it again erases none.

    A function, not a manager's method: the app runs it at start-up, before anyone signs in.
    """
    require(actor, Action.ERASE)
    months = Settings(store, actor, clock).retention_months() if months is None else months
    RETENTION_MONTHS.check(months)
    now = clock.now()
    due = select(Call.id).where(col(Call.started_at) < months_before(now, months),
                                col(Call.legal_hold).is_(False), has_personal_data())
    if dry_run:
        with store.read() as session:
            return len(session.exec(due).all())
    with store.write() as session:
        ids = [i for i in session.exec(due).all() if i is not None]
        if ids:
            erase_calls(session, ids, now, actor.id)
        audit.record(session, clock, actor, "retention", None,
                     {"calls": len(ids), "months": months})
    if ids:
        store.purge_erased()
    return len(ids)
