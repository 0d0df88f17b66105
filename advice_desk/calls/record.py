"""What a call record holds, and the rules it must follow, whoever enters it.

Pure data and checks: no database and no Qt, so the intake form can build and check a call
before the store has even opened, and the import, the demo and the services share one rule set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

from advice_desk.calls.limits import MAX_CALL_LENGTH, MAX_CHILDREN
from advice_desk.clock import Clock
from advice_desk.json_value import JSONObject
from advice_desk.privacy.classification import CONSENT_GATED_FIELDS
from advice_desk.reference import lists as reference
from advice_desk.validation import FieldError

MAX_FUTURE_START = timedelta(minutes=5)
MAX_TEXT = 10_000
# Where a draft's payload keeps the idempotency key of the form it was typed in: a UUID made
# when the form starts, saved with the call, so saving the same form twice stores one call.
CALL_KEY = "call_key"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().-]+$")
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?(\s*\d[A-Z]{2})?$", re.IGNORECASE)


@dataclass(frozen=True)
class CallDetails:
    """What a worker records about a call with content. ``topics[0]`` is the primary topic."""

    started_at: datetime
    ended_at: datetime | None = None
    channel: str = "phone"
    direction: str = "inbound"
    caller_type: str | None = None
    arrangement: str | None = None
    local_authority: str | None = None
    children_count: int | None = None
    children_age_bands: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    referred_to: tuple[str, ...] = ()
    follow_up_on: date | None = None
    follow_up_note: str | None = None
    safeguarding: bool = False
    first_time_caller: str = "unknown"
    how_heard: str | None = None
    consent_to_store_details: bool = False
    caller_name: str | None = None
    caller_phone: str | None = None
    caller_email: str | None = None
    caller_postcode: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class StoredCall:
    id: int
    kind: str
    worker_id: int
    in_hours: bool | None
    details: CallDetails
    reviewed_at: datetime | None = None
    review_note: str | None = None
    withdrawn_at: datetime | None = None  # a non-data call logged by mistake, not counted
    version: int = 1  # bumped by every change: a save names the version it read (store.versions)


@dataclass(frozen=True)
class SavedDraft:
    """The intake form as its worker left it: the form's own JSON, and when it was saved."""

    payload: JSONObject
    updated_at: datetime


_JSON_DATETIMES = frozenset({"started_at", "ended_at"})
_JSON_DATES = frozenset({"follow_up_on"})
_FIELDS = frozenset(f.name for f in fields(CallDetails))


def details_as_json(details: CallDetails) -> JSONObject:
    """A call as JSON values, the form a draft keeps it in; :func:`details_from_json` reads it
    back. Times and dates as ISO 8601, lists for the tuples."""
    data: JSONObject = {}
    for name in sorted(_FIELDS):
        value = getattr(details, name)
        if isinstance(value, datetime | date):
            data[name] = value.isoformat()
        elif isinstance(value, tuple):
            data[name] = list(value)
        else:
            data[name] = value
    return data


def details_from_json(data: JSONObject) -> CallDetails:
    """The call :func:`details_as_json` wrote; keys it does not know (an older draft's) are
    left out."""
    values: dict[str, object] = {}
    for name, value in data.items():
        if name not in _FIELDS:
            continue
        if name in _JSON_DATETIMES:
            values[name] = datetime.fromisoformat(value) if isinstance(value, str) else None
        elif name in _JSON_DATES:
            values[name] = date.fromisoformat(value) if isinstance(value, str) else None
        elif isinstance(value, list):
            values[name] = tuple(value)
        else:
            values[name] = value
    return CallDetails(**values)  # type: ignore[arg-type]  # the keys are CallDetails' fields


# --- validation --------------------------------------------------------------------------

def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _authority(code: str | None) -> str | None:
    """The code in use: a retired code with one successor is stored as the successor."""
    code = _clean(code)
    return None if code is None else reference.current_authority_code(code)


def normalise(details: CallDetails) -> CallDetails:
    """Trim text, drop details the caller did not agree to, and fill what follows from the rest."""
    def text(name: str) -> str | None:
        if name in CONSENT_GATED_FIELDS and not details.consent_to_store_details:
            return None
        value: str | None = getattr(details, name)
        return _clean(value)

    children = details.children_count
    if children is None and details.children_age_bands:
        children = len(details.children_age_bands)
    referred = details.referred_to if "referred" in details.outcomes else ()
    return replace(details, caller_name=text("caller_name"), caller_phone=text("caller_phone"),
                   caller_email=text("caller_email"), caller_postcode=text("caller_postcode"),
                   notes=text("notes"), follow_up_note=text("follow_up_note"),
                   children_count=children, referred_to=referred,
                   local_authority=_authority(details.local_authority))


