"""Choosing how coarsely the funder extract writes its quasi-identifying columns.

A full-domain recoding gives every quasi column a level of its hierarchy (month → quarter → ``*``,
weekday → weekday/weekend → ``*``, …): the same level for every row. The levels of all columns
form a lattice; :func:`search` finds its node of least information loss at which every class
(rows that share every quasi value) holds at least ``k`` rows and at least ``l`` different topic
sets (distinct l-diversity), rows of the classes that fail being left out up to a cap. It works
on the table of classes at the finest level (a row per combination, with its count), never on
the rows, so its cost does not grow with the number of calls.

The loss is Iyengar's loss metric (LM, the "loss" of ARX): a cell generalised to a value covering
``g`` of the column's ``n`` leaves loses ``(g - 1) / (n - 1)`` (0 kept, 1 for ``*``), and a left-out
row loses every cell of the file (``row_cost`` of them, more than ``*`` in every quasi column), so
suppression is dearer than any generalisation of the same row; the measure is the sum over the
rows, divided by rows × quasi columns. LM is chosen over the discernibility metric because it
counts what a funder loses (the detail of each cell, column by column) rather than the size of the
classes, which the discernibility metric minimises even by writing ``*`` in a useful column.
Columns marked ``last`` (the month) are generalised only when no node keeps them whole.

The search is exact (the brute force of :func:`brute_force` finds the same node, a test checks
it): nodes are visited in order of a lower bound of their loss (the loss with no row left out,
which a column's value counts give without the table), a node below an infeasible one is
infeasible (monotonicity: merging classes never makes a class smaller or less diverse), and the
visit stops when the bound reaches the best loss found. A node's classes are rolled up from the
smallest table already made for a finer node, as ARX does. Ties go to the node that leaves out
fewer rows, then to the smaller tuple of levels: the result is deterministic.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

STAR = "*"

# A class of the finest level: its quasi values (one per column), its rows, and the least and
# greatest of its rows' topic sets (any stable codes of them). Two topic sets or more in a class
# is exactly "least differs from greatest", and stays so as classes merge: that is how distinct
# 2-diversity is checked on the table alone.
BaseClass = tuple[tuple[str, ...], int, int, int]
Node = tuple[int, ...]


@dataclass(frozen=True)
class Hierarchy:
    """A quasi column's generalisations: ``levels[0]`` is the identity of ``leaves``, each next
    level maps every leaf to a coarser group, the last to ``*``."""

    column: str
    leaves: tuple[str, ...]
    levels: tuple[dict[str, str], ...]
    last: bool = False  # generalised only when no node keeps this column whole

    @classmethod
    def of(cls, column: str, leaves: Sequence[str], *groupings: dict[str, str],
           last: bool = False) -> Hierarchy:
        """From the leaves and the groupings between identity and ``*``, finest first (a leaf
        a grouping does not name keeps its own value at that level)."""
        unique = tuple(dict.fromkeys(leaves))
        levels = ({v: v for v in unique},
                  *({v: g.get(v, v) for v in unique} for g in groupings),
                  dict.fromkeys(unique, STAR))
        return cls(column, unique, levels, last)

    def with_leaves(self, observed: Sequence[str]) -> Hierarchy:
        """The hierarchy with values it does not know (a code since retired) as leaves of
        their own, kept at every level but ``*``."""
        extra = [v for v in dict.fromkeys(observed) if v not in self.levels[0]]
        if not extra:
            return self
        levels = tuple({**level, **{v: (STAR if i == len(self.levels) - 1 else v)
                                    for v in extra}} for i, level in enumerate(self.levels))
        return Hierarchy(self.column, (*self.leaves, *extra), levels, self.last)


@dataclass(frozen=True)
class Choice:
    """The node chosen, the classes that fail it (their rows are left out) and its loss."""

    node: Node
    hierarchies: tuple[Hierarchy, ...]  # with the values the table held that they did not know
    kept_classes: frozenset[tuple[str, ...]]
    suppressed_classes: frozenset[tuple[str, ...]]
    suppressed_rows: int
    rows: int
    loss: Fraction
    k: int
    l_diversity: int
    exhaustive: bool = True  # False: the search's budget ran out; the best node met is chosen

    def generalise(self, values: Sequence[str]) -> tuple[str, ...]:
        return tuple(h.levels[level][v] for h, level, v in zip(self.hierarchies, self.node,
                                                                values, strict=True))


_KEEP_TABLES = 32  # rolled-up tables kept for coarser nodes to roll up from (the smallest)


@dataclass
class _Table:
    """A node's classes, column by column: each column's group number at the node's level,
    and each class's rows and least and greatest topic-set code."""

    node: Node
    columns: list[list[int]]
    counts: list[int]
    lows: list[int]
    highs: list[int]


