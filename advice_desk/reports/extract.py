"""The row-level funder extract: one row per call with coarse fields only, k-anonymous and
l-diverse, made from the calls read once as numbers, never as rows.

Which fields may leave, and how coarsely, follows the personal-data classification: personal
fields never; quasi-identifiers only coarsened (month not date, region not authority, bands not
numbers); staff fields never. The store is read once (:mod:`advice_desk.reports.passes`): the
calls a statement a month, each call's quasi values as one number and what tells its caller;
the topic and outcome link tables along the call id, each (call, code) as a bit.
:mod:`advice_desk.reports.call_numbers` keeps them as arrays (some 40 bytes a call). On the
table of classes they make, :func:`advice_desk.reports.anonymise.search` chooses how coarsely
each column is written and which classes are left out. The file is then written from the
numbers, in an order the export's secret decides: each class's cells are made once, a call's
line is a lookup. "Repeat caller" compares an HMAC of the caller's phone number or email, keyed
with a secret kept outside the store, never the number itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import col

from advice_desk.privacy.classification import CALL_FIELDS, Sensitivity
from advice_desk.privacy.identity import normalise_phone
from advice_desk.reference import lists as reference
from advice_desk.reports import passes
from advice_desk.reports.hierarchy import Hierarchy
from advice_desk.settings import EXPORT_K
from advice_desk.store.engine import Store
from advice_desk.store.models import Call

if TYPE_CHECKING:
    from advice_desk.reports.anonymise import Choice
    from advice_desk.reports.call_numbers import Ints, Rows

COLUMNS = ("month", "weekday", "in_hours", "duration_band", "caller_type", "arrangement",
           "region", "topics", "outcomes", "repeat_caller", "children_band")
# The stored field each column is made from. The classification (privacy/classification.py)
# decides the rest: a quasi-identifying source makes a column that k-anonymity may generalise;
# a personal source may only leave as a keyed hash reduced to yes/no; a staff source never
# leaves.
SOURCES = {"month": "local_date", "weekday": "local_date", "in_hours": "in_hours",
           "duration_band": "duration_s", "caller_type": "caller_type",
           "arrangement": "arrangement", "region": "local_authority", "topics": None,
           "outcomes": None, "repeat_caller": "caller_phone", "children_band": "children_count"}
HASHED = ("repeat_caller",)
QUASI_COLUMNS = tuple(c for c in COLUMNS
                      if (s := SOURCES[c]) and CALL_FIELDS[s] is Sensitivity.QUASI)
assert QUASI_COLUMNS == ("month", "weekday", "in_hours", "duration_band", "caller_type",
                         "arrangement", "region", "children_band"), "as the SQL makes them"
L_DIVERSITY = 2  # different topic sets in every class (distinct l-diversity)
MAX_SUPPRESSED = 0.01  # of the calls, at most, left out when no recoding keeps them all
# The lattice search's work, in classes rolled up (about a second for 50 million here): a
# year of a million calls ends proven well within it (some 40 million); beyond it the search
# stops with the best node it met.
SEARCH_BUDGET = 200_000_000


def unsafe_columns() -> list[str]:
    """Columns whose source the classification forbids to leave (a test keeps this empty)."""
    forbidden = (Sensitivity.PERSONAL, Sensitivity.STAFF)
    return [column for column, source in SOURCES.items()
            if source and CALL_FIELDS[source] in forbidden and column not in HASHED]


# --- the categories: every text a cell of calls.csv can hold is written here -----------------
UNKNOWN = "unknown"
DURATION_BANDS = ((5, "0-4 min"), (15, "5-14 min"), (30, "15-29 min"), (60, "30-59 min"))
DURATION_LONGEST = "60+ min"
# Duration bands merged step by step: each grouping merges neighbours of the one before.
DURATION_MERGED = ({"0-4 min": "0-14 min", "5-14 min": "0-14 min", "15-29 min": "15-59 min",
                    "30-59 min": "15-59 min"},
                   {"0-4 min": "0-14 min", "5-14 min": "0-14 min", "15-29 min": "15+ min",
                    "30-59 min": "15+ min", DURATION_LONGEST: "15+ min"})
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY, WEEKEND = "weekday", "weekend"
YES, NO = "yes", "no"
# Text no spreadsheet reads as a number (LibreOffice takes "3+" for 3, "1-2" for a date).
CHILDREN_MANY = "3 or more"  # the one place the band of three children or more is named
CHILDREN_FEW, CHILDREN_SOME = "1 or 2 children", "1 or more children"
CHILDREN_BANDS = ("no children", "1 child", "2 children", CHILDREN_MANY)
# Caller types by family: professionals, the caller's own family and friends, anyone else.
PROFESSIONAL, FAMILY, OTHER = "professional", "family", "other"
ARRANGEMENT_GROUPS = {"sgo": "court order", "cao": "court order", "adoption": "court order",
                      "in-proceedings": "court order", "kinship-foster": "fostering",
                      "private-fostering": "fostering", "informal": "informal"}
NATIONS = {"E": "England", "W": "Wales", "S": "Scotland", "N": "Northern Ireland"}


def caller_family(code: str) -> str:
    if code.startswith("professional"):
        return PROFESSIONAL
    return OTHER if code in ("other", UNKNOWN) else FAMILY


def months_of(date_from: date, date_to: date) -> list[str]:
    """Each month the period touches, as its text."""
    return [_month(year * 100 + month)
            for year in range(date_from.year, date_to.year + 1) for month in range(1, 13)
            if (date_from.year, date_from.month) <= (year, month)
            <= (date_to.year, date_to.month)]


def hierarchies(date_from: date, date_to: date) -> tuple[Hierarchy, ...]:
    """Each quasi column's generalisations, in the order of ``QUASI_COLUMNS``."""
    months = months_of(date_from, date_to)
    caller_types = [c.code for c in reference.helpline().caller_types]
    arrangements = [c.code for c in reference.helpline().arrangements]
    regions = {la.region: NATIONS.get(la.code[:1], OTHER) for la in reference.local_authorities()}
    durations = [band for _, band in DURATION_BANDS] + [DURATION_LONGEST]
    made = {
        "month": Hierarchy.of("month", months, {m: _quarter(m) for m in months}, last=True),
        "weekday": Hierarchy.of("weekday", WEEKDAYS,
                                {d: WEEKEND if d in ("Sat", "Sun") else WEEKDAY
                                 for d in WEEKDAYS}),
        "in_hours": Hierarchy.of("in_hours", (YES, NO, UNKNOWN)),
        "duration_band": Hierarchy.of("duration_band", [*durations, UNKNOWN], *DURATION_MERGED),
        "caller_type": Hierarchy.of("caller_type", [*caller_types, UNKNOWN],
                                    {c: caller_family(c) for c in caller_types}),
        "arrangement": Hierarchy.of("arrangement", [*arrangements, UNKNOWN],
                                    {a: ARRANGEMENT_GROUPS.get(a, OTHER) for a in arrangements
                                     if a != UNKNOWN}),
        "region": Hierarchy.of("region", [*sorted(regions), UNKNOWN], regions),
        "children_band": Hierarchy.of("children_band", [*CHILDREN_BANDS, UNKNOWN],
                                      {CHILDREN_BANDS[1]: CHILDREN_FEW,
                                       CHILDREN_BANDS[2]: CHILDREN_FEW},
                                      {CHILDREN_BANDS[1]: CHILDREN_SOME,
                                       CHILDREN_BANDS[2]: CHILDREN_SOME,
                                       CHILDREN_MANY: CHILDREN_SOME}),
    }
    return tuple(made[c] for c in QUASI_COLUMNS)