def validate(details: CallDetails, allowed_topics: set[str], clock: Clock,
             kept_authority: str | None = None) -> list[FieldError]:
    """Every problem with a call, each naming its field. Expects :func:`normalise`d details.
    ``kept_authority``: an edited call's stored authority, which may stay on it though its code
    is retired (split between authorities); it cannot be newly chosen."""
    h = reference.helpline()
    errors: list[FieldError] = []

    def check_code(name: str, value: str | None, choices: Iterable[reference.Choice],
                   required: bool = True) -> None:
        if value is None:
            if required:
                errors.append(FieldError(name, "required"))
        elif value not in {c.code for c in choices}:
            errors.append(FieldError(name, f"unknown code {value!r}"))

    errors += _check_times(details, clock)
    check_code("channel", details.channel, h.channels)
    check_code("direction", details.direction, h.directions)
    check_code("caller_type", details.caller_type, h.caller_types)
    check_code("arrangement", details.arrangement, h.arrangements)
    check_code("first_time_caller", details.first_time_caller, h.first_time_caller)
    check_code("how_heard", details.how_heard, h.how_heard, required=False)
    authority = details.local_authority
    if (authority and authority not in reference.local_authority_by_code()
            and authority != kept_authority):
        split = reference.split_authority_named(authority)
        errors.append(FieldError("local_authority", f"unknown GSS code {authority!r}"
                                 if split is None else f"{split.name} ({authority}) was split: "
                                 f"choose {reference.successors_named(split)}"))
    errors += _check_children(details)
    errors += _check_list("topics", details.topics, allowed_topics, "topic")
    errors += _check_list("outcomes", details.outcomes, {c.code for c in h.outcomes}, "outcome")
    if "referred" in details.outcomes and not details.referred_to:
        errors.append(FieldError("referred_to", "say who the caller was referred to"))
    errors += _check_list("referred_to", details.referred_to,
                          {c.code for c in h.referral_targets}, "referral", required=False)
    if details.follow_up_note and details.follow_up_on is None:
        errors.append(FieldError("follow_up_on", "a follow-up note needs a follow-up date"))
    errors += _check_contact(details)
    return errors


def _check_times(details: CallDetails, clock: Clock) -> list[FieldError]:
    errors = []
    if details.started_at.tzinfo is None:
        return [FieldError("started_at", "has no time zone")]
    if details.started_at > clock.now() + MAX_FUTURE_START:
        errors.append(FieldError("started_at", "is in the future"))
    if details.ended_at is not None:
        if details.ended_at < details.started_at:
            errors.append(FieldError("ended_at", "is before the start of the call"))
        elif details.ended_at - details.started_at > MAX_CALL_LENGTH:
            errors.append(FieldError("ended_at", "makes the call longer than 12 hours"))
    return errors


def _check_children(details: CallDetails) -> list[FieldError]:
    errors = []
    bands = {c.code for c in reference.helpline().age_bands}
    count = details.children_count
    if count is not None and not 0 <= count <= MAX_CHILDREN:
        errors.append(FieldError("children_count", f"must be between 0 and {MAX_CHILDREN}"))
    errors += [FieldError("children_age_bands", f"unknown age band {b!r}")
               for b in details.children_age_bands if b not in bands]
    if count is not None and len(details.children_age_bands) > count:
        errors.append(FieldError("children_age_bands", "more age bands than children"))
    return errors


def _check_list(name: str, values: tuple[str, ...], allowed: set[str], what: str,
                required: bool = True) -> list[FieldError]:
    if not values:
        return [FieldError(name, f"choose at least one {what}")] if required else []
    errors = [FieldError(name, f"unknown {what} {v!r}") for v in values if v not in allowed]
    if len(set(values)) != len(values):
        errors.append(FieldError(name, f"the same {what} is chosen twice"))
    return errors


def _check_contact(details: CallDetails) -> list[FieldError]:
    errors = []
    if details.caller_email and not _EMAIL.match(details.caller_email):
        errors.append(FieldError("caller_email", "is not an email address"))
    if details.caller_phone and not (
            _PHONE.match(details.caller_phone)
            and 6 <= sum(ch.isdigit() for ch in details.caller_phone) <= 15):
        errors.append(FieldError("caller_phone", "is not a phone number"))
    if details.caller_postcode and not _POSTCODE.match(details.caller_postcode):
        errors.append(FieldError("caller_postcode", "is not a UK postcode"))
    for name in ("notes", "follow_up_note", "caller_name"):
        if len(getattr(details, name) or "") > MAX_TEXT:
            errors.append(FieldError(name, f"is longer than {MAX_TEXT} characters"))
    return errors
