"""Belgian numbers, validity periods and sender keys as an operator types them.

A wrong number is refused with the rule it breaks named (the common mistake
is one digit), and in the form the ledger keeps: digits only.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ebox.adapters.onboarding import OnboardingInputError, read_ed25519_public_key, read_moment
from ebox.domain.errors import InvalidIdentifier
from ebox.domain.ids import (
    KBO_RULE,
    NRN_RULE,
    checked_ebox_id,
    checked_kbo_number,
    checked_national_register_number,
)
from ebox.domain.validity import InvalidValidityPeriod, parse_validity

FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "58102882214")  # digits, but not ASCII


def test_numbers_are_kept_as_digits_separators_dropped() -> None:
    assert checked_kbo_number("0308.357.159") == "0308357159"
    assert checked_national_register_number("58.10.28-822.14") == "58102882214"
    assert checked_ebox_id("enterprise", "0207 251 386") == "0207251386"


def test_a_birth_in_2000_or_later_uses_the_2_prefix_rule() -> None:
    body = "010203123"  # born 3 February 2001
    check = 97 - int("2" + body) % 97
    assert checked_national_register_number(f"{body}{check:02d}") == f"{body}{check:02d}"
    with pytest.raises(InvalidIdentifier, match=f"expected {97 - int(body) % 97:02d}, or"):
        checked_national_register_number(f"{body}{(check + 1) % 97:02d}")


@pytest.mark.parametrize(
    ("check", "value", "says"),
    [
        (checked_kbo_number, "0308357158", "wrong check digits 58 (expected 59)"),
        (checked_kbo_number, "030835715", KBO_RULE),
        (checked_kbo_number, "03O8357159", "digits only"),
        (checked_national_register_number, "58102882215", "wrong check digits 15 (expected 14"),
        (checked_national_register_number, "5810288221", NRN_RULE),
        (checked_national_register_number, FULLWIDTH, "digits only"),
    ],
)
def test_a_wrong_number_is_refused_with_its_rule_named(check, value: str, says: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidIdentifier) as caught:
        check(value)
    assert says in caught.value.message
    assert "97 -" in caught.value.message or "digits only" in caught.value.message


def test_an_ebox_id_is_checked_by_its_type() -> None:
    with pytest.raises(InvalidIdentifier, match="national register number"):
        checked_ebox_id("citizen", "0308357159")
    with pytest.raises(InvalidIdentifier, match="KBO number"):
        checked_ebox_id("enterprise", "58102882214")
    with pytest.raises(InvalidIdentifier, match="citizen or enterprise"):
        checked_ebox_id("person", "58102882214")


def test_a_validity_is_days_months_or_years() -> None:
    assert parse_validity("90d") == ("DAY", 90)
    assert parse_validity("3m") == ("MONTH", 3)
    assert parse_validity("1Y") == ("YEAR", 1)
    for wrong in ("2w", "0d", "d", "1.5y", "-1m", "", "36501d", "\u0663m"):
        with pytest.raises(InvalidValidityPeriod):
            parse_validity(wrong)


def test_a_sender_key_is_read_from_pem_or_base64url() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.urlsafe_b64encode(raw).decode()
    assert read_ed25519_public_key(pem) == raw
    assert read_ed25519_public_key(encoded) == raw  # with its padding
    assert read_ed25519_public_key(encoded.rstrip("=") + "\n") == raw


def test_anything_else_is_not_a_sender_key() -> None:
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for wrong, says in [
        (rsa_pem, "must be Ed25519"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a readable PEM"),
        (base64.urlsafe_b64encode(b"\x01" * 31).decode(), "neither PEM nor"),
        ("not a key at all", "neither PEM nor"),
    ]:
        with pytest.raises(OnboardingInputError, match=says):
            read_ed25519_public_key(wrong)


def test_a_moment_needs_its_offset() -> None:
    assert read_moment(None, "--valid-from") is None
    assert read_moment("2027-01-01T01:00:00+01:00", "x").isoformat() == "2027-01-01T00:00:00+00:00"  # type: ignore[union-attr]
    for wrong in ("2027-01-01T00:00:00", "tomorrow", "0001-01-01T00:00:00+14:00", "1899-12-31Z"):
        with pytest.raises(OnboardingInputError, match="--valid-until must be an RFC 3339"):
            read_moment(wrong, "--valid-until")
