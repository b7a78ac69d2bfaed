"""Campaign questionnaires and the answers to them (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.personal_data import mask_text

QUESTION_TYPES = ("scale", "yes_no", "choice", "text")
SCALE = (1, 5)
TEXT_LIMIT = 2000


def question_problems(questions: Sequence[dict[str, Any]]) -> list[str]:
    """What is wrong with a questionnaire: duplicate keys, choice questions without choices."""
    problems: list[str] = []
    seen: set[str] = set()
    for q in questions:
        if q["key"] in seen:
            problems.append(f"question key {q['key']!r} is used twice")
        seen.add(q["key"])
        choices = q.get("choices") or []
        if q["type"] == "choice" and len(set(choices)) < 2:
            problems.append(f"choice question {q['key']!r} needs at least two distinct choices")
        if q["type"] != "choice" and choices:
            problems.append(f"only choice questions have choices ({q['key']!r} is {q['type']})")
    return problems


def answer_problems(
    questions: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]]
) -> list[str]:
    """What is wrong with a response's answers, one message per problem."""
    by_key = {q["key"]: q for q in questions}
    problems: list[str] = []
    seen: set[str] = set()
    for a in answers:
        key, value = a["question"], a.get("value")
        q = by_key.get(key)
        if q is None:
            problems.append(f"no question {key!r} in this campaign")
            continue
        if key in seen:
            problems.append(f"question {key!r} is answered twice")
        seen.add(key)
        problem = _value_problem(q, value)
        if problem:
            problems.append(f"{key}: {problem}")
        tagged = a.get("topic") is not None or a.get("department") is not None
        if tagged and q["type"] != "text":
            problems.append(f"{key}: only free-text answers take a topic and a department")
        if q["type"] == "text" and (a.get("topic") is None) != (a.get("department") is None):
            problems.append(f"{key}: a suggestion is tagged with both a topic and a department")
    return problems


def _value_problem(q: dict[str, Any], value: Any) -> str | None:
    kind = q["type"]
    if value is None:
        return None  # the customer did not answer this one
    if kind == "scale":
        whole = isinstance(value, int) and not isinstance(value, bool)
        ok = whole and SCALE[0] <= value <= SCALE[1]
        return None if ok else f"a whole number from {SCALE[0]} to {SCALE[1]}"
    if kind == "yes_no":
        return None if isinstance(value, bool) else "true or false"
    if kind == "choice":
        return None if value in (q.get("choices") or []) else f"one of {q.get('choices')}"
    if not isinstance(value, str) or len(value) > TEXT_LIMIT:
        return f"text of at most {TEXT_LIMIT} characters"
    return None


def as_kept(
    questions: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The answers as followup keeps them: phone and ID numbers and e-mail addresses in a
    free-text answer masked. Followup holds no personal data; a customer's way to be reached
    belongs on their record in intake."""
    text = {q["key"] for q in questions if q["type"] == "text"}
    return [
        dict(a, value=mask_text(a["value"]))
        if a["question"] in text and isinstance(a.get("value"), str)
        else dict(a)
        for a in answers
    ]


def suggestions(answers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tagged free-text answers: what goes to the departments as feedback."""
    return [
        a
        for a in answers
        if a.get("topic")
        and a.get("department")
        and isinstance(a.get("value"), str)
        and a["value"].strip()
    ]
