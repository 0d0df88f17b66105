"""A saved call as a short, readable page: for the supervisor reviewing it."""

from __future__ import annotations

from html import escape

from advice_desk.calls.record import StoredCall
from advice_desk.clock import to_uk
from advice_desk.gui.dates import minutes_text, shown_date, shown_date_time
from advice_desk.reference import lists as reference


def call_summary_html(call: StoredCall, topic_labels: dict[str, str], held: bool = False) -> str:
    """The call as a page; ``held``: the call is on legal hold, said under its title."""
    h = reference.helpline()
    labels = {c.code: c.label for c in (*h.caller_types, *h.arrangements, *h.outcomes,
                                        *h.referral_targets, *h.channels, *h.directions,
                                        *h.how_heard)}
    d = call.details
    authority = reference.any_local_authority_by_code().get(d.local_authority or "")
    seconds = (d.ended_at - d.started_at).total_seconds() if d.ended_at else None
    rows = [
        ("Started", shown_date_time(d.started_at)),
        ("Duration", minutes_text(seconds) or "–"),
        ("In hours", {True: "yes", False: "no", None: "–"}[call.in_hours]),
        ("Channel", f"{labels.get(d.channel, d.channel)}, {labels.get(d.direction, d.direction)}"),
        ("Caller", labels.get(d.caller_type or "", "–")),
        ("Arrangement", labels.get(d.arrangement or "", "–")),
        ("Local authority", authority.label if authority else "–"),
        ("Children", str(d.children_count or "–")),
        ("Topics", ", ".join(topic_labels.get(t, t) for t in d.topics)),
        ("Outcomes", ", ".join(labels.get(o, o) for o in d.outcomes)),
        ("Referred to", ", ".join(labels.get(r, r) for r in d.referred_to) or "–"),
        ("Safeguarding", "yes" if d.safeguarding else "no"),
        ("Follow-up", f"{shown_date(d.follow_up_on)}: {d.follow_up_note or ''}"
         if d.follow_up_on else "–"),
        ("Notes", d.notes or "–"),
        ("Reviewed", _reviewed(call)),
        ("Legal hold", "yes: retention and erasure leave this call alone" if held else "no"),
    ]
    body = "".join(f"<tr><th align=left valign=top>{escape(k)}</th><td>{escape(v)}</td></tr>"
                   for k, v in rows)
    title = f"Call {call.id}" + (" — on legal hold" if held else "")
    return f"<h3>{escape(title)}</h3><table cellspacing=4>{body}</table>"


def _reviewed(call: StoredCall) -> str:
    if call.reviewed_at is None:
        return "not yet"
    when = to_uk(call.reviewed_at).strftime("%d %b %Y %H:%M")
    return f"{when}: {call.review_note}" if call.review_note else when
