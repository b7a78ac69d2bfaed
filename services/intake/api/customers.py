"""`/customers` (personal data, consent) and `/access-log` (who saw personal data unmasked).

Responses mask personal data. `?reveal=true` shows it in clear to a caller holding the
`pii:read` permission who says why (`X-Access-Reason`), and logs that in the same transaction.
Validation messages never repeat the value that was refused.
"""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from webargs.fields import DelimitedList
from werkzeug.exceptions import BadRequest

from services.intake import queries
from services.intake.api.reveal import access_reason
from services.intake.commands import customers
from services.intake.domain import masking
from services.intake.domain.customers import PII_FIELDS, present
from services.intake.domain.vault import Vault
from shared import clock, etags, idempotency
from shared.errors import Invalid, NotFound
from shared.paging import page_field, page_of, per_page_field
from shared.steps import time_problem
from shared.web import StrictSchema, caller, created, requires, service_db

blp = Blueprint(
    "customers", __name__, url_prefix="/customers", description="Customers and their consent"
)
access_blp = Blueprint(
    "access_log", __name__, url_prefix="/access-log", description="Unmasked reads of personal data"
)

WRITE_ROLES = ("agent", "supervisor", "system")
READ_ROLES = ("agent", "supervisor", "system", "department_staff", "department_head")
CONSENT_CHANNELS = ("hotline", "email", "online", "in_person", "written")
PURPOSE = r"^[a-z][a-z0-9_]{1,63}$"


_db = service_db


def _vault() -> Vault:
    return current_app.extensions["cs"]["vault"]


