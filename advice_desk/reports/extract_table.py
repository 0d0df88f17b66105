"""The calls' numbers as the search's table, and what the chosen node makes of them.

From each call's key (its quasi values as one number, :mod:`advice_desk.reports.passes`) and
topic set: the table of classes of the finest level; after the search, each of those classes'
class at the chosen node, what the data dictionary states (rows generalised and starred per
column, the k and the distinct l that hold) and the cells of each kept class's lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from advice_desk.reports import passes
from advice_desk.reports.anonymise import Choice, Classes
from advice_desk.reports.extract import COLUMNS, QUASI_COLUMNS, ExtractStats
from advice_desk.reports.hierarchy import STAR
from advice_desk.reports.lattice import Ints, numbered
from advice_desk.reports.output import text_cell


@dataclass(frozen=True)
class Counted:
    """The classes of the finest level (``keys[j]`` is class ``j``'s key), each call's class,
    and, for the distinct l that holds, each class's topic sets pair by pair."""

    classes: Classes
    keys: Ints
    per_call: Ints  # each call's class
    pairs: Ints  # per (class, topic set) met: the class
    topic_sets: Ints  # per (class, topic set) met: the topic set


def counted(columns: list[passes.Column], keys: Ints, topic_sets: Ints) -> Counted:
    """The table of the calls' classes at the finest level (from each call's key and topic
    set): their counts and topic sets."""
    unique, per_call = np.unique(keys, return_inverse=True)
    per_call = per_call.astype(np.int64).reshape(-1)
    sets = int(topic_sets.max(initial=0)) + 1
    pair_numbers = np.unique(per_call * sets + topic_sets)
    pairs, pair_sets = pair_numbers // sets, pair_numbers % sets
    lows = np.full(len(unique), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(lows, pairs, pair_sets)
    highs = np.full(len(unique), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(highs, pairs, pair_sets)
    codes = np.stack([((unique // stride) % (len(column.leaves) + 1)).astype(np.int32)
                      for column, stride in zip(columns, passes.strides(columns), strict=True)],
                     axis=1)
    classes = Classes(tuple(column.leaves for column in columns),
                      codes.reshape(len(unique), len(columns)),
                      np.bincount(per_call, minlength=len(unique)).astype(np.int64), lows, highs)
    return Counted(classes, unique, per_call, pairs, pair_sets)


def met_other_codes(columns: list[passes.Column], counted: Counted, coded: Sequence[int]) -> bool:
    """Whether a call read had a code its column's list did not hold (columns
    ``coded`` are those that may)."""
    return any(bool((counted.classes.codes[:, i] == len(columns[i].leaves)).any())
               for i in coded)


def assign(choice: Choice, counted: Counted) -> Ints:
    """Each class of the finest level: the class of the chosen node it falls in."""
    node_key = np.zeros(len(counted.keys), dtype=np.int64)
    table_key = np.zeros(len(choice.table), dtype=np.int64)
    stride = 1
    for i, (h, level) in enumerate(zip(choice.hierarchies, choice.node, strict=True)):
        groups = h.groups(level)
        lookup = np.array([groups[v] for v in counted.classes.values[i]], dtype=np.int64)
        node_key += lookup[counted.classes.codes[:, i]] * stride
        table_key += choice.table.groups[i].astype(np.int64) * stride
        stride *= len(h.names(level))
    order = np.argsort(table_key)
    return order[np.searchsorted(table_key, node_key, sorter=order)]


def stats(choice: Choice, counted: Counted, assigned: Ints) -> ExtractStats:
    """What the chosen node keeps: per column the rows generalised and starred, the smallest
    class and the fewest topic sets in a class (counted from the pairs of class and topic set)."""
    made = ExtractStats(choice)
    kept = ~choice.failing
    counts = choice.table.counts
    made.smallest_class = int(counts[kept].min()) if kept.any() else 0
    _, topic_set, _ = numbered(counted.topic_sets)
    pairs = np.unique(assigned[counted.pairs] * (int(topic_set.max(initial=0)) + 1) + topic_set)
    sets = np.bincount(pairs // (int(topic_set.max(initial=0)) + 1), minlength=len(counts))
    made.fewest_topic_sets = int(sets[kept].min()) if kept.any() else 0
    for i, (column, h, level) in enumerate(zip(QUASI_COLUMNS, choice.hierarchies, choice.node,
                                               strict=True)):
        names = h.names(level)
        covers = [0] * len(names)
        for group in h.groups(level).values():
            covers[group] += 1
        coarse = np.array([c > 1 or name == STAR for c, name in zip(covers, names, strict=True)])
        starred = np.array([name == STAR for name in names])
        groups = choice.table.groups[i]
        made.generalised[column] = int(counts[kept & coarse[groups]].sum())
        made.starred[column] = int(counts[kept & starred[groups]].sum())
    return made


_OUTPUT = [COLUMNS.index(c) for c in QUASI_COLUMNS]
assert [*range(7), 10] == _OUTPUT, "calls.csv: seven quasi columns, three others, children"


def lines(choice: Choice) -> tuple[list[str], list[str]]:
    """Each class of the chosen node: its line's cells before the topics, and after the repeat
    (empty for a class left out)."""
    cells = [[cell(name) for name in names] for names in choice.names()]  # each text once
    before, after = [""] * len(choice.table), [""] * len(choice.table)
    kept = np.flatnonzero(~choice.failing)
    groups = [choice.table.column(i, ~choice.failing).tolist() for i in range(len(cells))]
    for at, j in enumerate(kept.tolist()):
        row = [cells[i][groups[i][at]] for i in range(len(cells))]
        before[j], after[j] = ",".join(row[:7]) + ",", row[7] + "\n"
    return before, after


def cell(text: str) -> str:
    """A text as a CSV cell a spreadsheet keeps as text (each category text is made once)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([text_cell(text)])
    return buffer.getvalue()
