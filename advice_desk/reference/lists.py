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
    successors: tuple[str, ...] = ()  # a retired code: the code(s) its area has now

    @property
    def retired(self) -> bool:
        return bool(self.successors)

    @property
    def label(self) -> str:
        """What a reader sees: the name, and "(retired)" after a code no longer in use."""
        return f"{self.name} (retired)" if self.retired else self.name


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
def retired_local_authorities() -> tuple[LocalAuthority, ...]:
    """Codes no longer in use (ONS recodes an authority when its area changes), each with the
    code(s) of the authorities that cover its area now: one for a merger, an abolished county
    or a recoding; several when it was split."""
    with resource_path("retired_local_authorities.json").open(encoding="utf-8") as f:
        rows = json.load(f)
    return tuple(LocalAuthority(r["code"], r["name"], r["region"], tuple(r["successors"]))
                 for r in rows)


@cache
def any_local_authority_by_code() -> dict[str, LocalAuthority]:
    """Every code a stored call may hold: the ones in use and the retired ones."""
    return {la.code: la for la in (*retired_local_authorities(), *local_authorities())}


def authority_label(code: str) -> str:
    """The name of the authority a stored code stands for ("… (retired)" for a retired one);
    an unknown code as it is."""
    authority = any_local_authority_by_code().get(code)
    return authority.label if authority else code


def current_authority_code(code: str) -> str:
    """The code in use for ``code``: a retired code with one successor is an alias of it; any
    other code (in use, split, unknown) is itself."""
    authority = any_local_authority_by_code().get(code)
    if authority is not None and len(authority.successors) == 1:
        return authority.successors[0]
    return code


@cache
def _authority_codes_by_name_and_code() -> dict[str, str]:
    """Authorities in use by lower-case name and code; a retired one with a single successor
    by its code and its old name, mapped to the successor (a name in use wins)."""
    found = {la.code.casefold(): la.successors[0] for la in retired_local_authorities()
             if len(la.successors) == 1}
    found.update({la.name.casefold(): la.successors[0] for la in retired_local_authorities()
                  if len(la.successors) == 1})
    found.update({la.name.casefold(): la.code for la in local_authorities()})
    found.update({la.code.casefold(): la.code for la in local_authorities()})
    return found


@cache
def _split_by_name_and_code() -> dict[str, LocalAuthority]:
    current = {la.name.casefold() for la in local_authorities()}
    found = {la.name.casefold(): la for la in retired_local_authorities()
             if len(la.successors) > 1 and la.name.casefold() not in current}
    found.update({la.code.casefold(): la for la in retired_local_authorities()
                  if len(la.successors) > 1})
    return found


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def local_authority_named(text: str) -> str | None:
    """The GSS code of the authority ``text`` names or codes, whatever its case and spacing:
    a retired code (or old name) with one successor gives the successor. None when no
    authority in use is named or coded so (see :func:`split_authority_named`)."""
    return _authority_codes_by_name_and_code().get(_key(text))


def split_authority_named(text: str) -> LocalAuthority | None:
    """The retired authority ``text`` names or codes when its area was split between several
    authorities, so that no one code can replace it; None otherwise."""
    return _split_by_name_and_code().get(_key(text))


@cache
def _retired_by_label() -> dict[str, str]:
    return {la.label.casefold(): la.code for la in retired_local_authorities()}


def retired_authority_labelled(text: str) -> str | None:
    """The code of the retired authority whose label ("Cumbria (retired)", as an edited call
    shows it) ``text`` is; None otherwise."""
    return _retired_by_label().get(_key(text))


def successors_named(authority: LocalAuthority) -> str:
    """A split authority's successors, for a message: "Cumberland (E06000063) or …"."""
    by_code = local_authority_by_code()
    return " or ".join(f"{by_code[code].name} ({code})" if code in by_code else code
                       for code in authority.successors)