class _Lattice:
    def __init__(self, hierarchies: Sequence[Hierarchy], table: Iterable[BaseClass], k: int,
                 l_diversity: int, max_suppressed: float, row_cost: float | None) -> None:
        if l_diversity > 2:
            raise ValueError("only distinct l-diversity of 1 or 2 is checked on class tables")
        # The table is read once, into columns of numbers: the values as first seen, then
        # renumbered as leaves of the hierarchies (which learn the values they did not know).
        width = len(hierarchies)
        seen: list[dict[str, int]] = [{} for _ in range(width)]
        firsts: list[list[int]] = [[] for _ in range(width)]
        counts: list[int] = []
        lows: list[int] = []
        highs: list[int] = []
        for values, count, low, high in table:
            for column, numbers, value in zip(firsts, seen, values, strict=True):
                first = numbers.get(value)
                if first is None:
                    first = numbers[value] = len(numbers)
                column.append(first)
            counts.append(count)
            lows.append(low)
            highs.append(high)
        self.hierarchies = tuple(h.with_leaves(list(numbers))
                                 for h, numbers in zip(hierarchies, seen, strict=True))
        self.k, self.l = k, l_diversity
        # Groups are numbered level by level; a leaf is its group at level 0.
        self.labels: list[list[list[str]]] = []  # column, level, group → text
        self.group: list[list[dict[str, int]]] = []  # column, level, leaf → group
        for h in self.hierarchies:
            labels, groups = [], []
            for level in h.levels:
                names = list(dict.fromkeys(level[leaf] for leaf in h.leaves))
                number = {name: n for n, name in enumerate(names)}
                labels.append(names)
                groups.append({leaf: number[level[leaf]] for leaf in h.leaves})
            self.labels.append(labels)
            self.group.append(groups)
        # column, (finer level, coarser level) → group at the finer → group at the coarser
        self.up: list[dict[tuple[int, int], list[int]]] = []
        for h, groups in zip(self.hierarchies, self.group, strict=True):
            steps = {}
            for a, b in itertools.combinations(range(len(h.levels)), 2):
                step = [0] * len(self.labels[len(self.up)][a])
                for leaf in h.leaves:
                    step[groups[a][leaf]] = groups[b][leaf]
                steps[a, b] = step
            self.up.append(steps)
        # column, level, group → the leaves it covers, less one: a cell's LM numerator
        self.covered: list[list[list[int]]] = [
            [[sum(1 for leaf in h.leaves if groups[level][leaf] == g) - 1
              for g in range(len(self.labels[i][level]))] for level in range(len(h.levels))]
            for i, (h, groups) in enumerate(zip(self.hierarchies, self.group, strict=True))]
        self.denominators = [max(1, len(h.leaves) - 1) for h in self.hierarchies]
        # (a combination given twice stays twice here: every node's table merges it)
        renumber = [[self.group[i][0][value] for value in numbers]
                    for i, numbers in enumerate(seen)]
        self.base = _Table(tuple(0 for _ in self.hierarchies),
                           [list(map(renumber[i].__getitem__, column))
                            for i, column in enumerate(firsts)], counts, lows, highs)
        del firsts
        self.rows = sum(self.base.counts)
        self.cap = int(max_suppressed * self.rows)
        self.row_cost = Fraction(len(self.hierarchies) if row_cost is None else row_cost)
        if self.row_cost < len(self.hierarchies):
            raise ValueError("a row left out must cost at least a row of stars")
        self.cells = max(1, self.rows * len(self.hierarchies))
        # Each column's loss at each level summed over every row: with the rows left out
        # counted as merely generalised, a lower bound of the node's loss (a row left out
        # costs more than any generalisation of it). Integers per column, then exact fractions.
        self.column_loss: list[list[int]] = []
        for i, h in enumerate(self.hierarchies):
            per_leaf = [0] * len(h.leaves)
            for g, count in zip(self.base.columns[i], self.base.counts, strict=True):
                per_leaf[g] += count
            self.column_loss.append([
                sum(c * self.covered[i][level][self.up[i][0, level][g] if level else g]
                    for g, c in enumerate(per_leaf))
                for level in range(len(h.levels))])
        self.tables: dict[Node, _Table] = {}
        self.work = 0  # classes rolled up so far

    def nodes(self) -> list[Node]:
        return list(itertools.product(*(range(len(h.levels)) for h in self.hierarchies)))

    def bound(self, node: Node) -> Fraction:
        return sum((Fraction(losses[level], d) for losses, level, d
                    in zip(self.column_loss, node, self.denominators, strict=True)),
                   Fraction(0)) / self.cells

    def pair_bounds(self) -> None:
        """For each pair of columns and each pair of their levels, the rows left out with every
        other column ``*``: no node with those two levels leaves out fewer (merging classes
        never makes more fail), so a pair alone can prove a node infeasible, without its
        table."""
        top = self.top()
        self.pairs: list[tuple[int, int, dict[tuple[int, int], int]]] = []
        for i, j in itertools.combinations(range(len(top)), 2):
            projected = (*top[:i], 0, *top[i + 1:j], 0, *top[j + 1:])
            table = self.classes(projected, keep=False)
            left_out = {}
            for a in range(len(self.hierarchies[i].levels)):
                for b in range(len(self.hierarchies[j].levels)):
                    node = (*top[:i], a, *top[i + 1:j], b, *top[j + 1:])
                    rolled = self.classes(node, table, keep=False)
                    left_out[a, b] = sum(rolled.counts[c] for c in self.failing(rolled))
            self.pairs.append((i, j, left_out))

    def least_left_out(self, node: Node) -> int:
        """A lower bound of the rows the node leaves out, from the pairs of columns."""
        return max((left_out[node[i], node[j]] for i, j, left_out in self.pairs), default=0)

    def classes(self, node: Node, source: _Table | None = None, keep: bool = True) -> _Table:
        """The node's classes, rolled up from ``source`` or else from the smallest table of a
        finer node made so far."""
        if source is not None:
            return self._roll(source, node, keep)
        sources = [(len(t.counts), n) for n, t in self.tables.items()
                   if all(a <= b for a, b in zip(n, node, strict=True))]
        return self._roll(self.tables[min(sources)[1]] if sources else self.base, node, keep)

    def _roll(self, source: _Table, node: Node, keep: bool) -> _Table:
        self.work += len(source.counts)
        mapped = [column if a == b else list(map(self.up[i][a, b].__getitem__, column))
                  for i, (column, a, b) in enumerate(zip(source.columns, source.node, node,
                                                         strict=True))]
        keys = mapped[0]
        stride = len(self.labels[0][node[0]])
        for i in range(1, len(mapped)):
            keys = list(map(operator.add, keys, map(operator.mul, mapped[i],
                                                    itertools.repeat(stride))))
            stride *= len(self.labels[i][node[i]])
        index: dict[int, int] = {}
        counts: list[int] = []
        lows: list[int] = []
        highs: list[int] = []
        firsts: list[int] = []
        for j, (key, count, low, high) in enumerate(zip(keys, source.counts, source.lows,
                                                         source.highs, strict=True)):
            at = index.get(key)
            if at is None:
                index[key] = len(counts)
                counts.append(count)
                lows.append(low)
                highs.append(high)
                firsts.append(j)
            else:
                counts[at] += count
                if low < lows[at]:
                    lows[at] = low
                if high > highs[at]:
                    highs[at] = high
        rolled = _Table(node, [list(map(column.__getitem__, firsts)) for column in mapped],
                        counts, lows, highs)
        if not keep:
            return rolled
        self.tables[node] = rolled
        # the oldest go first, so that memory stays bounded: twice the finest table at most
        while (len(self.tables) > _KEEP_TABLES
               or sum(len(t.counts) for t in self.tables.values()) > 2 * len(self.base.counts)):
            del self.tables[next(iter(self.tables))]
        return rolled

    def failing(self, table: _Table) -> list[int]:
        k, diverse = self.k, self.l < 2
        return [j for j, (count, low, high) in enumerate(zip(table.counts, table.lows,
                                                            table.highs, strict=True))
                if count < k or (low == high and not diverse)]

    def evaluate(self, table: _Table) -> tuple[Fraction, int, list[int]]:
        """The node's loss, the rows it leaves out and the classes that fail it."""
        failing = self.failing(table)
        suppressed = sum(table.counts[j] for j in failing)
        generalised = [losses[level] for losses, level in zip(self.column_loss, table.node,
                                                              strict=True)]
        for i, (level, column) in enumerate(zip(table.node, table.columns, strict=True)):
            covered = self.covered[i][level]
            # the rows left out lose their whole row instead of their generalisation
            generalised[i] -= sum(table.counts[j] * covered[column[j]] for j in failing)
        loss = (sum((Fraction(n, d) for n, d in zip(generalised, self.denominators,
                                                     strict=True)), Fraction(0))
                + self.row_cost * suppressed) / self.cells
        return loss, suppressed, failing

    def choice(self, table: _Table, exhaustive: bool = True) -> Choice:
        loss, suppressed, failing = self.evaluate(table)
        texts = [self.labels[i][level] for i, level in enumerate(table.node)]
        keys = [tuple(texts[i][column[j]] for i, column in enumerate(table.columns))
                for j in range(len(table.counts))]
        failed = frozenset(keys[j] for j in failing)
        return Choice(table.node, self.hierarchies, frozenset(keys) - failed, failed,
                      suppressed, self.rows, loss, self.k, self.l, exhaustive)

    def top(self) -> Node:
        return tuple(len(h.levels) - 1 for h in self.hierarchies)

    def stage(self, node: Node) -> tuple[int, ...]:
        """Columns generalised only as a last step sort first: no node generalising them is
        chosen while one keeps them."""
        return tuple(level for h, level in zip(self.hierarchies, node, strict=True) if h.last)


def search(hierarchies: Sequence[Hierarchy], table: Iterable[BaseClass], k: int,
           l_diversity: int = 2, max_suppressed: float = 0.01,
           row_cost: float | None = None, budget: float | None = None) -> Choice:
    """The node of least loss that leaves out at most ``max_suppressed`` of the rows (or, when
    none does, the top node with whatever still fails it left out). ``budget``: how much work
    the search may do, in classes rolled up (each node's classes rolled up from a table cost
    that table's size); when it runs out, the best node met so far is chosen and the choice
    says it is not proven the best."""
    lattice = _Lattice(hierarchies, table, k, l_diversity, max_suppressed, row_cost)
    lattice.pair_bounds()
    top = lattice.top()
    by_stage: dict[tuple[int, ...], list[Node]] = {}
    for node in lattice.nodes():
        by_stage.setdefault(lattice.stage(node), []).append(node)
    infeasible: list[Node] = []  # the coarsest found: every finer node is infeasible too
    # columns generalised as a last step are climbed last: the feasible nodes met on the way
    # keep them whole
    climbing = sorted(range(len(top)), key=lambda i: lattice.hierarchies[i].last)
    known: dict[Node, tuple[Fraction, int]] = {}  # feasible nodes met on the way up

    def proven_infeasible(node: Node) -> bool:
        return lattice.least_left_out(node) > lattice.cap or any(
            all(a <= b for a, b in zip(node, bad, strict=True)) for bad in infeasible)

    def evaluate(node: Node) -> tuple[Fraction, int, _Table]:
        """The node's loss, rows left out and table."""
        table = lattice.classes(node)
        loss, suppressed, _ = lattice.evaluate(table)
        if suppressed <= lattice.cap:
            known[node] = (loss, suppressed)
        return loss, suppressed, table

    def climb(node: Node, table: _Table) -> None:
        """From an infeasible node, each column in turn as high as the node stays infeasible:
        the node reached proves every node below it infeasible (Flash walks such paths). Its
        tables roll up from the one before, each smaller."""
        for i in climbing:
            while node[i] < top[i]:
                up = (*node[:i], node[i] + 1, *node[i + 1:])
                if up in known:
                    break
                if not proven_infeasible(up):
                    rolled = lattice.classes(up, table, keep=False)
                    loss, suppressed, _ = lattice.evaluate(rolled)
                    if suppressed <= lattice.cap:
                        known[up] = (loss, suppressed)
                        break
                    table = rolled
                else:
                    table = lattice.classes(up, table, keep=False)
                node = up
        infeasible[:] = [bad for bad in infeasible
                         if not all(a <= b for a, b in zip(bad, node, strict=True))]
        infeasible.append(node)

    limit = budget
    for stage in sorted(by_stage):
        best: tuple[Fraction, int, Node] | None = None
        # the bound counts what the pairs prove left out at a row's full cost
        extra = lattice.row_cost - len(top)
        for bound, node in sorted((lattice.bound(n)
                                   + extra * lattice.least_left_out(n) / lattice.cells, n)
                                  for n in by_stage[stage]):
            if best is not None and bound > best[0]:
                break
            if limit is not None and lattice.work > limit:
                met = sorted((*found, node) for node, found in known.items()
                             if lattice.stage(node) == stage)
                if met:
                    return lattice.choice(lattice.classes(met[0][2]), exhaustive=False)
                greedy = _greedy(lattice, by_stage[stage])
                if greedy is not None:
                    return greedy
                break  # nothing in this stage keeps to the cap: the next one
            if node not in known:
                if proven_infeasible(node):
                    continue
                _loss, suppressed, rolled = evaluate(node)
                if suppressed > lattice.cap:
                    climb(node, rolled)
                    continue
            if best is None or (*known[node], node) < best:
                best = (*known[node], node)
        if best is not None:
            return lattice.choice(lattice.classes(best[2]))
    return lattice.choice(lattice.classes(top))


def _greedy(lattice: _Lattice, nodes: list[Node]) -> Choice | None:
    """When the budget is spent with nothing feasible met: from the stage's finest node, one
    step at a time to the neighbour that loses least (as Datafly does) until one keeps to the
    cap; each table rolls up from the one before. None if even the stage's top fails."""
    node = min(nodes)
    table = lattice.classes(node)
    steps = [i for i in range(len(node)) if not lattice.hierarchies[i].last]
    while True:
        _, suppressed, _ = lattice.evaluate(table)
        if suppressed <= lattice.cap:
            return lattice.choice(table, exhaustive=False)
        tried = []
        for i in steps:
            if node[i] < len(lattice.hierarchies[i].levels) - 1:
                up = (*node[:i], node[i] + 1, *node[i + 1:])
                rolled = lattice.classes(up, table, keep=False)
                up_loss, up_suppressed, _ = lattice.evaluate(rolled)
                tried.append((up_suppressed > lattice.cap, up_loss, up, rolled))
        if not tried:
            return None
        _, _, node, table = min(tried, key=lambda t: t[:3])


def brute_force(hierarchies: Sequence[Hierarchy], table: Iterable[BaseClass], k: int,
                l_diversity: int = 2, max_suppressed: float = 0.01,
                row_cost: float | None = None) -> Choice:
    """Every node evaluated from the finest table: what :func:`search` must agree with."""
    lattice = _Lattice(hierarchies, table, k, l_diversity, max_suppressed, row_cost)
    results = []
    for node in lattice.nodes():
        lattice.tables.clear()
        chosen = lattice.choice(lattice.classes(node))
        if chosen.suppressed_rows <= lattice.cap:
            results.append((lattice.stage(node), chosen.loss, chosen.suppressed_rows, node,
                            chosen))
    if not results:
        lattice.tables.clear()
        return lattice.choice(lattice.classes(lattice.top()))
    return min(results, key=lambda r: r[:4])[4]
