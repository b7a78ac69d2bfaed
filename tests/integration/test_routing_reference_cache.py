"""routing caches the calendar and the policies per process; a change is seen at once."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.routing import queries
from services.routing.commands import calendar as calendar_commands
from services.routing.commands import policies
from services.routing.domain.deadlines import SHANGHAI

START = date(2031, 3, 3)  # a Monday of a year no other test touches
TUESDAY = date(2031, 3, 4)


@pytest.fixture
def db(service_db):
    return service_db("routing")


def test_an_unchanged_calendar_is_read_once_per_process(db) -> None:
    with db.transaction() as tx:
        first = queries.calendar_from(tx, START)
    with db.transaction() as tx:
        assert queries.calendar_from(tx, START) is first


def test_a_company_exception_is_seen_by_the_next_transaction(db) -> None:
    day = date(2031, 3, 5)
    with db.transaction() as tx:
        assert queries.calendar_from(tx, START).day(day).working
    with db.transaction() as tx:
        calendar_commands.set_exception(tx, day, False, "network migration day")
    with db.transaction() as tx:
        seen = queries.calendar_from(tx, START).day(day)
    assert (seen.working, seen.reason) == (False, "network migration day")


def test_a_change_rolled_back_is_never_served_from_the_cache(db) -> None:
    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), db.transaction() as tx:
        calendar_commands.set_exception(tx, TUESDAY, False, "abandoned")
        # inside the writing transaction the change is visible
        assert not queries.calendar_from(tx, START).day(TUESDAY).working
        raise Abandon
    with db.transaction() as tx:
        assert queries.calendar_from(tx, START).day(TUESDAY).working


def test_reading_before_writing_in_one_transaction_still_sees_the_write(db) -> None:
    day = date(2031, 3, 6)
    with db.transaction() as tx:
        assert queries.calendar_from(tx, START).day(day).working
        calendar_commands.set_exception(tx, day, False, "read, then changed")
        assert not queries.calendar_from(tx, START).day(day).working


def test_a_policy_revision_is_seen_by_the_next_transaction(db) -> None:
    at = datetime(2031, 6, 2, 10, tzinfo=SHANGHAI)
    with db.transaction() as tx:
        before = queries.sla_policy(tx, "consultation", "urgent", at)
    with db.transaction() as tx:
        revised = policies.revise(
            tx,
            {
                "kind": "consultation",
                "priority": "urgent",
                "working_days": 1,
                "warning_ratio": 0.5,
                "effective_from": date(2031, 6, 1),
                "reason": "cache test",
            },
            by="tester",
        )
    with db.transaction() as tx:
        after = queries.sla_policy(tx, "consultation", "urgent", at)
    assert before is None or before["version"] != revised["version"]
    assert (after["priority"], after["version"]) == ("urgent", revised["version"])
