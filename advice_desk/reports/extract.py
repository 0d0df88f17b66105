"""The row-level funder extract: one row per call with coarse fields only, k-anonymous and
l-diverse, written in two passes that never hold the calls in memory.

Which fields may leave, and how coarsely, follows the personal-data classification: personal
fields never; quasi-identifiers only coarsened (month not date, region not authority, bands not
numbers); staff fields never. Pass one counts, in SQL, the calls of each combination of the
quasi columns (with the least and greatest of their topic sets); on that table
:func:`advice_desk.reports.anonymise.search` chooses how coarsely each column is written and
which classes are left out. Pass two streams the calls to the file, generalised. "Repeat caller"
compares an HMAC of the caller's phone number or email, keyed with a secret kept outside the
store, never the number itself.
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

import sqlalchemy as sa
from sqlmodel import col

from advice_desk.privacy.classification import CALL_FIELDS, Sensitivity
from advice_desk.privacy.identity import normalise_phone
from advice_desk.reference import lists as reference
from advice_desk.reports.anonymise import STAR, BaseClass, Choice, Hierarchy, search
from advice_desk.settings import EXPORT_K
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, CallOutcome, CallTopic, Topic

SUPPRESSED = STAR
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
# The lattice search's work, in classes rolled up (about a second for 2 million here): on
# a few thousand calls it always ends proven; on a year of a busy line it stops with the best
# node it met.
SEARCH_BUDGET = 4_000_000


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


def duration_band(seconds: int | None) -> str:
    if seconds is None:
        return UNKNOWN
    minutes = seconds // 60
    return next((band for limit, band in DURATION_BANDS if minutes < limit), DURATION_LONGEST)


def children_band(count: int | None) -> str:
    if count is None:
        return UNKNOWN
    return CHILDREN_BANDS[min(count, 3)]


def caller_family(code: str) -> str:
    if code.startswith("professional"):
        return PROFESSIONAL
    return OTHER if code in ("other", UNKNOWN) else FAMILY


def hierarchies(date_from: date, date_to: date) -> tuple[Hierarchy, ...]:
    """Each quasi column's generalisations, in the order of ``QUASI_COLUMNS``."""
    months = [_month(year * 100 + month) for year in range(date_from.year, date_to.year + 1)
              for month in range(1, 13)
              if (date_from.year, date_from.month) <= (year, month)
              <= (date_to.year, date_to.month)]
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


# --- the two passes --------------------------------------------------------------------------

@dataclass
class ExtractStats:
    """What the written file holds, for the data dictionary: counted on the rows written."""

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


Cancelled = Callable[[], bool]
_CANCEL_EVERY = 20_000  # rows


def extract_rows(store: Store, date_from: date, date_to: date, secret: bytes,
                 k: int = EXPORT_K.default, cancelled: Cancelled | None = None,
                 stats: list[ExtractStats] | None = None) -> Iterator[tuple[str, ...]]:
    """Rows for the calls with content in the period, k-anonymous and l-diverse over the quasi
    columns, streamed: the generalisation is chosen first from the counts of each combination.
    ``stats``, if given, receives what was written once the rows are exhausted."""
    made = hierarchies(date_from, date_to)
    in_period = (col(Call.local_date).between(date_from, date_to), col(Call.kind) == "data")
    with store.read() as session:
        connection = session.connection()
        masks = _topic_masks(connection)
        choice = search(made, _class_table(connection, in_period, masks), k, L_DIVERSITY,
                        MAX_SUPPRESSED, row_cost=len(COLUMNS), budget=SEARCH_BUDGET)
        repeats = _repeated_contacts(connection, in_period, secret)
        written = ExtractStats(choice)
        yield from _stream(connection, in_period, choice, repeats, written, cancelled)
    if stats is not None:
        stats.append(written)


_Quasi = tuple[sa.Label[int], sa.Label[int], sa.Label[str], sa.Label[str], sa.Label[str],
               sa.Label[str], sa.Label[str], sa.Label[str]]


