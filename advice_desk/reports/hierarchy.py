"""A quasi column's generalisation hierarchy: its values, and each coarser level's groups of them.

Kept apart from the search (:mod:`advice_desk.reports.anonymise`, which needs numpy) so that the
extract's columns can be named without loading it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

STAR = "*"


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

    def names(self, level: int) -> list[str]:
        """The texts of the level's groups, in the order of their numbers."""
        return list(dict.fromkeys(self.levels[level][leaf] for leaf in self.leaves))

    def groups(self, level: int) -> dict[str, int]:
        """Each leaf's group number at the level."""
        number = {name: n for n, name in enumerate(self.names(level))}
        return {leaf: number[self.levels[level][leaf]] for leaf in self.leaves}
