"""Reading RFC 9457 problem details (the body of every error answer) in tests."""

from __future__ import annotations

from typing import Any


def invalid_fields(problem: dict[str, Any]) -> set[str]:
    """The fields a problem's `errors` name, by their first step: `#/phones/0` -> `phones`,
    the query parameter `per_page` -> `per_page`, the header `If-Match` -> `If-Match`."""
    names = set()
    for entry in problem.get("errors", []):
        if "pointer" in entry:
            names.add(entry["pointer"].removeprefix("#/").split("/")[0])
        else:
            names.add(entry.get("parameter") or entry.get("header") or "")
    return names
