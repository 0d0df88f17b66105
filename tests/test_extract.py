"""The funder extract's passes and search at the size of a busy line's year."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from advice_desk.reports import passes
from advice_desk.reports.anonymise import search
from advice_desk.reports.extract import (
    COLUMNS,
    L_DIVERSITY,
    MAX_SUPPRESSED,
    SEARCH_BUDGET,
    hierarchies,
)


def test_the_weekday_is_the_same_on_every_engine(store) -> None:
    """The read's weekday is SQL of each engine's own (SQLite has no day of the week but its
    Julian days): it must agree with Python's for every day of the week, across a year end."""
    days = [date(2025, 12, 25) + timedelta(days=n) for n in range(16)]
    with store.read() as session:
        got = session.connection().execute(sa.select(*(passes.weekday(sa.literal(d, sa.Date))
                                                        for d in days))).one()
    assert list(got) == [d.weekday() for d in days]


def busy_year(calls: int, seed: int = 12) -> list[tuple[tuple[str, ...], int, int, int]]:
    """The class table of a year of ``calls`` calls over the real hierarchies, drawn as a line's
    calls are (most from few values, a long tail of rare ones), with a few topic sets."""
    rng = random.Random(seed)
    made = hierarchies(date(2025, 12, 2), date(2026, 12, 1))
    weights = [[1 / (1 + i) for i in range(len(h.leaves))] for h in made]
    counted: Counter[tuple[tuple[str, ...], int]] = Counter()
    for _ in range(calls):
        values = tuple(rng.choices(h.leaves, w)[0] for h, w in zip(made, weights, strict=True))
        counted[values, rng.choice((1, 2, 4, 8, 3, 5))] += 1
    by_class: dict[tuple[str, ...], list[int]] = {}
    for (values, mask), n in counted.items():
        count, low, high = by_class.get(values, [0, mask, mask])
        by_class[values] = [count + n, min(low, mask), max(high, mask)]
    return [(values, n, low, high) for values, (n, low, high) in sorted(by_class.items())]


def test_the_search_ends_proven_on_a_busy_year() -> None:
    """On the classes of some 90 000 calls (the size that ran the old search out of its budget
    and made it star three columns) the search visits the lattice to the end within the
    budget, keeps to the cap, and every class it keeps has k rows and two topic sets."""
    table = busy_year(90_000)
    made = hierarchies(date(2025, 12, 2), date(2026, 12, 1))
    choice = search(made, table, 5, L_DIVERSITY, MAX_SUPPRESSED, row_cost=len(COLUMNS),
                    budget=SEARCH_BUDGET)
    assert choice.exhaustive
    assert choice.suppressed_rows <= int(MAX_SUPPRESSED * choice.rows)
    kept = ~choice.failing
    assert (choice.table.counts[kept] >= 5).all()
    assert (choice.table.lows[kept] != choice.table.highs[kept]).all()
    # the month, generalised only as a last step, is kept whole
    assert choice.node[0] == 0
