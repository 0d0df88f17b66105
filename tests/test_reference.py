"""Reference data shipped in resources/: local authorities, the default taxonomy, code lists.

Funders join on the GSS codes and the code lists, so these tests pin them to PRODUCT.md §2 and §3
exactly; a change here is a change to the product, not a refactor.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from advice_desk.reference import lists as reference
from advice_desk.reference.lists import default_topics, helpline, local_authorities

ENGLISH_REGIONS = {
    "North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West",
}


REFERENCE = Path(__file__).resolve().parent / "fixtures" / "authorities-reference.json"


# --- local authorities ---------------------------------------------------------------------

def test_the_list_is_the_corrected_shared_reference() -> None:
    """tests/fixtures/authorities-reference.json is a copy of the shared reference (its source
    and checksum are in tests/fixtures/README.md): same codes, names and regions."""
    notes = (REFERENCE.parent / "README.md").read_text(encoding="utf-8")
    assert hashlib.sha256(REFERENCE.read_bytes()).hexdigest() in notes
    reference_rows = {code: (name, region)
                      for code, name, region in json.loads(REFERENCE.read_text("utf-8"))}
    ours = {la.code: (la.name, la.region) for la in local_authorities()}
    assert ours == reference_rows



def test_there_are_153_english_and_22_welsh_authorities() -> None:
    authorities = local_authorities()
    assert len(authorities) == 175
    assert sum(la.code.startswith("E") for la in authorities) == 153
    assert sum(la.code.startswith("W") for la in authorities) == 22


def test_authorities_per_gss_prefix() -> None:
    prefixes = Counter(la.code[:3] for la in local_authorities())
    assert prefixes == {"E06": 63, "E08": 36, "E09": 33, "E10": 21, "W06": 22}


def test_codes_are_well_formed_and_unique() -> None:
    codes = [la.code for la in local_authorities()]
    assert all(re.fullmatch(r"[EW]\d{8}", code) for code in codes), codes
    assert len(set(codes)) == len(codes)
    assert set(reference.local_authority_by_code()) == set(codes)


def test_names_are_unique_and_tidy() -> None:
    names = [la.name for la in local_authorities()]
    assert len(set(names)) == len(names)
    assert len({name.casefold() for name in names}) == len(names)  # type-ahead is by name
    assert all(name == name.strip() and name for name in names)


def test_regions_are_the_nine_english_regions_and_wales() -> None:
    authorities = local_authorities()
    assert {la.region for la in authorities} == ENGLISH_REGIONS | {"Wales"}
    for la in authorities:
        if la.code.startswith("W06"):
            assert la.region == "Wales", la
        else:
            assert la.region in ENGLISH_REGIONS, la


@pytest.mark.parametrize(("code", "name", "region"), [
    # The shared reference file had these two in the wrong region; we corrected it.
    ("E10000007", "Derbyshire", "East Midlands"),
    ("E10000019", "Lincolnshire", "East Midlands"),
    # The 2023 reorganisations: new unitary codes, not the old county ones.
    ("E06000063", "Cumberland", "North West"),
    ("E06000064", "Westmorland and Furness", "North West"),
    ("E06000065", "North Yorkshire", "Yorkshire and The Humber"),
    ("E06000066", "Somerset", "South West"),
    ("E06000061", "North Northamptonshire", "East Midlands"),
    ("E08000037", "Gateshead", "North East"),  # recoded from E08000020 in 2013
    ("E08000038", "Barnsley", "Yorkshire and The Humber"),  # recoded 1 April 2025 (LAD25)
    ("E08000039", "Sheffield", "Yorkshire and The Humber"),
    ("E09000001", "City of London", "London"),
    ("E06000053", "Isles of Scilly", "South West"),
    ("E08000025", "Birmingham", "West Midlands"),
    ("E10000015", "Hertfordshire", "East of England"),
    ("E10000016", "Kent", "South East"),
    ("W06000015", "Cardiff", "Wales"),
])
def test_spot_checks(code: str, name: str, region: str) -> None:
    authority = reference.local_authority_by_code()[code]
    assert (authority.name, authority.region) == (name, region)


@pytest.mark.parametrize("retired", [
    "E10000006",  # Cumbria
    "E10000023",  # North Yorkshire county council
    "E10000027",  # Somerset county council
    "E10000021",  # Northamptonshire
    "E08000020",  # Gateshead's old code
    "E08000016",  # Barnsley's code until 2025
    "E08000019",  # Sheffield's code until 2025
])
def test_abolished_codes_are_not_offered(retired: str) -> None:
    assert retired not in reference.local_authority_by_code()


# --- taxonomy ------------------------------------------------------------------------------

TOP_LEVEL = ["financial", "education", "legal", "family", "local-authority", "practical", "other"]

SUBTOPICS = {
    "financial": ["allowances", "benefits", "means-test", "legal-costs", "housing-costs", "debt",
                  "work-and-leave"],
    "education": ["virtual-school", "pupil-premium-plus", "admissions", "send",
                  "attendance-exclusion", "designated-teacher", "post-16"],
    "legal": ["sgo", "cao", "care-proceedings", "parental-responsibility", "legal-aid",
              "support-plan", "adoption"],
    "family": ["contact-birth-parents", "siblings", "behaviour-trauma", "carer-wellbeing",
               "relationship-strain", "identity"],
    "local-authority": ["assessment", "local-offer", "complaints", "therapy-support-fund"],
    "practical": ["housing", "respite-childcare", "peer-support"],
    "other": [],
}


def test_topic_codes_are_unique_and_parents_exist() -> None:
    topics = default_topics()
    codes = [t.code for t in topics]
    assert len(set(codes)) == len(codes)
    for topic in topics:
        if topic.parent_code is None:
            assert "." not in topic.code
        else:
            assert topic.parent_code in codes
            assert topic.code.startswith(topic.parent_code + ".")
            assert "." not in topic.code.removeprefix(topic.parent_code + ".")
        assert topic.label.strip() == topic.label and topic.label


def test_the_top_level_topics_of_the_spec_in_order() -> None:
    tops = sorted((t for t in default_topics() if t.parent_code is None),
                  key=lambda t: t.position)
    assert [t.code for t in tops] == TOP_LEVEL
    assert [t.code for t in default_topics() if t.parent_code is None] == TOP_LEVEL


def test_the_subtopics_of_the_spec_in_order() -> None:
    found: dict[str, list[str]] = {code: [] for code in TOP_LEVEL}
    for topic in sorted(default_topics(), key=lambda t: t.position):
        if topic.parent_code is not None:
            found[topic.parent_code].append(topic.code.split(".", 1)[1])
    assert found == SUBTOPICS


def test_topics_are_listed_parent_first() -> None:
    seen: set[str] = set()
    for topic in default_topics():
        assert topic.parent_code is None or topic.parent_code in seen
        seen.add(topic.code)


# --- code lists (PRODUCT.md §2) ------------------------------------------------------------

CODE_LISTS = {
    "caller_types": ["grandparent", "sibling", "aunt-uncle", "other-relative", "family-friend",
                     "prospective-carer", "parent", "young-person", "professional-social-care",
                     "professional-education", "professional-health", "professional-other",
                     "other"],
    "arrangements": ["sgo", "cao", "kinship-foster", "informal", "private-fostering", "adoption",
                     "in-proceedings", "unknown"],
    "outcomes": ["information", "advice", "signposted", "referred", "callback-arranged",
                 "safeguarding-escalated"],
    "referral_targets": ["virtual-school", "local-authority", "solicitor", "family-rights-group",
                         "citizens-advice", "peer-support", "other"],
    "channels": ["phone", "voicemail-callback", "email", "webchat"],
    "directions": ["inbound", "outbound-callback"],
    "age_bands": ["0-4", "5-10", "11-15", "16-17", "18+"],
    "first_time_caller": ["unknown", "yes", "no"],
    "non_data_kinds": ["silent", "hang-up", "wrong-number", "abusive", "test"],
}


@pytest.mark.parametrize("name", sorted(CODE_LISTS))
def test_code_lists_match_the_spec(name: str) -> None:
    choices = getattr(helpline(), name)
    assert [c.code for c in choices] == CODE_LISTS[name]
    assert all(c.label.strip() for c in choices)
    assert len({c.label for c in choices}) == len(choices)


def test_how_heard_codes_are_unique() -> None:
    codes = [c.code for c in helpline().how_heard]
    assert codes and len(set(codes)) == len(codes)


def test_non_data_calls_each_have_their_own_key() -> None:
    keys = [kind.key for kind in helpline().non_data_kinds]
    assert all(keys) and len(set(keys)) == len(keys)


def test_the_helpline_has_a_name() -> None:
    assert helpline().name.strip()
