"""The shape of a value that survives ``json.dumps`` and ``json.loads`` (drafts, settings,
audit details), so those can be typed without ``Any``."""

from __future__ import annotations

JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]
JSONObject = dict[str, JSONValue]