def _quasi_expressions() -> _Quasi:
    """The finest value of each quasi column, as SQL: the same for both passes."""
    duration = col(Call.duration_s)
    children = col(Call.children_count)
    in_hours = sa.inspect(Call).columns["in_hours"]
    regions = {la.code: la.region for la in reference.local_authorities()}
    return (
        sa.cast(sa.extract("year", col(Call.local_date)) * 100
                + sa.extract("month", col(Call.local_date)), sa.Integer).label("month"),
        sa.cast(sa.extract("dow", col(Call.local_date)), sa.Integer).label("dow"),
        sa.case((in_hours.is_(None), UNKNOWN), (in_hours.is_(True), YES),
                else_=NO).label("in_hours"),
        sa.case((duration.is_(None), UNKNOWN),
                *((duration < limit * 60, band) for limit, band in DURATION_BANDS),
                else_=DURATION_LONGEST).label("duration_band"),
        sa.func.coalesce(col(Call.caller_type), UNKNOWN).label("caller_type"),
        sa.func.coalesce(col(Call.arrangement), UNKNOWN).label("arrangement"),
        sa.case(regions, value=col(Call.local_authority), else_=UNKNOWN).label("region"),
        sa.case((children.is_(None), UNKNOWN), (children >= 3, CHILDREN_MANY),
                *((children == n, band) for n, band in enumerate(CHILDREN_BANDS[:3])),
                else_=UNKNOWN).label("children_band"),
    )


def _topic_masks(connection: sa.Connection) -> dict[str, int]:
    """A number for each topic's top-level code, summed over a call's distinct top-level
    topics: one number per topic set (bits; beyond 62 top levels, 53-bit fingerprints)."""
    codes = connection.execute(sa.select(col(Topic.code))).scalars().all()
    tops = sorted({_top(code) for code in codes})
    if len(tops) <= 62:
        value = {top: 1 << i for i, top in enumerate(tops)}
    else:
        value = {top: int.from_bytes(hashlib.sha256(top.encode()).digest()[:7]) >> 3
                 for top in tops}
    return {code: value[_top(code)] for code in codes}


def _top(code: str) -> str:
    return code.split(".")[0]


def _class_table(connection: sa.Connection, in_period: tuple[sa.ColumnElement[bool], ...],
                 masks: dict[str, int]) -> Iterator[BaseClass]:
    """Pass one: the calls of each combination of quasi values, with the least and greatest
    of their topic sets, counted by the database."""
    bit = sa.case(masks, value=col(CallTopic.topic_code), else_=0) if masks else sa.literal(0)
    tops = (sa.select(col(CallTopic.call_id).label("call_id"), bit.label("bit"))
            .join(Call, col(Call.id) == col(CallTopic.call_id)).where(*in_period)
            .group_by(col(CallTopic.call_id), bit).subquery())
    per_call_mask = (sa.select(tops.c.call_id, sa.func.sum(tops.c.bit).label("mask"))
                     .group_by(tops.c.call_id).subquery())
    per_call = (sa.select(*_quasi_expressions(),
                          sa.func.coalesce(per_call_mask.c.mask, 0).label("mask"))
                .select_from(Call).outerjoin(per_call_mask,
                                             per_call_mask.c.call_id == col(Call.id))
                .where(*in_period).subquery())
    quasi = [per_call.c[name] for name in ("month", "dow", "in_hours", "duration_band",
                                           "caller_type", "arrangement", "region",
                                           "children_band")]
    labels = _labellers()
    for row in connection.execute(
            sa.select(*quasi, sa.func.count(), sa.func.min(per_call.c.mask),
                      sa.func.max(per_call.c.mask)).group_by(*quasi)):
        values = tuple(label(value) for label, value in zip(labels, row[:8], strict=True))
        yield values, int(row[8]), int(row[9]), int(row[10])


def _labellers() -> list[Callable[[object], str]]:
    """The text of each SQL value: months and weekdays come out of SQL as numbers."""
    def month(value: object) -> str:
        return _month(int(str(value)))

    def weekday(value: object) -> str:
        return WEEKDAYS[(int(str(value)) + 6) % 7]  # SQL counts from Sunday, 0

    def text(value: object) -> str:
        return str(value)

    order = {"month": month, "weekday": weekday}
    return [order.get(column, text) for column in QUASI_COLUMNS]


Contact = tuple[str | None, str | None]  # phone, email as stored


def _repeated_contacts(connection: sa.Connection,
                       in_period: tuple[sa.ColumnElement[bool], ...],
                       secret: bytes) -> tuple[set[Contact], set[Contact]]:
    """The contact details (as stored) of callers who called more than once in the period,
    and those that name nobody (blank text): counted by keyed hash, so the same number in two
    formats is one caller."""
    phone, email = col(Call.caller_phone), col(Call.caller_email)
    pairs = connection.execute(
        sa.select(phone, email, sa.func.count()).where(
            *in_period, sa.or_(phone.is_not(None), email.is_not(None)))
        .group_by(phone, email)).all()
    calls_by_key: dict[str, int] = {}
    keys = []
    for stored_phone, stored_email, count in pairs:
        key = caller_key(stored_phone, stored_email, secret)
        keys.append(key)
        if key is not None:
            calls_by_key[key] = calls_by_key.get(key, 0) + int(count)
    repeated = {(p, e) for (p, e, _), key in zip(pairs, keys, strict=True)
                if key is not None and calls_by_key[key] > 1}
    return repeated, {(p, e) for (p, e, _), key in zip(pairs, keys, strict=True) if key is None}


