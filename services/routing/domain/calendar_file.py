"""Reading an official schedule file: a year's holidays and makeup workdays (no I/O).

CSV: a header `date,working,reason`, then one line a day (`2027-02-06,false,Spring Festival`).
JSON: `{"year": 2027, "days": [{"date": "2027-02-06", "working": false, "reason": "..."}]}`
or just the list of days. Every day must fall in one year.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

_TRUE = {"true", "1", "yes", "y", "working", "work", "班"}
_FALSE = {"false", "0", "no", "n", "off", "holiday", "休"}


class CalendarFileError(ValueError):
    """What is wrong with the file, with the line or entry."""


def _working(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CalendarFileError(f"{where}: working must be true or false, not {value!r}")


def _day(value: object, where: str) -> date:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarFileError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def parse_schedule(text: str) -> tuple[int, dict[date, tuple[bool, str]]]:
    """(year, {day: (working, reason)}) from CSV or JSON text."""
    stripped = text.lstrip()
    entries: list[tuple[str, object, object, object]] = []
    if stripped.startswith(("{", "[")):
        try:
            raw = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise CalendarFileError(f"not valid JSON: {e}") from None
        days = raw.get("days") if isinstance(raw, dict) else raw
        if not isinstance(days, list):
            raise CalendarFileError("JSON must be a list of days or an object with 'days'")
        for i, d in enumerate(days):
            if not isinstance(d, dict):
                raise CalendarFileError(f"days[{i}] is not an object")
            entries.append((f"days[{i}]", d.get("date"), d.get("working"), d.get("reason")))
    else:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not {"date", "working"} <= set(reader.fieldnames):
            raise CalendarFileError("CSV needs a header line with date,working[,reason]")
        for n, row in enumerate(reader, start=2):
            entries.append((f"line {n}", row.get("date"), row.get("working"), row.get("reason")))
    if not entries:
        raise CalendarFileError("the file names no days")
    result: dict[date, tuple[bool, str]] = {}
    for where, day_value, working_value, reason in entries:
        day = _day(day_value, where)
        working = _working(working_value, where)
        result[day] = (working, str(reason or ("makeup workday" if working else "holiday")))
    years = {d.year for d in result}
    if len(years) != 1:
        raise CalendarFileError(f"a file holds one year; this one has {sorted(years)}")
    return years.pop(), result
