"""Channel adapters' use cases: calls from the call-centre system, e-mail from the mail gateway.

Each takes the caller's transaction and the vault. A phone number or sender address is kept
only as a vault blob and a blind index; what the case and its timeline record never holds it.
Nothing here logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.intake import queries
from services.intake.commands import cases
from services.intake.domain.email_message import (
    InboundEmail,
    case_content,
    case_number_in,
    kind_of,
)
from services.intake.domain.vault import Vault
from shared.db import Transaction
from shared.errors import Invalid
from shared.steps import EARLIEST, Step

UNKNOWN_REGION = "unknown"


# --- hotline ---------------------------------------------------------------------------------


def record_call(tx: Transaction, vault: Vault, call: Mapping[str, Any], by: str) -> dict[str, Any]:
    """Stores a call the call-centre system reports and matches its number to a customer.

    `call["caller_number"]` is already normalised (digits). A number several customers share
    names none of them (`matched` false, `candidates` says how many). With a `case_id` the
    call also goes on that case's timeline; an unknown case is refused (Invalid `case_id`).
    """
    number = call["caller_number"]
    ids = queries.find_ids_by_phone(tx, vault, number)
    customer_id = ids[0] if len(ids) == 1 else None
    call_id = uuid.uuid4()
    started, ended = call["started_at"], call.get("ended_at")
    duration = None if ended is None else int((ended - started).total_seconds())
    case_id = call.get("case_id")
    if case_id is not None:
        # first: it locks the case, and refuses an unknown one before anything is written
        try:
            cases.add_interaction(
                tx,
                case_id,
                "call_in" if call["direction"] == "in" else "call_out",
                Step(started, call["agent_id"]),
                detail={"call_id": str(call_id), "duration_s": duration},
            )
        except cases.CaseNotFound:
            raise Invalid("case_id", "no such case") from None
    tx.execute(
        """
        INSERT INTO calls (id, caller_enc, caller_index, direction, agent_id, started_at,
                           ended_at, customer_id, candidates, case_id, recorded_by, recorded_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            call_id,
            vault.encrypt(number),
            vault.blind_index("phone", number),
            call["direction"],
            call["agent_id"],
            started,
            ended,
            customer_id,
            len(ids),
            case_id,
            by,
            tx.now,
        ),
    )
    return {
        "id": call_id,
        "customer_id": customer_id,
        "matched": customer_id is not None,
        "candidates": len(ids),
        "case_id": case_id,
        "duration_s": duration,
    }


# --- e-mail ----------------------------------------------------------------------------------


def receive_email(
    tx: Transaction, vault: Vault, email: InboundEmail, by: str, now: datetime | None = None
) -> tuple[dict[str, Any], bool]:
    """Opens a case for a new message, or adds it to the case its subject names.

    `now` is when the gateway took the message in (default: now); the case is recorded then.
    Returns (the answer, whether anything was written). A Message-ID seen before changes
    nothing and answers with the case it went to then: mail gateways retry.
    """
    now = now or tx.now
    # two deliveries of one message at once: the second waits here, then finds the first
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
        (f"intake-email:{email.message_id}",),
    )
    seen = tx.one(
        "SELECT e.case_id AS id, c.case_no, e.joined, e.message_id FROM emails e"
        " JOIN cases c ON c.id = e.case_id WHERE e.message_id = %s",
        (email.message_id,),
    )
    if seen is not None:
        return seen, False

    sender_index = vault.blind_index("email", email.sender)
    customer_id = queries.find_id_by_email(tx, vault, email.sender)
    # the sender's Date, but never later than now (a case cannot arrive in the future) and
    # never a typo'd year before the operator's systems
    sent = email.date if email.date and email.date >= EARLIEST else now
    received_at = min(sent, now)
    content = case_content(email.subject, email.text)
    mentioned = case_number_in(email.subject)
    case = _case_to_join(tx, mentioned, sender_index, customer_id) if mentioned else None
    joined = case is not None
    if case is None:
        case = cases.open_case(
            tx,
            {
                "kind": kind_of(email.subject, email.text),
                "channel": "email",
                "category": "other",
                "region": _region(tx, customer_id),
                "content": content,
                "identity_verified": False,
                "received_at": received_at,
            },
            agent_id=None,
            customer_id=customer_id,
            opened_at=now,
        )
    email_id = uuid.uuid4()
    attachments = [a.as_dict() for a in email.attachments]
    detail: dict[str, Any] = {
        "email_id": str(email_id),
        "message_id": email.message_id,
        "subject": email.subject,
        "attachments": attachments,
    }
    if mentioned and not joined:
        detail["mentioned_case_no"] = mentioned
    cases.add_interaction(tx, case["id"], "email_in", Step(received_at, by), content, detail)
    tx.execute(
        """
        INSERT INTO emails (id, case_id, joined, message_id, sender_enc, sender_index,
                            customer_id, subject, received_at, attachments, recorded_by,
                            recorded_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            email_id,
            case["id"],
            joined,
            email.message_id,
            vault.encrypt(email.sender),
            sender_index,
            customer_id,
            email.subject,
            received_at,
            Jsonb(attachments),
            by,
            tx.now,
        ),
    )
    answer = {
        "id": case["id"],
        "case_no": case["case_no"],
        "joined": joined,
        "message_id": email.message_id,
    }
    return answer, True


def _case_to_join(
    tx: Transaction, case_no: str, sender_index: bytes, customer_id: uuid.UUID | None
) -> dict[str, Any] | None:
    """The case a reply belongs to, or None (unknown number, or not this sender's case).

    Case numbers are sequential and easy to guess, so naming one is not enough: the sender
    must have written to that case before, or be the case's matched customer. Otherwise the
    message opens a case of its own (its timeline entry names the number it mentioned).
    """
    case = tx.one("SELECT id, case_no, customer_id FROM cases WHERE case_no = %s", (case_no,))
    if case is None:
        return None
    if customer_id is not None and case["customer_id"] == customer_id:
        return case
    wrote_before = tx.one(
        "SELECT 1 AS yes FROM emails WHERE case_id = %s AND sender_index = %s LIMIT 1",
        (case["id"], sender_index),
    )
    return case if wrote_before else None


def _region(tx: Transaction, customer_id: uuid.UUID | None) -> str:
    """The matched customer's region (kept in clear, no decryption needed), else `unknown`."""
    if customer_id is None:
        return UNKNOWN_REGION
    row = tx.one("SELECT region FROM customers WHERE id = %s", (customer_id,))
    return row["region"] if row else UNKNOWN_REGION
