"""The fixed code lists a call is described with, read from ``resources/``.

Codes are the stable keys stored on calls and exported to funders; labels are what people read.
Only the taxonomy is editable in the app (it lives in the store); these lists change by editing
the resource files, so another helpline can reuse the app without changing code.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache

from advice_desk.resources import resource_path


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True, slots=True)
class LocalAuthority:
    code: str  # GSS code: E06/E08/E09/E10 (England) or W06 (Wales)
    name: str
    region: str


@dataclass(frozen=True, slots=True)
class NonDataKind:
    code: str
    label: str
    key: str  # the one key that logs it


@dataclass(frozen=True, slots=True)
class DefaultTopic:
    code: str
    label: str
    parent_code: str | None
    position: int


@dataclass(frozen=True, slots=True)
class Helpline:
    name: str
    caller_types: tuple[Choice, ...]
    arrangements: tuple[Choice, ...]
    outcomes: tuple[Choice, ...]
    referral_targets: tuple[Choice, ...]
    channels: tuple[Choice, ...]
    directions: tuple[Choice, ...]
    age_bands: tuple[Choice, ...]
    first_time_caller: tuple[Choice, ...]
    how_heard: tuple[Choice, ...]
    non_data_kinds: tuple[NonDataKind, ...]


def _choices(items: list[dict[str, str]]) -> tuple[Choice, ...]:
    return tuple(Choice(item["code"], item["label"]) for item in items)


@cache
def helpline() -> Helpline:
    with resource_path("helpline.toml").open("rb") as f:
        data = tomllib.load(f)
    return Helpline(
        name=data["name"],
        caller_types=_choices(data["caller_types"]),
        arrangements=_choices(data["arrangements"]),
        outcomes=_choices(data["outcomes"]),
        referral_targets=_choices(data["referral_targets"]),
        channels=_choices(data["channels"]),
        directions=_choices(data["directions"]),
        age_bands=_choices(data["age_bands"]),
        first_time_caller=_choices(data["first_time_caller"]),
        how_heard=_choices(data["how_heard"]),
        non_data_kinds=tuple(
            NonDataKind(k["code"], k["label"], k["key"]) for k in data["non_data_kinds"]
        ),
    )


@cache
def local_authorities() -> tuple[LocalAuthority, ...]:
    with resource_path("local_authorities.json").open(encoding="utf-8") as f:
        rows = json.load(f)
    return tuple(LocalAuthority(r["code"], r["name"], r["region"]) for r in rows)


@cache
def local_authority_by_code() -> dict[str, LocalAuthority]:
    return {la.code: la for la in local_authorities()}


@cache
def default_topics() -> tuple[DefaultTopic, ...]:
    """The taxonomy a new store starts with, in display order."""
    with resource_path("taxonomy.toml").open("rb") as f:
        data = tomllib.load(f)
    topics: list[DefaultTopic] = []
    for position, top in enumerate(data["topics"]):
        topics.append(DefaultTopic(top["code"], top["label"], None, position))
        for sub_position, (code, label) in enumerate(top["subtopics"]):
            topics.append(DefaultTopic(f"{top['code']}.{code}", label, top["code"], sub_position))
    return tuple(topics)


@cache
def _authority_codes_by_name_and_code() -> dict[str, str]:
    found = {la.name.casefold(): la.code for la in local_authorities()}
    found.update({la.code.casefold(): la.code for la in local_authorities()})
    return found


def local_authority_named(text: str) -> str | None:
    """The GSS code of the authority ``text`` names or codes, whatever its case and spacing;
    None when no authority is named or coded so."""
    return _authority_codes_by_name_and_code().get(" ".join(text.split()).casefold())