@blp.after_request
def _no_store(response: Response) -> Response:
    """Personal data, even masked, must not linger in shared caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


# --- fields that normalise, and whose errors never contain the input ---------------------------


class Trimmed(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Phone(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        normal = masking.normalise_phone(super()._deserialize(value, attr, data, **kwargs))
        if normal is None:
            raise ValidationError(masking.PHONE_PROBLEM)
        return normal


class IdNumber(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        normal = masking.normalise_id_number(super()._deserialize(value, attr, data, **kwargs))
        if normal is None:
            raise ValidationError(masking.ID_NUMBER_PROBLEM)
        return normal


class Email(fields.Email):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _phones(**kwargs: Any) -> fields.List:
    return fields.List(Phone(), validate=validate.Length(max=5), **kwargs)


# --- schemas ---------------------------------------------------------------------------------


class AddressIn(StrictSchema):
    region = Trimmed(required=True, validate=validate.Length(min=1, max=80))
    district = Trimmed(load_default=None, allow_none=True, validate=validate.Length(max=80))
    line = Trimmed(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))


class AddressPatch(StrictSchema):
    region = Trimmed(validate=validate.Length(min=1, max=80))
    district = Trimmed(allow_none=True, validate=validate.Length(max=80))
    line = Trimmed(allow_none=True, validate=validate.Length(min=1, max=200))


class CustomerIn(StrictSchema):
    account_no = Trimmed(required=True, validate=validate.Length(min=1, max=64))
    name = Trimmed(required=True, validate=validate.Length(min=1, max=50))
    phones = _phones(load_default=list)
    id_number = IdNumber(
        load_default=None,
        allow_none=True,
        metadata={"description": "18 characters, GB 11643 check character; 15-digit refused"},
    )
    email = Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    address = fields.Nested(AddressIn, required=True)


class CustomerPatch(StrictSchema):
    """Any subset; `null` clears id_number, email, address.district, address.line."""

    account_no = Trimmed(validate=validate.Length(min=1, max=64))
    name = Trimmed(validate=validate.Length(min=1, max=50))
    phones = _phones()
    id_number = IdNumber(allow_none=True)
    email = Email(allow_none=True, validate=validate.Length(max=254))
    address = fields.Nested(AddressPatch)


class AddressOut(Schema):
    region = fields.Str()
    district = fields.Str(allow_none=True)
    line = fields.Str(allow_none=True)


class CustomerOut(Schema):
    id = fields.UUID()
    account_no = fields.Str()
    name = fields.Str()
    phones = fields.List(fields.Str())
    id_number = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    address = fields.Nested(AddressOut)
    revealed = fields.List(
        fields.Str(), metadata={"description": "fields shown in clear; the rest are masked"}
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


CustomerList = page_of(CustomerOut)


class RevealQuery(Schema):
    reveal = fields.Bool(load_default=False)
    fields_ = DelimitedList(
        fields.Str(validate=validate.OneOf(PII_FIELDS)),
        data_key="fields",
        metadata={"description": "with reveal: only these fields in clear (default all)"},
    )


class SearchQuery(Schema):
    phone = fields.Str()
    account_no = fields.Str()
    email = fields.Str()
    page = page_field()
    per_page = per_page_field()


class ConsentIn(StrictSchema):
    purpose = fields.Str(
        required=True,
        validate=validate.Regexp(PURPOSE, error="lower-case letters, digits and _, 2–64 long"),
    )
    granted = fields.Bool(required=True, metadata={"description": "false records a withdrawal"})
    channel = fields.Str(required=True, validate=validate.OneOf(CONSENT_CHANNELS))
    at = fields.AwareDateTime(
        load_default=None, metadata={"description": "when the customer decided; default now"}
    )


class ConsentOut(Schema):
    id = fields.Int()
    purpose = fields.Str()
    granted = fields.Bool()
    channel = fields.Str()
    at = fields.DateTime()
    recorded_at = fields.DateTime()
    recorded_by = fields.Str()


class ConsentState(Schema):
    purpose = fields.Str()
    may_share = fields.Bool()
    since = fields.DateTime(allow_none=True)
    channel = fields.Str()


class Consents(Schema):
    current = fields.List(fields.Nested(ConsentState))
    history = fields.List(fields.Nested(ConsentOut))


class MayShare(Schema):
    purpose = fields.Str()
    may_share = fields.Bool()
    since = fields.DateTime(allow_none=True)


class AccessLogQuery(Schema):
    customer_id = fields.UUID()
    case_id = fields.UUID()
    by = fields.Str()
    page = page_field()
    per_page = per_page_field()


class AccessLogEntry(Schema):
    id = fields.Int()
    at = fields.DateTime()
    by = fields.Str()
    customer_id = fields.UUID(allow_none=True)
    case_id = fields.UUID(
        allow_none=True, metadata={"description": "set when a case's text was revealed"}
    )
    fields_ = fields.List(fields.Str(), data_key="fields", attribute="fields")
    reason = fields.Str()
    correlation_id = fields.Str(allow_none=True)


AccessLog = page_of(AccessLogEntry)


# --- views -----------------------------------------------------------------------------------


def _not_found(customer_id: uuid.UUID) -> NoReturn:
    raise NotFound(f"no customer {customer_id}")


def _version(tx: Any, customer_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    found = queries.customer_version(tx, customer_id, lock=lock)
    if found is None:
        _not_found(customer_id)
    return found


_CUSTOMER_OUT = CustomerOut()


@blp.post("")
@requires(*WRITE_ROLES)
@blp.arguments(CustomerIn)
@blp.response(201, _CUSTOMER_OUT)
@idempotency.keyed
def create_customer(body: dict[str, Any]) -> Any:
    """Record a customer; the response is masked. Safe to retry with an `Idempotency-Key`."""
    with _db().transaction() as tx:
        if (earlier := idempotency.replay(tx)) is not None:
            return earlier
        customer = customers.create(tx, _vault(), body, by=caller().subject)
        etags.tag(_version(tx, customer.id))
        answer = created(present(customer), "customers.get_customer", customer_id=customer.id)
        return idempotency.remember(tx, answer, _CUSTOMER_OUT)


@blp.get("")
@requires(*READ_ROLES)
@blp.arguments(SearchQuery, location="query")
@blp.response(200, CustomerList)
def search_customers(query: dict[str, Any]) -> Any:
    """Find customers by phone, account number or e-mail (all given must match); masked."""
    page, per_page = query.pop("page"), query.pop("per_page")
    given = {k: v for k, v in query.items() if v.strip()}
    if not given:
        raise BadRequest("give phone, account_no or email to search by: customers are not listed")
    if "phone" in given and not any(ch.isdigit() for ch in given["phone"]):
        raise BadRequest("phone must contain digits")
    with _db().transaction() as tx:
        return queries.search_customers(tx, _vault(), page, per_page, **given)


@blp.get("/<uuid:customer_id>")
@requires(*READ_ROLES)
@blp.arguments(RevealQuery, location="query")
@blp.response(200, CustomerOut)
@etags.etag
def get_customer(query: dict[str, Any], customer_id: uuid.UUID) -> Any:
    """One customer, masked; `?reveal=true` (pii:read and X-Access-Reason) shows it in clear.
    The ETag is the record's version, the same masked or not."""
    if not query["reveal"]:
        with _db().transaction() as tx:
            record = queries.get_masked_customer(tx, _vault(), customer_id)
            if record is not None:
                etags.tag(_version(tx, customer_id))
    else:
        reason = access_reason()
        with _db().transaction() as tx:
            record = customers.reveal(
                tx,
                _vault(),
                customer_id,
                by=caller().subject,
                reason=reason,
                fields=query.get("fields_") or PII_FIELDS,
            )
            if record is not None:
                etags.tag(_version(tx, customer_id))
    if record is None:
        _not_found(customer_id)
    return record


