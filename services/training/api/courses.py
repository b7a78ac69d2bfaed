"""`/courses` and `/sessions`: what staff must learn, when it is taught, who came."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from services.training import queries
from services.training.api.common import (
    READERS,
    TRAINERS,
    code_format,
    db,
    role_format,
    staff_format,
)
from services.training.commands import courses as commands
from shared.errors import NotFound
from shared.paging import page_field, page_of, per_page_field
from shared.web import StrictSchema, caller, created, requires

blp = Blueprint("courses", __name__, url_prefix="/courses", description="Training courses")
sessions_blp = Blueprint(
    "sessions", __name__, url_prefix="/sessions", description="Course sessions and attendance"
)


class CourseIn(StrictSchema):
    code = fields.Str(required=True, validate=code_format)
    title = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    mandatory_for = fields.List(
        fields.Str(validate=role_format),
        load_default=list,
        metadata={"description": "staff roles that must hold a valid certificate"},
    )
    validity_months = fields.Int(
        required=True,
        validate=validate.Range(min=1, max=240),
        metadata={"description": "how long a pass stays valid"},
    )
    pass_mark = fields.Float(
        required=True,
        validate=validate.Range(min=0, max=100),
        metadata={"description": "an assessment passes with a score at or above it"},
    )


class CourseOut(Schema):
    code = fields.Str()
    title = fields.Str()
    mandatory_for = fields.List(fields.Str())
    validity_months = fields.Int()
    pass_mark = fields.Float()
    created_by = fields.Str()
    created_at = fields.DateTime()


class CourseListQuery(StrictSchema):
    mandatory_for = fields.Str(validate=role_format)
    page = page_field()
    per_page = per_page_field()


CourseListOut = page_of(CourseOut)


@blp.post("")
@requires(*TRAINERS)
@blp.arguments(CourseIn)
@blp.response(201, CourseOut)
def create_course(body: dict[str, Any]) -> Any:
    """A course; an existing code is 409."""
    with db().transaction() as tx:
        course = commands.create_course(tx, body, caller().subject)
    return created(course, "courses.get_course", code=course["code"])


@blp.get("")
@requires(*READERS)
@blp.arguments(CourseListQuery, location="query")
@blp.response(200, CourseListOut)
def list_courses(query: dict[str, Any]) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.list_courses(
            tx, query.get("mandatory_for"), query["page"], query["per_page"]
        )


@blp.get("/<code>")
@requires(*READERS)
@blp.response(200, CourseOut)
def get_course(code: str) -> dict[str, Any]:
    with db().transaction() as tx:
        course = queries.get_course(tx, code)
    if course is None:
        raise NotFound(f"no course {code}")
    return course  # type: ignore[return-value]


class SessionIn(StrictSchema):
    course_code = fields.Str(required=True, validate=code_format)
    date = fields.Date(required=True)
    trainer = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    capacity = fields.Int(required=True, validate=validate.Range(min=1, max=1000))
    location = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=200))


class EnrolmentOut(Schema):
    session_id = fields.Int()
    staff_id = fields.Str()
    enrolled_by = fields.Str()
    enrolled_at = fields.DateTime()
    attended = fields.Bool(allow_none=True, metadata={"description": "null: not recorded yet"})
    attendance_by = fields.Str(allow_none=True)
    attendance_at = fields.DateTime(allow_none=True)


class SessionSummaryOut(Schema):
    id = fields.Int()
    course_code = fields.Str()
    date = fields.Date()
    trainer = fields.Str()
    capacity = fields.Int()
    location = fields.Str(allow_none=True)
    enrolled = fields.Int()
    created_by = fields.Str()
    created_at = fields.DateTime()


class SessionOut(SessionSummaryOut):
    enrolments = fields.List(fields.Nested(EnrolmentOut))


class SessionListQuery(StrictSchema):
    course_code = fields.Str(validate=code_format)
    page = page_field()
    per_page = per_page_field()


SessionListOut = page_of(SessionSummaryOut)


class EnrolmentIn(StrictSchema):
    staff_id = fields.Str(required=True, validate=staff_format)


class AttendanceIn(StrictSchema):
    staff_id = fields.Str(required=True, validate=staff_format)
    attended = fields.Bool(load_default=True)


@sessions_blp.post("")
@requires(*TRAINERS)
@sessions_blp.arguments(SessionIn)
@sessions_blp.response(201, SessionOut)
def create_session(body: dict[str, Any]) -> Any:
    with db().transaction() as tx:
        session = commands.create_session(tx, body, caller().subject)
        made = queries.get_session(tx, session["id"])
    return created(made, "sessions.get_session", session_id=session["id"])


@sessions_blp.get("")
@requires(*READERS)
@sessions_blp.arguments(SessionListQuery, location="query")
@sessions_blp.response(200, SessionListOut)
def list_sessions(query: dict[str, Any]) -> dict[str, Any]:
    with db().transaction() as tx:
        return queries.list_sessions(tx, query.get("course_code"), query["page"], query["per_page"])


@sessions_blp.get("/<int:session_id>")
@requires(*READERS)
@sessions_blp.response(200, SessionOut)
def get_session(session_id: int) -> dict[str, Any]:
    with db().transaction() as tx:
        session = queries.get_session(tx, session_id)
    if session is None:
        raise NotFound(f"no session {session_id}")
    return session  # type: ignore[return-value]


@sessions_blp.post("/<int:session_id>/enrolments")
@requires(*TRAINERS)
@sessions_blp.arguments(EnrolmentIn)
@sessions_blp.response(201, EnrolmentOut)
def enrol(body: dict[str, Any], session_id: int) -> Any:
    """A place on the session; 409 when full or already enrolled."""
    with db().transaction() as tx:
        enrolment = commands.enrol(tx, session_id, body["staff_id"], caller().subject)
    return created(enrolment, "sessions.get_session", session_id=session_id)


@sessions_blp.post("/<int:session_id>/attendance")
@requires(*TRAINERS)
@sessions_blp.arguments(AttendanceIn)
@sessions_blp.response(200, EnrolmentOut)
def attendance(body: dict[str, Any], session_id: int) -> dict[str, Any]:
    """Who attended (or did not); someone not enrolled is enrolled if a place is free."""
    with db().transaction() as tx:
        return commands.record_attendance(
            tx, session_id, body["staff_id"], body["attended"], caller().subject
        )
