"""Campaign answers as followup keeps them: personal data in free text masked (no I/O)."""

from __future__ import annotations

from services.followup.domain.campaigns import as_kept

QUESTIONS = [
    {"key": "overall", "type": "scale"},
    {"key": "product", "type": "choice", "choices": ["tv", "call 13912345678"]},
    {"key": "suggestion", "type": "text"},
]


def test_free_text_answers_are_kept_masked_and_nothing_else_changes() -> None:
    answers = [
        {"question": "overall", "value": 4},
        {"question": "product", "value": "call 13912345678"},
        {"question": "suggestion", "value": "ring 13912345678 or zhao@example.com", "topic": "t"},
        {"question": "suggestion", "value": None},
    ]
    kept = as_kept(QUESTIONS, answers)
    assert kept[0] == answers[0]
    assert kept[1] == answers[1]  # a choice is the supervisor's words, kept as chosen
    assert kept[2] == {
        "question": "suggestion",
        "value": "ring 139****5678 or z***@example.com",
        "topic": "t",
    }
    assert kept[3] == answers[3]
    assert answers[2]["value"] == "ring 13912345678 or zhao@example.com"  # input unchanged
