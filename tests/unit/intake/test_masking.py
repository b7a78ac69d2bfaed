"""Masks and format checks of customers' personal data (pure functions)."""

from __future__ import annotations

import pytest

from services.intake.domain import masking

VALID_ID = "110105199001011232"


@pytest.mark.parametrize(
    "raw, normal",
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("19912345678", "19912345678"),
        ("010-62345678", "01062345678"),
        ("0755-1234567", "07551234567"),
        ("62345678", "62345678"),
        ("2345678", "2345678"),
    ],
)
def test_phone_numbers_are_normalised_to_digits(raw: str, normal: str) -> None:
    assert masking.normalise_phone(raw) == normal


@pytest.mark.parametrize(
    "raw",
    [
        "12800138000",  # no mobile prefix 12
        "1380013800",
        "138001380001",
        "1234567",  # starting with 1 it must be a mobile number
        "234567",
        "0123456789012",
        "138abc38000",
        "+8613800138000",
        "",
        "１３８００１３８０００",  # full-width digits
    ],
)
def test_other_phone_numbers_are_refused(raw: str) -> None:
    assert masking.normalise_phone(raw) is None


def test_id_numbers_need_a_matching_check_character_and_a_real_birth_date() -> None:
    assert masking.normalise_id_number(VALID_ID) == VALID_ID
    assert masking.normalise_id_number("11010519491231002x") == "11010519491231002X"
    assert masking.normalise_id_number(" 11010519491231002X ") == "11010519491231002X"
    assert masking.normalise_id_number("110105199001011234") is None  # wrong check character
    assert masking.normalise_id_number("110105199002301235") is None  # 30 February
    assert masking.normalise_id_number("110105900101123") is None  # 15-digit: refused
    assert masking.normalise_id_number("11010519900101123") is None
    assert masking.normalise_id_number("1101051990010112321") is None


def test_the_check_character_follows_gb_11643() -> None:
    assert masking.id_check_character("11010519491231002") == "X"
    assert masking.id_check_character("11010519900101123") == "2"


@pytest.mark.parametrize(
    "phone, masked",
    [
        ("13800138000", "138****8000"),
        ("075512345678", "075*****5678"),
        ("62345678", "******78"),
        ("2345678", "*****78"),
    ],
)
def test_phones_are_masked(phone: str, masked: str) -> None:
    assert masking.mask_phone(phone) == masked


def test_id_numbers_are_masked_keeping_region_and_last_four() -> None:
    assert masking.mask_id_number(VALID_ID) == "110105********1232"
    assert masking.mask_id_number("11010519491231002X") == "110105********002X"


@pytest.mark.parametrize(
    "name, masked",
    [("张伟", "张*"), ("欧阳娜娜", "欧***"), ("李", "*"), ("John Smith", "J*********")],
)
def test_names_are_masked(name: str, masked: str) -> None:
    assert masking.mask_name(name) == masked


@pytest.mark.parametrize(
    "email, masked",
    [
        ("zw@example.com", "z***@example.com"),
        ("zhang.wei.1990@example.com.cn", "z***@example.com.cn"),
        ("z@example.com", "***@example.com"),
    ],
)
def test_emails_are_masked(email: str, masked: str) -> None:
    assert masking.mask_email(email) == masked


def test_address_lines_are_hidden() -> None:
    assert masking.mask_address_line("海淀区中关村大街1号") == "***"
    assert masking.mask_address_line(None) is None


# --- what is written in a case ----------------------------------------------------------------


def test_a_case_is_shown_with_its_text_masked_unless_revealed() -> None:
    from services.intake.domain.masking import case_as_shown

    case = {
        "id": "c-1",
        "content": "ID 11010519491231002X, call 13912345678",
        "resolution": None,
        "customer_ref": "ACC-13912345678",  # an account reference is no free text
    }
    shown = case_as_shown(case)
    assert shown["content"] == "ID 110105********002X, call 139****5678"
    assert shown["resolution"] is None and shown["masked"] is True
    assert shown["customer_ref"] == "ACC-13912345678"
    assert case["content"].startswith("ID 1101051949")  # the input is not changed
    revealed = case_as_shown(case, revealed=True)
    assert revealed["content"] == case["content"] and revealed["masked"] is False
    assert case_as_shown({"content": "fine", "resolution": "done"})["masked"] is False


def test_every_text_of_a_timeline_entry_is_masked_unless_revealed() -> None:
    from services.intake.domain.masking import timeline_entry_as_shown

    entry = {
        "id": 7,
        "type": "email_in",
        "by": "mail-gateway",
        "detail": {
            "text": "手机13912345678",
            "subject": "ID 11010519491231002X",
            "attachments": [{"name": "zhao.lei@example.com.txt", "size": 3}],
            "email_id": "550e8400-e29b-41d4-a716-446655440000",
        },
    }
    shown = timeline_entry_as_shown(entry)["detail"]
    assert shown["text"] == "手机139****5678"
    assert shown["subject"] == "ID 110105********002X"
    assert shown["attachments"] == [{"name": "z***@example.com.txt", "size": 3}]
    assert shown["email_id"] == entry["detail"]["email_id"]
    assert timeline_entry_as_shown(entry, revealed=True) == entry
