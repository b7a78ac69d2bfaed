"""Intake's use cases; the HTTP views and event handlers write only through these."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.intake.domain.cases import CASE_NO_PREFIX
from shared.db import Transaction
from shared.events import new_event

SOURCE = "/intake"

_INSERT_CASE = """
INSERT INTO cases (id, case_no, kind, channel, category, region, priority, customer_ref,
                   content, identity_verified, agent_id, received_at, opened_at)
VALUES (%(id)s,
        case_number(%(prefix)s, nextval(%(sequence)s),
                    (%(opened_at)s AT TIME ZONE 'Asia/Shanghai')::date),
        %(kind)s, %(channel)s, %(category)s, %(region)s, %(priority)s, %(customer_ref)s,
        %(content)s, %(identity_verified)s, %(agent_id)s, %(received_at)s, %(opened_at)s)
RETURNING case_no
"""


def open_case(tx: Transaction, request: dict[str, Any], agent_id: str | None) -> dict[str, Any]:
    """Records a consultation or complaint and announces it (`case.opened`)."""
    now = datetime.now(UTC)
    case = {
        "id": uuid.uuid4(),
        "kind": request["kind"],
        "channel": request["channel"],
        "category": request["category"],
        "region": request["region"],
        "priority": request.get("priority") or "normal",
        "customer_ref": request["customer_ref"],
        "content": request["content"],
        "identity_verified": request["identity_verified"],
        "agent_id": agent_id,
        "received_at": request.get("received_at") or now,
        "opened_at": now,
    }
    params = dict(
        case,
        prefix=CASE_NO_PREFIX[case["kind"]],
        sequence=f"case_no_{case['kind']}",
    )
    case["case_no"] = tx.execute(_INSERT_CASE, params).fetchone()[0]
    case["state"] = "open"
    tx.emit(
        new_event(
            "case.opened",
            str(case["id"]),
            {
                "case_id": str(case["id"]),
                "case_no": case["case_no"],
                "kind": case["kind"],
                "channel": case["channel"],
                "category": case["category"],
                "region": case["region"],
                "priority": case["priority"],
                # the customer travels as an opaque id once intake keeps customers (never the ref)
                "customer_id": None,
                "identity_verified": case["identity_verified"],
                "agent_id": agent_id,
                "opened_at": now,
                # clocks count from receipt, which may precede recording
                "received_at": case["received_at"],
            },
            source=SOURCE,
        )
    )
    return case
