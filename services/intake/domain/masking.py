"""Customers' personal data in its display forms: masks, and the format checks behind them.

Pure functions, no I/O. Masks keep just enough for an agent to recognise a customer on the
phone ("the number ending 8000?") and nothing that identifies them on its own. The same masks
apply to what is written in a case: its content, its resolution and every text on its timeline
(notes, replies, e-mails, reasons) are shown with phone and ID numbers and e-mail addresses
masked (shared.personal_data) unless revealed like a customer's record.

The checks live here too because they define the forms the masks rely on: a phone number is
digits only once normalised, an ID number is 18 characters with an upper-case check character.
Their error texts never contain the value checked, so they can go into a 422 body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from shared.personal_data import mask_email, mask_id_number, mask_phone, mask_text

__all__ = [
    "CASE_TEXT_FIELDS",
    "ID_NUMBER_PROBLEM",
    "PHONE_PROBLEM",
    "case_as_shown",
    "mask_address_line",
    "mask_email",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "normalise_id_number",
    "normalise_phone",
    "timeline_entry_as_shown",
]

# --- formats ---------------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"\d{7,12}")
# GB 11643-1999: 17 digits weighted by these, mod 11, picks the check character
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"\d{17}[\dX]")

PHONE_PROBLEM = "not a mainland mobile number (11 digits, 1[3-9]…) or a landline (7–12 digits)"
ID_NUMBER_PROBLEM = "not a valid 18-character resident ID number (GB 11643)"


def normalise_phone(raw: str) -> str | None:
    """Digits only (spaces and dashes dropped), or None when it is no phone number.

    A number starting with 1 must be a mobile; anything else is a landline of 7–12 digits,
    possibly with its area code (0…) and a dash: `010-62345678` -> `01062345678`.
    """
    digits = re.sub(r"[\s-]", "", raw)
    if not digits.isascii() or not digits.isdigit():
        return None
    if digits.startswith("1"):
        return digits if _MOBILE.fullmatch(digits) else None
    return digits if _LANDLINE.fullmatch(digits) else None


def id_check_character(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalise_id_number(raw: str) -> str | None:
    """The 18-character ID number with an upper-case X, or None when it is not valid.

    Valid means: 17 digits and a check character that matches (GB 11643), and a birth date that
    exists. The 15-digit first-generation numbers are refused: those cards stopped being valid
    in 2013, and a second-generation number can always be asked for.
    """
    value = raw.strip().upper()
    if not _ID_SHAPE.fullmatch(value):
        return None
    if id_check_character(value[:17]) != value[17]:
        return None
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None
    return value


# --- masks -----------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """`张伟` -> `张*`, `欧阳娜娜` -> `欧***`; a one-character name is shown as `*` alone."""
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def mask_address_line(line: str | None) -> str | None:
    """The street address is hidden entirely; region and district stay visible elsewhere."""
    return None if line is None else "***"


# --- what is written in a case ---------------------------------------------------------------

# the case's own free text; the timeline's is every string of an entry's detail
CASE_TEXT_FIELDS = ("content", "resolution")


def case_as_shown(case: Mapping[str, Any], revealed: bool = False) -> dict[str, Any]:
    """A case for the API: its text masked unless `revealed`; `masked` says whether anything
    in it was."""
    shown = dict(case)
    masked = False
    for name in CASE_TEXT_FIELDS:
        value = shown.get(name)
        if isinstance(value, str) and not revealed:
            shown[name] = mask_text(value)
            masked = masked or shown[name] != value
    shown["masked"] = masked
    return shown


def timeline_entry_as_shown(entry: Mapping[str, Any], revealed: bool = False) -> dict[str, Any]:
    """A timeline entry for the API: every text in its detail masked unless `revealed`."""
    shown = dict(entry)
    if not revealed:
        shown["detail"] = _masked(entry.get("detail"))
    return shown


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value
