"""What a case is, in the operator's terms: kinds, channels, categories, numbers (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

KINDS = ("consultation", "complaint")
CHANNELS = ("hotline", "email", "online")
PRIORITIES = ("low", "normal", "high", "urgent")
# the managed list of categories for a cable-TV and broadband operator
CATEGORIES = {
    "signal": "picture / signal",
    "set_top_box": "set-top box",
    "broadband": "broadband speed / outage",
    "billing": "billing",
    "package_change": "package change",
    "installation": "installation / relocation",
    "service_attitude": "service attitude",
    "other": "other",
}
# how the agent confirmed who the customer is
IDENTITY_METHODS = ("account_id_digits", "sms_code", "caller_id", "in_person")
# what can be added to a case's timeline by hand
INTERACTION_TYPES = ("call_in", "call_out", "reply", "note")
# readable over the phone: TS (投诉) for complaints, ZX (咨询) for consultations
CASE_NO_PREFIX = {"complaint": "TS", "consultation": "ZX"}
# a case may be recorded after it arrived, but not before: allow for clocks a little apart
MAX_CLOCK_SKEW = timedelta(minutes=5)
# nothing the operator handles predates its systems; earlier is a typo (year 1, 0202, ...)
EARLIEST_RECEIPT = datetime(2000, 1, 1, tzinfo=UTC)


def receipt_problem(received_at: datetime, now: datetime) -> str | None:
    """Why `received_at` cannot be the time a case reached us, or None when it can."""
    if received_at.tzinfo is None:
        return "must carry a UTC offset, e.g. 2026-02-13T10:00:00+08:00"
    if received_at > now + MAX_CLOCK_SKEW:
        return "lies in the future"
    if received_at < EARLIEST_RECEIPT:
        return "lies before 2000-01-01: a typo in the year?"
    return None