@blp.patch("/<uuid:customer_id>")
@requires(*WRITE_ROLES)
@blp.arguments(CustomerPatch)
@blp.response(200, CustomerOut)
@etags.etag
def update_customer(changes: dict[str, Any], customer_id: uuid.UUID) -> Any:
    """Change any fields; the response is masked. `If-Match`: the ETag of its GET."""
    with _db().transaction() as tx:
        etags.check_if_match(lambda: _version(tx, customer_id, lock=True))
        customer = customers.update(tx, _vault(), customer_id, changes)
        if customer is not None:
            etags.tag(_version(tx, customer_id))
    if customer is None:
        _not_found(customer_id)
    return present(customer)


@blp.post("/<uuid:customer_id>/consents")
@requires(*WRITE_ROLES)
@blp.arguments(ConsentIn)
@blp.response(201, ConsentOut)
def record_consent(body: dict[str, Any], customer_id: uuid.UUID) -> Any:
    """Record a grant (`granted: true`) or a withdrawal of consent to share for a purpose
    (`Location`: the current decision for that purpose)."""
    problem = body["at"] and time_problem(body["at"], clock.now())
    if problem:
        raise Invalid("at", problem)
    with _db().transaction() as tx:
        row = customers.record_consent(tx, customer_id, **body, by=caller().subject)
    if row is None:
        _not_found(customer_id)
    return created(row, "customers.may_share", customer_id=customer_id, purpose=body["purpose"])


@blp.get("/<uuid:customer_id>/consents")
@requires(*READ_ROLES)
@blp.response(200, Consents)
def list_consents(customer_id: uuid.UUID) -> Any:
    """The current decision per purpose, and every decision ever recorded (newest first)."""
    with _db().transaction() as tx:
        state = queries.consents(tx, customer_id)
    if state is None:
        _not_found(customer_id)
    return state


@blp.get("/<uuid:customer_id>/consents/<purpose>")
@requires(*READ_ROLES)
@blp.response(200, MayShare)
def may_share(customer_id: uuid.UUID, purpose: str) -> Any:
    """May this customer's data be shared for `purpose` now? No decision means no."""
    with _db().transaction() as tx:
        answer = queries.may_share(tx, customer_id, purpose)
    if answer is None:
        _not_found(customer_id)
    return answer


@access_blp.get("")
@requires("supervisor")
@access_blp.arguments(AccessLogQuery, location="query")
@access_blp.response(200, AccessLog)
def read_access_log(query: dict[str, Any]) -> Any:
    """Unmasked reads of personal data, newest first (supervisors only)."""
    with _db().transaction() as tx:
        return queries.access_log(tx, **query)
