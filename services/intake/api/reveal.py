"""Revealing personal data: who may, and the reason they give.

A customer's record and a case's text are masked in every answer; `?reveal=true` shows them in
clear to a caller holding the `pii:read` permission who says why in `X-Access-Reason`. The view
then writes who, what, when and why to the access log in the same transaction as the read.
"""

from __future__ import annotations

import contextlib

from flask import request
from werkzeug.exceptions import BadRequest

from shared.errors import Forbidden
from shared.web import caller

PII_SCOPE = "pii:read"
REASON_HEADER = "X-Access-Reason"
MAX_REASON = 500


def access_reason() -> str:
    """The reason the caller gives for seeing personal data in clear: 403 without `pii:read`,
    400 without a reason (or one too long)."""
    if not caller().has_scope(PII_SCOPE):
        raise Forbidden(f"revealing personal data needs the {PII_SCOPE} permission")
    raw = request.headers.get(REASON_HEADER, "")
    # UTF-8 sent raw arrives as latin-1 through WSGI
    with contextlib.suppress(UnicodeError):
        raw = raw.encode("latin-1").decode("utf-8")
    reason = raw.strip()
    if not reason:
        raise BadRequest(f"say why you need the data, in the {REASON_HEADER} header")
    if len(reason) > MAX_REASON:
        raise BadRequest(f"{REASON_HEADER} is longer than {MAX_REASON} characters")
    return reason
