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
