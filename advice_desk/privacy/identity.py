"""Who a caller is, as the store can tell: by name, phone number or email address, each
compared in one normal form so that ``07911 123456`` and ``+44 7911 123456`` are one person.

The funder extract keys repeat callers by the same normal form; subject access and erasure
find a person by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SearchBy = Literal["name", "phone", "email"]
SEARCH_BY: tuple[SearchBy, ...] = ("name", "phone", "email")
MIN_PHONE_DIGITS = 6  # fewer digits than this would find strangers


class SearchError(ValueError):
    """The person to look for is not described well enough; the message says why."""


def normalise_phone(phone: str | None) -> str:
    """UK numbers in any format as one form: 07911 123456 and +44 7911 123456 match."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("44"):
        digits = "0" + digits[2:]
    return digits


def normal_form(by: SearchBy, stored: str | None) -> str:
    """A stored name, phone or email as searches compare it: any case, spaces around ignored,
    phone numbers in any format."""
    if by == "phone":
        return normalise_phone(stored)
    return (stored or "").strip().casefold()


@dataclass(frozen=True)
class PersonQuery:
    """A person to look for: exactly one of their name, phone number or email address."""

    by: SearchBy
    value: str

    @classmethod
    def given(cls, name: str | None = None, phone: str | None = None,
              email: str | None = None) -> PersonQuery:
        """The query of whichever one option is given (the command line's three)."""
        given = [(by, value) for by, value in zip(SEARCH_BY, (name, phone, email), strict=True)
                 if value is not None]
        if len(given) != 1:
            raise SearchError("give exactly one of a name, a phone number or an email address")
        ((by, value),) = given
        return cls(by, value)

    def key(self) -> str:
        """The value in its normal form; SearchError when it could not find anyone for sure."""
        key = normal_form(self.by, self.value)
        if self.by == "phone" and len(key) < MIN_PHONE_DIGITS:
            raise SearchError("the phone number has too few digits")
        if not key:
            raise SearchError(f"the {'name' if self.by == 'name' else 'email address'} is empty")
        return key
