"""Topics as the intake form and the topic editor show them: plain data, so the GUI can hold
them without importing the database (:class:`advice_desk.calls.topics.Topics` makes them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicChoice:
    """A topic the form offers (or shows on an old call), with its parent's label."""

    code: str
    label: str
    parent_label: str | None
    retired: bool

    @property
    def display(self) -> str:
        return f"{self.label} ({self.parent_label})" if self.parent_label else self.label


@dataclass(frozen=True)
class TopicRow:
    """A row of the topic editor."""

    code: str
    label: str
    parent_code: str | None
    position: int
    retired: bool

    @property
    def is_subtopic(self) -> bool:
        return self.parent_code is not None
