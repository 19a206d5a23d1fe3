"""The text a booking period's request keeps of the criteria it was ranked by
(« resident=1;working=0;spread=2 », `PeriodRequest.criteria_values`): written by the
allocation, read by its report, and rewritten by the family file's retention (which erases
the health ones). One format, here, below both areas (the periods read the file's rules, so
the file cannot import the periods)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def text_of_values(values: Iterable[tuple[str, int]]) -> str:
    return ";".join(f"{key}={value}" for key, value in values)


def values_of_text(text: str) -> dict[str, int]:
    """The values in order; a malformed part is ignored."""
    found = {}
    for part in text.split(";"):
        key, _, value = part.partition("=")
        if key and value.lstrip("-").isdigit():
            found[key] = int(value)
    return found


def without(text: str, keys: Iterable[str]) -> str:
    """The same text without the values of `keys`."""
    dropped = set(keys)
    values: Mapping[str, int] = values_of_text(text)
    return text_of_values((k, v) for k, v in values.items() if k not in dropped)
