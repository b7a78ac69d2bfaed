"""A customer as the API shows them: personal fields masked unless revealed (pure: no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.intake.domain import masking

# the personal fields a caller may ask to see unmasked (the access log names these)
PII_FIELDS = ("name", "phones", "id_number", "email", "address.line")


@dataclass(frozen=True)
class Customer:
    """One customer, decrypted: lives only for the length of a request."""

    id: uuid.UUID
    account_no: str
    name: str
    phones: tuple[str, ...]
    id_number: str | None
    email: str | None
    region: str
    district: str | None
    address_line: str | None
    created_at: datetime
    updated_at: datetime


def present(customer: Customer, revealed: Collection[str] = ()) -> dict[str, Any]:
    """The API's view of a customer: every personal field masked except those in `revealed`."""

    def show(name: str, value: str | None, mask: Callable[[str], str]) -> str | None:
        if value is None:
            return None
        return value if name in revealed else mask(value)

    phones = list(customer.phones)
    return {
        "id": customer.id,
        "account_no": customer.account_no,
        "name": show("name", customer.name, masking.mask_name),
        "phones": phones if "phones" in revealed else [masking.mask_phone(p) for p in phones],
        "id_number": show("id_number", customer.id_number, masking.mask_id_number),
        "email": show("email", customer.email, masking.mask_email),
        "address": {
            "region": customer.region,
            "district": customer.district,
            "line": show("address.line", customer.address_line, masking.mask_address_line),
        },
        "revealed": [f for f in PII_FIELDS if f in revealed],
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }
