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
it), in the manner of ARX's Flash and OLA: both properties are monotone under generalisation with
a suppression budget (merging classes never makes a class smaller or less diverse), so a node
below an infeasible one is infeasible and a node above a feasible one feasible. Nodes are visited
in order of a lower bound of their loss (the loss were no row left out, raised by the rows that
pairs of columns alone prove left out), skipping those proven infeasible; from an infeasible node
each column is climbed as far as the node stays infeasible, which proves the whole set below the
node reached infeasible at once; the visit stops when the bound passes the best loss found. A
node's classes are rolled up from the smallest table already made for a finer node, in numpy
(:mod:`advice_desk.reports.lattice`). Ties go to the node that leaves out fewer rows, then to the
smaller tuple of levels: the result is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from advice_desk.reports.hierarchy import STAR, Hierarchy
from advice_desk.reports.lattice import Ints, Lattice, Node, Outcome, Table

__all__ = ["STAR", "BaseClass", "Choice", "Classes", "Hierarchy", "brute_force", "search"]

# A class of the finest level: its quasi values (one per column), its rows, and the least and
# greatest of its rows' topic sets (any stable codes of them). Two topic sets or more in a class
# is exactly "least differs from greatest", and stays so as classes merge: that is how distinct
# 2-diversity is checked on the table alone.
BaseClass = tuple[tuple[str, ...], int, int, int]


@dataclass(frozen=True)
class Classes:
    """The table of classes at the finest level, in numbers: ``codes[:, i]`` is each class's
    value of column ``i`` as its index in ``values[i]``."""

    values: tuple[tuple[str, ...], ...]
    codes: npt.NDArray[np.int32] | Ints
    counts: Ints
    lows: Ints
    highs: Ints

    @classmethod
    def of(cls, table: Iterable[BaseClass], width: int) -> Classes:
        seen: list[dict[str, int]] = [{} for _ in range(width)]
        codes: list[list[int]] = []
        counts, lows, highs = [], [], []
        for values, count, low, high in table:
            codes.append([numbers.setdefault(value, len(numbers))
                          for numbers, value in zip(seen, values, strict=True)])
            counts.append(count)
            lows.append(low)
            highs.append(high)
        return cls(tuple(tuple(numbers) for numbers in seen),
                   np.array(codes, dtype=np.int64).reshape(len(codes), width),
                   np.array(counts, dtype=np.int64), np.array(lows, dtype=np.int64),
                   np.array(highs, dtype=np.int64))


@dataclass(frozen=True)
class Choice:
    """The node chosen, its classes (those that fail it have their rows left out) and its
    loss."""

    node: Node
    hierarchies: tuple[Hierarchy, ...]  # with the values the table held that they did not know
    table: Table  # the node's classes, by group number at the node's levels
    failing: npt.NDArray[np.bool_]  # one per class of ``table``
    suppressed_rows: int
    rows: int
    loss: Fraction
    k: int
    l_diversity: int
    exhaustive: bool = True  # False: the search's budget ran out; the best node met is chosen

    def names(self) -> list[list[str]]:
        """Each column's written texts, by group number at the node's level."""
        return [h.names(level) for h, level in zip(self.hierarchies, self.node, strict=True)]


def _lattice(hierarchies: Sequence[Hierarchy], table: Iterable[BaseClass] | Classes, k: int,
             l_diversity: int, max_suppressed: float, row_cost: float | None
             ) -> tuple[Lattice, tuple[Hierarchy, ...]]:
    classes = table if isinstance(table, Classes) else Classes.of(table, len(hierarchies))
    made = tuple(h.with_leaves(values) for h, values in zip(hierarchies, classes.values,
                                                            strict=True))
    up: list[list[list[Ints]]] = []
    leaf_codes = []
    for h, values in zip(made, classes.values, strict=True):
        groups = [h.groups(level) for level in range(len(h.levels))]
        steps: list[list[Ints]] = []
        for a in range(len(h.levels)):
            row = []
            for b in range(len(h.levels)):
                step = np.zeros(len(set(groups[a].values())), dtype=np.int64)
                if b >= a:
                    for leaf in h.leaves:
                        step[groups[a][leaf]] = groups[b][leaf]
                row.append(step)
            steps.append(row)
        up.append(steps)
        leaf_codes.append(np.array([groups[0][v] for v in values], dtype=np.int64))
    width = len(made)
    leaves = tuple(leaf_codes[i][classes.codes[:, i]].astype(np.int32) for i in range(width))
    # topic-set codes as dense numbers: equal stays equal, order is kept
    _, dense = np.unique(np.concatenate([classes.lows, classes.highs]), return_inverse=True)
    n = len(classes.counts)
    base = Table.of_groups(tuple(0 for _ in made), leaves, [len(steps[0][0]) for steps in up],
                           classes.counts, dense[:n], dense[n:])
    cost = Fraction(width if row_cost is None else row_cost)
    return Lattice(up, base, k, l_diversity, max_suppressed, cost), made


def _choice(lattice: Lattice, hierarchies: tuple[Hierarchy, ...], table: Table,
            exhaustive: bool = True) -> Choice:
    outcome = lattice.evaluate(table)
    return Choice(table.node, hierarchies, table, outcome.failing, outcome.suppressed,
                  lattice.rows, lattice.fraction(outcome.loss), lattice.k, lattice.l,
                  exhaustive)


def search(hierarchies: Sequence[Hierarchy], table: Iterable[BaseClass] | Classes, k: int,
           l_diversity: int = 2, max_suppressed: float = 0.01,
           row_cost: float | None = None, budget: float | None = None) -> Choice:
    """The node of least loss that leaves out at most ``max_suppressed`` of the rows (or, when
    none does, the top node with whatever still fails it left out). ``budget``: how much work
    the search may do, in classes rolled up (each node's classes rolled up from a table cost
    that table's size); when it runs out, the best node met so far is chosen and the choice
    says it is not proven the best."""
    lattice, made = _lattice(hierarchies, table, k, l_diversity, max_suppressed, row_cost)
    return _Search(lattice, made, budget).run()


class _Search:
    """The search's knowledge of every node: a lower bound of the rows it leaves out (from the
    pairs of columns, and from every coarser node evaluated: a node leaves out at least as
    many as any node above it), so a bound of its loss; and the nodes evaluated."""

    def __init__(self, lattice: Lattice, hierarchies: tuple[Hierarchy, ...],
                 budget: float | None) -> None:
        self.lattice, self.hierarchies, self.budget = lattice, hierarchies, budget
        self.top = lattice.top()
        self.nodes = lattice.nodes()
        self.all = np.array(self.nodes, dtype=np.int64).reshape(-1, lattice.width)
        self.radix = np.cumprod([1, *lattice.levels[:0:-1]])[::-1]
        self.left_out = lattice.pair_bounds(self.all)
        # column i, level → which nodes have column i at that level or below
        self.at_most = [[self.all[:, i] <= level for level in range(n)]
                        for i, n in enumerate(lattice.levels)]
        self.known: dict[Node, Outcome] = {}  # nodes evaluated
        self.feasible = np.zeros_like(self.all)  # the first ``found`` rows: nodes found so
        self.found = 0
        self.last = [i for i, h in enumerate(hierarchies) if h.last]
        # columns generalised as a last step are climbed last: the nodes met on the way
        # keep them whole
        self.climbing = sorted(range(lattice.width), key=lambda i: hierarchies[i].last)

    def stage(self, node: Node) -> tuple[int, ...]:
        """Columns generalised only as a last step sort first: no node generalising them is
        chosen while one keeps them."""
        return tuple(node[i] for i in self.last)

    def index(self, node: Node) -> int:
        return int(np.dot(self.radix, node))

    def proven_infeasible(self, node: Node) -> bool:
        return int(self.left_out[self.index(node)]) > self.lattice.cap

    def proven_feasible(self, node: Node) -> bool:
        """Whether ``node`` is at or above a node evaluated feasible."""
        return bool(np.all(self.feasible[:self.found] <= np.array(node), axis=1).any())

    def evaluate(self, node: Node, source: Table | None = None) -> tuple[Outcome, Table]:
        table = self.lattice.classes(node, source, keep=source is None)
        outcome = self.known[node] = self.lattice.evaluate(table)
        self.learn(node, outcome.suppressed)
        if outcome.suppressed <= self.lattice.cap:
            self.feasible[self.found] = node
            self.found += 1
        return outcome, table

    def learn(self, node: Node, left_out: int) -> None:
        """Every node below ``node`` leaves out at least ``left_out`` rows."""
        below = self.at_most[0][node[0]].copy()
        for i, level in enumerate(node[1:], start=1):
            below &= self.at_most[i][level]
        self.left_out[below] = np.maximum(self.left_out[below], left_out)

    def climb(self, node: Node, table: Table) -> None:
        """From an infeasible node, each column in turn as high as the node stays infeasible:
        the node reached proves every node below it infeasible (Flash walks such paths). Its
        tables roll up from the one before, each smaller."""
        cap = self.lattice.cap
        for i in self.climbing:
            while node[i] < self.top[i]:
                up = (*node[:i], node[i] + 1, *node[i + 1:])
                if self.proven_feasible(up):
                    break
                if self.proven_infeasible(up):
                    table = self.lattice.classes(up, table, keep=False)
                else:
                    outcome, rolled = self.evaluate(up, table)
                    if outcome.suppressed <= cap:
                        break
                    table = rolled
                node = up

    def run(self) -> Choice:
        lattice = self.lattice
        cap = lattice.cap
        # a row left out costs its row instead of its generalisation: at least this more
        extra = [lattice.row_cost - lattice.widest_row(node) for node in self.nodes]
        bounds = [lattice.bound(node) for node in self.nodes]
        by_stage: dict[tuple[int, ...], list[tuple[int, int, Node]]] = {}
        for at, node in enumerate(self.nodes):
            bound = bounds[at] + extra[at] * int(self.left_out[at])
            by_stage.setdefault(self.stage(node), []).append((bound, at, node))
        for stage in sorted(by_stage):
            best: tuple[int, int, Node] | None = None
            stage_top = list(self.top)
            for i, level in zip(self.last, stage, strict=True):
                stage_top[i] = level
            if self.proven_infeasible(tuple(stage_top)) or self.evaluate(
                    tuple(stage_top))[0].suppressed > cap:
                continue  # nothing in this stage keeps to the cap
            for first_bound, at, node in sorted(by_stage[stage]):
                if best is not None and first_bound > best[0]:
                    break
                if self.budget is not None and lattice.work > self.budget:
                    return self.out_of_budget(stage, [n for _, _, n in by_stage[stage]])
                outcome = self.known.get(node)
                if outcome is None:
                    least = int(self.left_out[at])
                    if least > cap or (best is not None
                                       and bounds[at] + extra[at] * least > best[0]):
                        continue
                    outcome, table = self.evaluate(node)
                    if outcome.suppressed > cap:
                        self.climb(node, table)
                        continue
                elif outcome.suppressed > cap:
                    continue
                if best is None or (outcome.loss, outcome.suppressed, node) < best:
                    best = (outcome.loss, outcome.suppressed, node)
            if best is not None:
                return _choice(lattice, self.hierarchies, lattice.classes(best[2]))
        return _choice(lattice, self.hierarchies, lattice.classes(self.top))

    def out_of_budget(self, stage: tuple[int, ...], nodes: list[Node]) -> Choice:
        """The best node of the stage met so far, or else a greedy walk up from its finest."""
        lattice = self.lattice
        met = sorted((o.loss, o.suppressed, n) for n, o in self.known.items()
                     if self.stage(n) == stage and o.suppressed <= lattice.cap)
        if met:
            return _choice(lattice, self.hierarchies, lattice.classes(met[0][2]), False)
        greedy = _greedy(lattice, self.hierarchies, nodes)
        if greedy is not None:
            return greedy
        return _choice(lattice, self.hierarchies, lattice.classes(self.top), False)


