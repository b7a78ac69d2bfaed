"""What a linked case's customer is told (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.intake.domain import acknowledgements
from services.intake.domain.incidents import Notice

DUE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_the_acknowledgement_of_a_linked_case_tells_the_incident_and_its_eta() -> None:
    eta = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    notice = Notice("INC-1", "光缆中断，工程师正在抢修。", eta)
    text = acknowledgements.render("complaint", "hotline", "TS20260301-0001", DUE, notice)
    plain = acknowledgements.render("complaint", "hotline", "TS20260301-0001", DUE)
    assert text.startswith(plain)
    assert "光缆中断，工程师正在抢修" in text and "2026年3月1日23:30前恢复" in text
    assert "。。" not in text
    assert acknowledgements.template_code("complaint", "hotline", True) == (
        "ack.complaint.hotline.incident"
    )


def test_without_an_eta_the_acknowledgement_promises_no_time() -> None:
    text = acknowledgements.render(
        "consultation", "online", "ZX20260301-0001", DUE, Notice("INC-1", "Outage", None)
    )
    assert text.endswith("Outage。") and "恢复" not in text


def test_a_notice_shows_its_eta_in_the_operators_zone() -> None:
    notice = Notice("INC-1", "m", datetime(2026, 3, 1, 15, 30, tzinfo=UTC))
    assert notice.as_detail() == {
        "incident_id": "INC-1",
        "message": "m",
        "eta": "2026-03-01T23:30:00+08:00",
    }