def _stream(connection: sa.Connection, in_period: tuple[sa.ColumnElement[bool], ...],
            choice: Choice, repeats: tuple[set[Contact], set[Contact]], stats: ExtractStats,
            cancelled: Cancelled | None) -> Iterator[tuple[str, ...]]:
    """Pass two: each call, generalised to the chosen node; calls of a class that fails (or
    of a class pass one did not see: a call saved in between) are left out."""
    topic_codes = (sa.select(col(CallTopic.call_id).label("call_id"),
                             sa.func.aggregate_strings(col(CallTopic.topic_code), ";")
                             .label("codes"))
                   .join(Call, col(Call.id) == col(CallTopic.call_id)).where(*in_period)
                   .group_by(col(CallTopic.call_id)).subquery())
    outcome_codes = (sa.select(col(CallOutcome.call_id).label("call_id"),
                               sa.func.aggregate_strings(col(CallOutcome.outcome), ";")
                               .label("codes"))
                     .join(Call, col(Call.id) == col(CallOutcome.call_id)).where(*in_period)
                     .group_by(col(CallOutcome.call_id)).subquery())
    query = (sa.select(*_quasi_expressions(), col(Call.caller_phone),
                       col(Call.caller_email), topic_codes.c.codes, outcome_codes.c.codes)
             .select_from(Call)
             .outerjoin(topic_codes, topic_codes.c.call_id == col(Call.id))
             .outerjoin(outcome_codes, outcome_codes.c.call_id == col(Call.id))
             .where(*in_period).order_by(col(Call.id)))
    repeated, nobody = repeats
    labels = _labellers()
    # value → written value, column by column (small: the columns' domains)
    generalise = [{leaf: h.levels[level][leaf] for leaf in h.levels[0]}
                  for h, level in zip(choice.hierarchies, choice.node, strict=True)]
    kept = choice.kept_classes
    classes: dict[tuple[str, ...], tuple[int, set[str]]] = {}
    topics_text: dict[str | None, str] = {}
    outcomes_text: dict[str | None, str] = {}
    seen = 0
    result = connection.execution_options(stream_results=True, yield_per=5_000).execute(query)
    for row in result:
        seen += 1
        if cancelled is not None and seen % _CANCEL_EVERY == 0 and cancelled():
            raise ExtractCancelled("the export was cancelled")
        quasi = []
        for label, column, value in zip(labels, generalise, row[:8], strict=True):
            text = label(value)
            quasi.append(column.get(text, STAR))  # a value unknown to pass one: *
        key = tuple(quasi)
        if key not in kept:
            continue
        topics = topics_text.get(row[10])
        if topics is None:
            topics = topics_text[row[10]] = ";".join(sorted({_top(t) for t in
                                                            (row[10] or "").split(";") if t}))
        outcomes = outcomes_text.get(row[11])
        if outcomes is None:
            outcomes = outcomes_text[row[11]] = ";".join(sorted(set(
                (row[11] or "").split(";")) - {""}))
        count, topic_sets = classes.get(key, (0, set()))
        topic_sets.add(topics)
        classes[key] = (count + 1, topic_sets)
        contact = (row[8], row[9])
        repeat = (UNKNOWN if contact == (None, None) or contact in nobody
                  else YES if contact in repeated else NO)
        yield (*key[:7], topics, outcomes, repeat, key[7])
    _count(stats, classes, seen)


class ExtractCancelled(Exception):
    """The user cancelled while the rows were written."""


def _count(stats: ExtractStats, classes: dict[tuple[str, ...], tuple[int, set[str]]],
           seen: int) -> None:
    stats.rows = sum(count for count, _ in classes.values())
    stats.left_out = seen - stats.rows
    stats.smallest_class = min((count for count, _ in classes.values()), default=0)
    stats.fewest_topic_sets = min((len(sets) for _, sets in classes.values()), default=0)
    for i, (column, h, level) in enumerate(zip(QUASI_COLUMNS, stats.choice.hierarchies,
                                               stats.choice.node, strict=True)):
        covers: dict[str, int] = {}
        for leaf in h.leaves:
            covers[h.levels[level][leaf]] = covers.get(h.levels[level][leaf], 0) + 1
        stats.generalised[column] = sum(count for key, (count, _) in classes.items()
                                        if covers.get(key[i], 1) > 1 or key[i] == STAR)
        stats.starred[column] = sum(count for key, (count, _) in classes.items()
                                    if key[i] == STAR)