def _greedy(lattice: Lattice, hierarchies: tuple[Hierarchy, ...],
            nodes: list[Node]) -> Choice | None:
    """From the stage's finest node, one step at a time to the neighbour that loses least
    (as Datafly does) until one keeps to the cap; each table rolls up from the one before.
    None if even the stage's top fails."""
    node = min(nodes)
    table = lattice.classes(node)
    steps = [i for i in range(len(node)) if not hierarchies[i].last]
    while lattice.evaluate(table).suppressed > lattice.cap:
        tried = []
        for i in steps:
            if node[i] < lattice.levels[i] - 1:
                up = (*node[:i], node[i] + 1, *node[i + 1:])
                rolled = lattice.classes(up, table, keep=False)
                outcome = lattice.evaluate(rolled)
                tried.append((outcome.suppressed > lattice.cap, outcome.loss, up, rolled))
        if not tried:
            return None
        _, _, node, table = min(tried, key=lambda t: t[:3])
    return _choice(lattice, hierarchies, table, exhaustive=False)


def brute_force(hierarchies: Sequence[Hierarchy], table: Iterable[BaseClass] | Classes, k: int,
                l_diversity: int = 2, max_suppressed: float = 0.01,
                row_cost: float | None = None) -> Choice:
    """Every node evaluated from the finest table: what :func:`search` must agree with."""
    lattice, made = _lattice(hierarchies, table, k, l_diversity, max_suppressed, row_cost)
    stage = [i for i, h in enumerate(made) if h.last]
    results = []
    for node in lattice.nodes():
        outcome = lattice.evaluate(lattice.roll(lattice.base, node))
        if outcome.suppressed <= lattice.cap:
            results.append((tuple(node[i] for i in stage), outcome.loss, outcome.suppressed,
                            node))
    best = min(results)[3] if results else lattice.top()
    return _choice(lattice, made, lattice.roll(lattice.base, best))
