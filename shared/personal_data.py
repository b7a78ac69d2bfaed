"""Personal data written into free text, found and masked (pure functions, no I/O).

What an agent types, a customer writes in an e-mail or says on a follow-up call often holds a
resident ID number, a mobile or landline number or an e-mail address. `mask_text` masks each of
them the way a customer's own fields are masked (`138****8000`, `110105********1232`,
`z***@example.com`), in one pass of one compiled pattern whose every repetition is bounded or
anchored at a boundary, so the cost grows linearly with the text. Names and street addresses
cannot be told from other words this way: they are not found.

An 18-character number shaped like an ID number is masked whether or not its check character is
right: a mistyped ID number is still somebody's. Digits that run on into letters or more digits
(UUIDs, case numbers, timestamps) are left alone.

The masks of single values (`mask_phone`, `mask_id_number`, `mask_email`) live here too: logs,
intake's customer records and free text all mask the same way.
"""

from __future__ import annotations

import re

# a value is only found where it does not run on from letters or digits
_EMAIL = (
    r"(?P<email>(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}"
    r"@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8})"
)
_ID_NUMBER = r"(?P<id_number>(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z]))"
# 138 0013 8000, 138-0013-8000, +86 13800138000, 008613800138000
_MOBILE = (
    r"(?P<mobile>(?<![0-9A-Za-z+])(?:(?:\+|00)?86[-\s]?)?"
    r"1[3-9]\d(?:[-\s]?\d{4}){2}(?![0-9A-Za-z]))"
)
# 010-62345678, (0755)12345678, 0571 8765432: an area code, then a local number (2-9 first)
_LANDLINE = (
    r"(?P<landline>(?<![0-9A-Za-z+-])(?P<area>\(0\d{2,3}\)|0\d{2,3})"
    r"[-\s]?[2-9]\d{6,7}(?![0-9A-Za-z]))"
)
_PERSONAL = re.compile("|".join((_EMAIL, _ID_NUMBER, _MOBILE, _LANDLINE)))
# nothing above can match text without a digit or an @: most text is passed over at C speed
_MAY_HOLD = re.compile(r"[0-9@]")

KINDS = ("email", "id_number", "mobile", "landline")


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


def mask_email(email: str) -> str:
    """`zw@example.com` -> `z***@example.com`: the length of the local part is hidden too."""
    local, at, domain = email.partition("@")
    if not at:
        return "***"
    shown = local[0] if len(local) > 1 else ""
    return f"{shown}***@{domain}"


def _digits_masked(text: str, keep_first: int, keep_last: int = 4) -> str:
    """`text` with every digit but the first `keep_first` and the last `keep_last` starred;
    spaces, dashes and brackets stay where they are."""
    total = sum(ch.isdigit() for ch in text)
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            out.append(ch if seen < keep_first or seen >= total - keep_last else "*")
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def _mask(match: re.Match[str]) -> str:
    kind, value = match.lastgroup, match.group()
    if kind == "email":
        return mask_email(value)
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "mobile":
        # the country code, and the first three digits of the number itself
        country = sum(ch.isdigit() for ch in value) - 11
        return _digits_masked(value, country + 3)
    area = match.group("area")
    return _digits_masked(value, sum(ch.isdigit() for ch in area))


def mask_text(text: str) -> str:
    """`text` with every ID number, mobile and landline number and e-mail address masked."""
    if not _MAY_HOLD.search(text):
        return text
    return _PERSONAL.sub(_mask, text)


def found_in(text: str) -> list[str]:
    """The kinds of personal data in `text` (`email`, `id_number`, `mobile`, `landline`), in
    the order they appear; empty when there is none."""
    if not _MAY_HOLD.search(text):
        return []
    return [m.lastgroup or "" for m in _PERSONAL.finditer(text)]


def holds_personal_data(text: str) -> bool:
    return bool(_MAY_HOLD.search(text)) and _PERSONAL.search(text) is not None
