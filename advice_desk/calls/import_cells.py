"""How one cell of an imported spreadsheet reads as a call field (:mod:`.importer`).

Codes and labels match whatever their case and spacing; a code a cell names that is not known
is kept as written, for :func:`advice_desk.calls.record.validate` to report with the rest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from advice_desk.calls.limits import MAX_CALL_LENGTH
from advice_desk.clock import parse_instant
from advice_desk.reference import lists as reference
from advice_desk.store.models import Topic

REFERRED = "referred"
MAX_CALL_MINUTES = int(MAX_CALL_LENGTH.total_seconds()) // 60
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# No line kept its calls before this: an earlier date is a typing slip (1900-01-01 is what a
# spreadsheet shows for a day 0).
EARLIEST = date(2000, 1, 1)


class CellError(ValueError):
    """A cell cannot be read; the message is the reason shown to the user."""


def key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _lookup(choices: Sequence[reference.Choice]) -> dict[str, str]:
    """Code by lower-case label and by lower-case code (a code wins over another's label)."""
    found = {key(c.label): c.code for c in choices}
    found.update({key(c.code): c.code for c in choices})
    return found


@dataclass(frozen=True)
class Vocabulary:
    """Everything a cell may name, by its lower-case code or label."""

    caller_types: dict[str, str]
    arrangements: dict[str, str]
    channels: dict[str, str]
    directions: dict[str, str]
    outcomes: dict[str, str]
    referral_targets: dict[str, str]
    age_bands: dict[str, str]
    topics: dict[str, list[str]]  # a label may be shared by topics under different parents
    allowed_topics: set[str]

    @classmethod
    def of(cls, topics: dict[str, Topic]) -> Vocabulary:
        h = reference.helpline()
        topic_codes: dict[str, list[str]] = {}
        for topic in topics.values():
            topic_codes.setdefault(key(topic.label), []).append(topic.code)
        topic_codes.update({key(code): [code] for code in topics})
        return cls(_lookup(h.caller_types), _lookup(h.arrangements), _lookup(h.channels),
                   _lookup(h.directions), _lookup(h.outcomes), _lookup(h.referral_targets),
                   _lookup(h.age_bands), topic_codes, set(topics))


def items(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(";") if item.strip()]


def known(item: str, codes: dict[str, str]) -> str:
    """The code an item names; an unknown one is kept as written, for validation to report."""
    return codes.get(key(item), item)


def code_of(cell: str, codes: dict[str, str]) -> str | None:
    return known(cell, codes) if cell else None


def read_started_at(cell: str) -> datetime:
    if not cell:
        raise CellError("required")
    try:
        at = parse_instant(cell)
    except ValueError as error:
        raise CellError(str(error)) from None
    if at.year < EARLIEST.year:
        raise CellError(f"{cell!r} is before {EARLIEST.year}: check the year")
    return at


def read_duration(cell: str) -> timedelta | None:
    if not cell:
        return None
    try:
        minutes = float(cell)
    except ValueError:
        raise CellError(f"{cell!r} is not a number of minutes") from None
    if not math.isfinite(minutes) or minutes < 0:
        raise CellError(f"{cell!r} is not a number of minutes")
    if minutes > MAX_CALL_MINUTES:  # a phone number pasted into the wrong column, say
        raise CellError(f"{cell!r} minutes is longer than any call "
                         f"(at most {MAX_CALL_MINUTES})")
    return timedelta(seconds=round(minutes * 60))


def read_date(cell: str) -> date | None:
    if not cell:
        return None
    try:
        if not _DATE.fullmatch(cell):
            raise ValueError(cell)
        day = date.fromisoformat(cell)
    except ValueError:
        raise CellError(f"{cell!r} is not a date: write YYYY-MM-DD") from None
    if day < EARLIEST:
        raise CellError(f"{cell!r} is before {EARLIEST.year}: check the year")
    return day


def read_yes_no(cell: str, default: bool) -> bool:
    answer = key(cell)
    if not answer:
        return default
    if answer not in ("yes", "no"):
        raise CellError(f"{cell!r}: write yes or no")
    return answer == "yes"


def read_authority(cell: str) -> str | None:
    if not cell:
        return None
    code = reference.local_authority_named(cell)  # a retired code's successor, if only one
    if code is not None:
        return code
    split = reference.split_authority_named(cell)
    if split is not None:
        raise CellError(f"{cell!r}: {split.name} ({split.code}) was split between "
                        f"authorities: write {reference.successors_named(split)}")
    raise CellError(f"no local authority is named or coded {cell!r}")


def read_topics(cell: str, vocabulary: Vocabulary) -> tuple[str, ...]:
    codes = []
    for item in items(cell):
        matches = vocabulary.topics.get(key(item), [item])
        if len(matches) > 1:
            raise CellError(f"{item!r} is the label of several topics "
                             f"({', '.join(matches)}): write the code instead")
        codes.append(matches[0])
    return tuple(codes)


def read_outcomes(cell: str, vocabulary: Vocabulary) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Outcome codes and referral targets: ``referred:TARGET`` adds both."""
    outcomes: list[str] = []
    referred_to: list[str] = []
    for item in items(cell):
        code = vocabulary.outcomes.get(key(item))
        if code is None and ":" in item:
            name, target = (part.strip() for part in item.split(":", 1))
            if vocabulary.outcomes.get(key(name)) != REFERRED:
                raise CellError(f"{item!r}: only a referral takes a ':' (referred:TARGET)")
            code = REFERRED
            referred_to.append(known(target, vocabulary.referral_targets))
        if code != REFERRED or REFERRED not in outcomes:
            outcomes.append(code or item)
    return tuple(outcomes), tuple(referred_to)
