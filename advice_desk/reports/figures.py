"""The report's figures as plain data, with no database behind them, so the report window and
the outputs use them without loading SQLAlchemy. :mod:`advice_desk.reports.compute` fills them.

The fields are the keys of :data:`advice_desk.reports.measures.MEASURES` (a test keeps the two
the same); their order is the order of the JSON and CSV outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from advice_desk.json_value import JSONObject


@dataclass
class Report:
    date_from: date
    date_to: date
    total_calls: int = 0
    data_calls: int = 0
    non_data_calls: int = 0
    in_hours_calls: int = 0
    out_of_hours_calls: int = 0
    by_non_data_kind: dict[str, int] = field(default_factory=dict)
    by_topic: dict[str, int] = field(default_factory=dict)
    by_subtopic: dict[str, int] = field(default_factory=dict)
    by_caller_type: dict[str, int] = field(default_factory=dict)
    by_arrangement: dict[str, int] = field(default_factory=dict)
    by_local_authority: dict[str, int] = field(default_factory=dict)
    by_region: dict[str, int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_referral: dict[str, int] = field(default_factory=dict)
    by_worker: dict[str, int] = field(default_factory=dict)
    by_slot: dict[str, int] = field(default_factory=dict)
    duration_median_s: int | None = None
    duration_p90_s: int | None = None
    follow_ups_due: int = 0
    safeguarding_calls: int = 0
    unreviewed_calls: int = 0

    def figure(self, key: str) -> int | None:
        """A single figure by its measure key."""
        value = getattr(self, key)
        assert value is None or isinstance(value, int), f"{key} is a breakdown"
        return value

    def counts(self, key: str) -> dict[str, int]:
        """A breakdown by its measure key."""
        value = getattr(self, key)
        assert isinstance(value, dict), f"{key} is a single figure"
        return value

    def as_json(self) -> JSONObject:
        data = {name: value for name, value in vars(self).items()
                if name not in ("date_from", "date_to")}
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), **data}