def _month(number: int) -> str:
    return f"{number // 100:04d}-{number % 100:02d}"


def _quarter(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:]) + 2) // 3}"


# --- the export key --------------------------------------------------------------------------

class ExportKeyError(Exception):
    """The export key may be read by other accounts: it is not used until it is private."""


def load_secret(path: Path) -> bytes:
    """The export key, made on first use readable by its owner only: created with mode 0600
    in one step (``O_EXCL``), never written first and narrowed after. A key that other
    accounts may read is refused, with the command that makes it private."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "wb") as made:
            made.write(secrets.token_bytes(32))
            made.flush()
            os.fsync(made.fileno())
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ExportKeyError(
            f"the export key {path} may be read by other accounts on this PC (mode "
            f"{stat.S_IMODE(path.stat().st_mode):04o}), so it is not used; make it yours alone "
            f"with: chmod 600 {path}")
    return path.read_bytes()


def caller_key(phone: str | None, email: str | None, secret: bytes) -> str | None:
    """A keyed hash of who called: the same person gives the same key, nobody can reverse it."""
    identity = normalise_phone(phone) or (email or "").strip().casefold()
    if not identity:
        return None
    return hmac.new(secret, identity.encode(), hashlib.sha256).hexdigest()


# --- the read and the writing ------------------------------------------------------------

@dataclass
class ExtractStats:
    """What the written file holds, for the data dictionary."""

    choice: Choice
    rows: int = 0  # written
    left_out: int = 0
    generalised: dict[str, int] = field(default_factory=dict)  # cells coarser than their leaf
    starred: dict[str, int] = field(default_factory=dict)
    smallest_class: int = 0  # the k that holds
    fewest_topic_sets: int = 0  # the distinct l that holds

    @property
    def hierarchies(self) -> tuple[Hierarchy, ...]:
        return self.choice.hierarchies

    def levels(self) -> dict[str, int]:
        return dict(zip(QUASI_COLUMNS, self.choice.node, strict=True))


class ExtractCancelled(Exception):
    """The user cancelled while the rows were written."""


Cancelled = Callable[[], bool]


def stop_if(cancelled: Cancelled) -> None:
    """Raise :class:`ExtractCancelled` if the user cancelled: asked between the parts of the
    work."""
    if cancelled():
        raise ExtractCancelled("the export was cancelled")
CODED = (QUASI_COLUMNS.index("caller_type"), QUASI_COLUMNS.index("arrangement"))


Pairs = Callable[[sa.Connection, dict[str, int], int, int], Iterator[str]]


def write_rows(out: IO[str], store: Store, date_from: date, date_to: date, secret: bytes,
               k: int = EXPORT_K.default, cancelled: Cancelled | None = None) -> ExtractStats:
    """``calls.csv``: its header, then a row for each call with content in the period,
    k-anonymous and l-diverse over the quasi columns. The calls are read once, as numbers
    (:mod:`advice_desk.reports.call_numbers`), by one statement a month in one transaction
    (one snapshot: PostgreSQL's repeatable read); the generalisation is chosen from the
    classes of the keys and topics; the rows are then written from the numbers."""
    # numpy: loaded when an extract is made, not with the app
    from advice_desk.reports import call_numbers as numbers
    from advice_desk.reports import extract_table as tables
    from advice_desk.reports.anonymise import search

    def halted() -> bool:
        return cancelled is not None and cancelled()

    period = (col(Call.local_date).between(date_from, date_to), col(Call.kind) == "data")
    months = passes.month_spans(date_from, date_to)
    with store.read() as session:
        connection = session.connection(execution_options=passes.snapshot_options(
            store.engine.dialect.name))
        topic_bits, top_topics = passes.topic_bits(connection)
        outcome_codes = sorted({o.code for o in reference.helpline().outcomes})
        columns = _columns(connection, period, date_from, date_to, discover=False)
        # each call's key and its contact: one read; its topic and outcome sets: a read of
        # each link table
        ids, (keys,), contacts, contact_details = numbers.read_numbers(passes.numbers(
            connection, period[1:], months, lambda month: (passes.key(columns, month),),
            contacts=True), 1, halted)
        first, last = (int(ids.min()), int(ids.max())) if len(ids) else (0, -1)

        def code_sets(pairs: Pairs, bits: dict[str, int]) -> Ints:
            return numbers.bits_by_call(ids, pairs(connection, bits, first, last), halted)

        topics = numbers.bit_sets(code_sets(passes.topic_pairs, topic_bits), top_topics)
        table = tables.counted(columns, keys, topics.numbers)
        if tables.met_other_codes(columns, table, CODED):  # a code the lists do not know
            columns = _columns(connection, period, date_from, date_to, discover=True)
            read_ids, (keys,), _, _ = numbers.read_numbers(passes.numbers(
                connection, period[1:], months, lambda month: (passes.key(columns, month),)),
                1, halted)
            table = tables.counted(columns, numbers.in_order(ids, read_ids, keys)[0],
                                   topics.numbers)
        outcome_bits = code_sets(passes.outcome_pairs, passes.code_bits(outcome_codes))
        if (outcome_bits >> passes.BITS).any():  # an outcome code the list does not know
            outcome_codes = passes.outcome_codes(connection, period)
            outcome_bits = code_sets(passes.outcome_pairs, passes.code_bits(outcome_codes))
    del keys
    choice = search(hierarchies(date_from, date_to), table.classes, k, L_DIVERSITY,
                    MAX_SUPPRESSED, row_cost=len(COLUMNS), budget=SEARCH_BUDGET)
    assigned = tables.assign(choice, table)
    stats = tables.stats(choice, table, assigned)
    classes = assigned[table.per_call]
    del table, assigned
    order = numbers.keyed_order(ids, secret)
    order = order[~choice.failing[classes[order]]]
    before, after = tables.lines(choice)
    _write(out, numbers.Rows(classes, before, after, topics,
                             numbers.bit_sets(outcome_bits, outcome_codes),
                             numbers.repeat_flags(contacts, contact_details, secret)),
           order, halted, tables.cell)
    stats.rows, stats.left_out = len(order), len(ids) - len(order)
    return stats


def _columns(connection: sa.Connection, period: passes.Period, date_from: date,
             date_to: date, discover: bool) -> list[passes.Column]:
    """The quasi columns' finest values, in the order of ``QUASI_COLUMNS``; with ``discover``
    any code of the period that the lists do not know (a code since retired) is a value of
    its own."""
    regions: dict[str, list[str]] = {}
    for la in reference.local_authorities():
        regions.setdefault(la.region, []).append(la.code)
    h = reference.helpline()
    coded = []
    for stored, codes in ((col(Call.caller_type), [c.code for c in h.caller_types]),
                          (col(Call.arrangement), [c.code for c in h.arrangements])):
        known = passes.coded_column(stored, codes, UNKNOWN).leaves
        others = (passes.other_codes(connection, period, stored, known, UNKNOWN) if discover
                  else [])
        coded.append(passes.coded_column(stored, [*known, *others], UNKNOWN))
    in_hours = sa.inspect(Call).columns["in_hours"]
    children = col(Call.children_count)
    return [
        passes.month_column(months_of(date_from, date_to)),
        passes.weekday_column(WEEKDAYS),
        passes.flag_column(in_hours, YES, NO, UNKNOWN),
        passes.banded_column(col(Call.duration_s), [(limit * 60, band) for limit, band
                                                    in DURATION_BANDS], DURATION_LONGEST,
                             UNKNOWN),
        *coded,
        passes.grouped_column(col(Call.local_authority), dict(sorted(regions.items())),
                              UNKNOWN),
        passes.banded_column(children, [(n + 1, band) for n, band
                                        in enumerate(CHILDREN_BANDS[:3])], CHILDREN_MANY,
                             UNKNOWN),
    ]


_WRITTEN = 10_000  # lines joined and written at a time


def _write(out: IO[str], rows: Rows, order: Ints, cancelled: Cancelled,
           cell: Callable[[str], str]) -> None:
    """The file: its header, then the calls of ``order``, each line made from its class's
    cells and the cells of its topics, outcomes and repeat flag: those three as one text per
    combination met (a few thousand), each made once."""
    from advice_desk.reports.lattice import numbered

    out.write(",".join(map(cell, COLUMNS)) + "\n")
    before, after = rows.before, rows.after
    topic_cells = [cell(text) for text in rows.topics.texts]
    outcome_cells = [cell(text) for text in rows.outcomes.texts]
    repeat_cells = [cell(YES), cell(NO), cell(UNKNOWN)]  # REPEATED, NOT_REPEATED, NO_CONTACT
    combined = (rows.topics.numbers * len(outcome_cells) + rows.outcomes.numbers) \
        * len(repeat_cells) + rows.repeats
    combinations, middle, _ = numbered(combined)
    middles = []
    for number in combinations.tolist():
        rest, repeat = divmod(number, len(repeat_cells))
        topics, outcomes = divmod(rest, len(outcome_cells))
        middles.append(f"{topic_cells[topics]},{outcome_cells[outcomes]},{repeat_cells[repeat]},")
    for start in range(0, len(order), _WRITTEN):
        stop_if(cancelled)
        part = order[start:start + _WRITTEN]
        out.write("".join([f"{before[c]}{middles[m]}{after[c]}" for c, m in zip(
            rows.classes[part].tolist(), middle[part].tolist(), strict=True)]))
