"""The lattice of full-domain recodings and the class tables of its nodes, in numbers.

A node gives every quasi column a level of its hierarchy. Its classes (rows sharing every value
at those levels) are a table: each class's group number in every column, its rows, and the
least and greatest of its rows' topic sets (as dense numbers). A node's table is rolled up from
the table of any finer node: each column's groups mapped to the coarser level, the classes that
then share a key merged. Everything is a numpy array, so a roll-up of a few hundred thousand
classes costs milliseconds; the search (:mod:`advice_desk.reports.anonymise`) decides which
nodes to roll up.

The information loss is Iyengar's loss metric (LM): a cell whose value stands for ``g`` of its
column's ``n`` leaves loses ``(g - 1) / (n - 1)``; a row left out loses ``row_cost`` cells. It is
kept exact: integers over a common denominator, so that ties are ties.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

Node = tuple[int, ...]
Ints = npt.NDArray[np.int64]
Groups = npt.NDArray[np.int32]

_DENSE = 4  # a table's keys are counted in a dense array while it is at most this × the classes
_HELD = 2  # the tables kept to roll up from hold at most this × the finest table's classes


_PART = 4096  # a run of a table's columns spans at most this many codes (or its classes)


@dataclass
class Table:
    """A node's classes: each class's groups as one key, ``Σ group_i × stride_i`` with column
    0 fastest (``sizes[i]``: column ``i``'s groups at the node's level). A key per class, not a
    column of groups, is what a roll-up reads: contiguous columns of it (a part) are looked up
    at once (:meth:`parts`)."""

    node: Node
    keys: Ints
    sizes: tuple[int, ...]
    counts: Ints
    lows: Ints
    highs: Ints

    @classmethod
    def of_groups(cls, node: Node, groups: Sequence[Groups], sizes: Sequence[int],
                  counts: Ints, lows: Ints, highs: Ints) -> Table:
        keys = np.zeros(len(counts), dtype=np.int64)
        for group, stride in zip(groups, _strides(sizes), strict=True):
            keys += group.astype(np.int64) * stride
        return cls(node, keys, tuple(sizes), counts, lows, highs)

    def __len__(self) -> int:
        return len(self.counts)

    def column(self, i: int, where: npt.NDArray[np.bool_] | None = None) -> Groups:
        """Column ``i``'s group of each class (of those ``where`` holds)."""
        keys = self.keys if where is None else self.keys[where]
        return (keys // _strides(self.sizes)[i] % self.sizes[i]).astype(np.int32)

    @functools.cached_property
    def groups(self) -> tuple[Groups, ...]:
        return tuple(self.column(i) for i in range(len(self.sizes)))

    @functools.cached_property
    def cuts(self) -> list[tuple[int, int]]:
        """The columns cut into runs ``[first, last)`` whose codes (their groups as one
        number) span few values: at most ``_PART``, or the classes when fewer, so that a
        table over a run's codes is cheap. A roll-up then looks each run up once instead of
        each column."""
        limit = max(1024, min(_PART, len(self)))
        made, first, span = [], 0, 1
        for i, size in enumerate(self.sizes):
            if span * size > limit and i > first:
                made.append((first, i))
                first, span = i, 1
            span *= size
        return [*made, (first, len(self.sizes))]

    def codes(self, first: int, last: int, where: npt.NDArray[np.bool_] | None = None) -> Ints:
        """Each class's code of the run of columns ``[first, last)`` (of those ``where``
        holds)."""
        keys = self.keys if where is None else self.keys[where]
        if first:  # (a division costs: none for the first run, no remainder for the last)
            keys = keys // _strides(self.sizes)[first]
        return keys if last == len(self.sizes) else keys % int(np.prod(self.sizes[first:last]))

    @functools.cached_property
    def parts(self) -> list[tuple[int, int, Ints]]:
        """Each run of :attr:`cuts` with its codes (kept: a table is often rolled from
        again)."""
        return [(first, last, self.codes(first, last)) for first, last in self.cuts]

    def per_code(self, first: int, last: int, value: Callable[[int, Ints], Ints]) -> Ints:
        """For each code of the run ``[first, last)``, the sum over its columns ``i`` of
        ``value(i, groups)`` (``groups``: column ``i``'s group of each code)."""
        made = np.zeros(int(np.prod(self.sizes[first:last])), dtype=np.int64)
        run = np.arange(len(made), dtype=np.int64)
        for i in range(first, last):
            made += value(i, run % self.sizes[i])
            run //= self.sizes[i]
        return made


def numbered(values: Ints, space: int | None = None,
             weights: Ints | None = None) -> tuple[Ints, Ints, Ints]:
    """The distinct values, sorted; each value's number among them (``np.unique`` with
    ``return_inverse``); and each distinct value's count (or sum of positive ``weights``).
    In linear time when the values (all below ``space``, if known) span few numbers: counted
    in an array, not sorted."""
    values = values.reshape(-1)
    top = int(values.max(initial=-1)) + 1 if space is None else space
    if top <= _DENSE * len(values) + 1024 and int(values.min(initial=0)) >= 0:
        counts = np.bincount(values, weights=weights, minlength=top)
        present = np.flatnonzero(counts)
        index = np.zeros(top, dtype=np.int64)
        index[present] = np.arange(len(present))
        return present.astype(np.int64, copy=False), index[values], counts[present].astype(np.int64)
    distinct, inverse = np.unique(values, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    return distinct, inverse, np.bincount(inverse, weights=weights,
                                          minlength=len(distinct)).astype(np.int64)


def _strides(sizes: Sequence[int]) -> list[int]:
    made, stride = [], 1
    for size in sizes:
        made.append(stride)
        stride *= size
    return made


@dataclass(frozen=True)
class Outcome:
    """What a node does to the rows: its loss (exact, as a numerator over the lattice's
    denominator), the rows it leaves out, and which of its classes fail."""

    node: Node
    loss: int
    suppressed: int
    failing: npt.NDArray[np.bool_]


class Lattice:
    """The nodes of the hierarchies' levels over one class table of the finest level.

    ``up[i][a][b]``: column ``i``'s group at level ``a`` → its group at level ``b`` (levels
    nest: each coarsens the one before). ``base``: the finest table, its groups the leaves."""

    def __init__(self, up: Sequence[Sequence[Sequence[Ints]]], base: Table, k: int,
                 l_diversity: int, max_suppressed: float, row_cost: Fraction) -> None:
        if l_diversity > 2:
            raise ValueError("only distinct l-diversity of 1 or 2 is checked on class tables")
        self.up = up
        self.base = base
        self.k, self.l = k, l_diversity
        self.width = len(up)
        self.levels = tuple(len(column) for column in up)
        self.sizes = [[len(up[i][level][level]) for level in range(self.levels[i])]
                      for i in range(self.width)]
        self.leaves = [self.sizes[i][0] for i in range(self.width)]
        self.rows = int(base.counts.sum())
        self.cap = int(max_suppressed * self.rows)
        # every cell's loss over one denominator: column i's (g - 1) times scale[i]
        denominators = [max(1, n - 1) for n in self.leaves]
        common = math.lcm(*denominators, row_cost.denominator)
        self.scale = [common // d for d in denominators]
        self.row_cost = int(row_cost * common)
        self.denominator = common * max(1, self.rows * self.width)
        if row_cost < self.width:
            raise ValueError("a row left out must cost at least a row of stars")
        # column i, level → group → the leaves it covers, less one
        self.covered: list[list[Ints]] = []
        for i in range(self.width):
            per_level = []
            for level in range(self.levels[i]):
                per_level.append(np.bincount(up[i][0][level], minlength=self.sizes[i][level])
                                 .astype(np.int64) - 1)
            self.covered.append(per_level)
        # column i, level → the most a cell of it loses, scaled
        self.widest = [[int(covered.max(initial=0)) * self.scale[i] for covered in per_level]
                       for i, per_level in enumerate(self.covered)]
        # column i, level → the loss of that column over every row (none left out), scaled
        self.column_loss: list[list[int]] = []
        for i in range(self.width):
            per_leaf = np.bincount(base.groups[i], weights=base.counts,
                                   minlength=self.leaves[i]).astype(np.int64)
            self.column_loss.append([
                int(per_leaf @ self.covered[i][level][up[i][0][level]]) * self.scale[i]
                for level in range(self.levels[i])])
        self.tables: dict[Node, Table] = {}
        self.work = 0  # classes rolled up so far

    def nodes(self) -> list[Node]:
        return list(itertools.product(*(range(n) for n in self.levels)))

    def top(self) -> Node:
        return tuple(n - 1 for n in self.levels)

    def bound(self, node: Node) -> int:
        """The node's loss were no row left out: a lower bound of its loss (a row left out
        costs more than any generalisation of it)."""
        return sum(losses[level] for losses, level in zip(self.column_loss, node, strict=True))

    def classes(self, node: Node, source: Table | None = None, keep: bool = True) -> Table:
        """The node's classes, rolled up from ``source`` or else from the smallest table of a
        finer node made so far (kept for the next, ``keep``)."""
        if source is None:
            held = self.tables.get(node)
            if held is not None:
                return held
            finer = [t for n, t in self.tables.items()
                     if all(a <= b for a, b in zip(n, node, strict=True))]
            source = min(finer, key=len) if finer else self.base
        table = self.roll(source, node)
        if keep and node not in self.tables and len(table) < len(self.base):
            self.tables[node] = table
            # the largest go first (the finest table is always there to roll from): _HELD
            # times the finest table at most
            held_rows = sum(map(len, self.tables.values()))
            while held_rows > _HELD * len(self.base):
                largest = max(self.tables, key=lambda n: len(self.tables[n]))
                held_rows -= len(self.tables.pop(largest))
        return table

    def roll(self, source: Table, node: Node) -> Table:
        if source.node == node:
            return source
        self.work += len(source)
        sizes = tuple(self.sizes[i][level] for i, level in enumerate(node))
        strides = _strides(sizes)
        space = strides[-1] * sizes[-1]
        assert space < 2**62, "a node's keys fit in 64 bits"
        key = np.zeros(len(source), dtype=np.int64)
        for first, last, codes in source.parts:
            # each code of the run → its part of the key at the node
            key += source.per_code(first, last, lambda i, group: strides[i] * (
                group if source.node[i] == node[i]
                else self.up[i][source.node[i]][node[i]][group]))[codes]
        present, inverse, sums = numbered(key, space, source.counts)
        lows = np.full(len(present), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lows, inverse, source.lows)
        highs = np.full(len(present), -1, dtype=np.int64)
        np.maximum.at(highs, inverse, source.highs)
        return Table(node, present.astype(np.int64), sizes, sums, lows, highs)

    def failing(self, table: Table) -> npt.NDArray[np.bool_]:
        fails = table.counts < self.k
        if self.l >= 2:
            fails |= table.lows == table.highs
        return fails

    def evaluate(self, table: Table) -> Outcome:
        """The node's loss, rows left out and failing classes."""
        fails = self.failing(table)
        left_out = table.counts[fails]
        suppressed = int(left_out.sum())
        loss = self.bound(table.node) + self.row_cost * suppressed
        if suppressed:
            # the rows left out lose their whole row instead of their generalisation
            for first, last in table.cuts:
                cells = table.per_code(first, last, lambda i, group: self.scale[i] * (
                    self.covered[i][table.node[i]][group]))
                loss -= int(left_out @ cells[table.codes(first, last, fails)])
        return Outcome(table.node, loss, suppressed, fails)

    def fraction(self, loss: int) -> Fraction:
        return Fraction(loss, self.denominator)

    def widest_row(self, node: Node) -> int:
        """The most a row can lose at the node."""
        return sum(self.widest[i][level] for i, level in enumerate(node))

    def pair_bounds(self, nodes: Ints) -> Ints:
        """For each of ``nodes``, a lower bound of the rows it leaves out: for each pair of
        columns at their levels, the rows left out with every other column ``*`` (no node with
        those two levels leaves out fewer: merging classes never makes more fail). A pair alone
        can so prove a node infeasible, without its table."""
        top = self.top()
        least = np.zeros(len(nodes), dtype=np.int64)
        for i, j in itertools.combinations(range(self.width), 2):
            projected = self.roll(self.base, (*top[:i], 0, *top[i + 1:j], 0, *top[j + 1:]))
            left_out = np.zeros((self.levels[i], self.levels[j]), dtype=np.int64)
            for a in range(self.levels[i]):
                for b in range(self.levels[j]):
                    node = (*top[:i], a, *top[i + 1:j], b, *top[j + 1:])
                    rolled = self.roll(projected, node)
                    left_out[a, b] = int(rolled.counts[self.failing(rolled)].sum())
            np.maximum(least, left_out[nodes[:, i], nodes[:, j]], out=least)
        return least
