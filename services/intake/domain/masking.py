"""Customers' personal data in its display forms: masks, and the format checks behind them.

Pure functions, no I/O. Masks keep just enough for an agent to recognise a customer on the
phone ("the number ending 8000?") and nothing that identifies them on its own.

The checks live here too because they define the forms the masks rely on: a phone number is
digits only once normalised, an ID number is 18 characters with an upper-case check character.
Their error texts never contain the value checked, so they can go into a 422 body.
"""

from __future__ import annotations

import re
from datetime import date

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


def mask_phone(phone: str) -> str:
    """`13800138000` -> `138****8000`; shorter numbers show only their last two digits."""
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(len(phone) - 2, 1) + phone[-2:]


def mask_id_number(id_number: str) -> str:
    """`110105199001011232` -> `110105********1232` (region code and last four digits)."""
    if len(id_number) < 11:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_name(name: str) -> str:
    """`张伟` -> `张*`, `欧阳娜娜` -> `欧***`; a one-character name is shown as `*` alone."""
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def mask_email(email: str) -> str:
    """`zw@example.com` -> `z***@example.com`: the length of the local part is hidden too."""
    local, at, domain = email.partition("@")
    if not at:
        return "***"
    shown = local[0] if len(local) > 1 else ""
    return f"{shown}***@{domain}"


def mask_address_line(line: str | None) -> str | None:
    """The street address is hidden entirely; region and district stay visible elsewhere."""
    return None if line is None else "***"
