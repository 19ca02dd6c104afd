"""The add-checkpoint body, parsed exactly as C2SP tlog-witness writes it (else 400)."""

from __future__ import annotations

import base64

import pytest

from ebox.witness.errors import MalformedRequest
from ebox.witness.request import MAX_PROOF_LINES, parse_add_checkpoint
from tests.witness_log import MONKEYS_5, MONKEYS_8, MONKEYS_PROOF_5_8

PROOF_LINES = "".join(base64.b64encode(h).decode() + "\n" for h in MONKEYS_PROOF_5_8)
HASH = base64.b64encode(bytes(32)).decode()


def test_old_size_proof_lines_blank_line_then_the_checkpoint_note() -> None:
    request = parse_add_checkpoint(f"old 5\n{PROOF_LINES}\n{MONKEYS_8}".encode())
    assert request.old_size == 5
    assert list(request.proof) == MONKEYS_PROOF_5_8
    assert request.note == MONKEYS_8
    assert request.origin == "monkeys"


def test_old_zero_with_no_proof_lines() -> None:
    request = parse_add_checkpoint(f"old 0\n\n{MONKEYS_5}".encode())
    assert (request.old_size, request.proof, request.note) == (0, (), MONKEYS_5)


def test_the_spec_allows_63_proof_lines_and_no_more() -> None:
    lines = f"{HASH}\n" * MAX_PROOF_LINES
    assert len(parse_add_checkpoint(f"old 5\n{lines}\n{MONKEYS_8}".encode()).proof) == 63
    with pytest.raises(MalformedRequest, match="64 consistency proof lines"):
        parse_add_checkpoint(f"old 5\n{lines}{HASH}\n\n{MONKEYS_8}".encode())


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (f"old 05\n\n{MONKEYS_8}", "leading zeros"),
        (f"old -1\n\n{MONKEYS_8}", "leading zeros"),
        (f"old  5\n\n{MONKEYS_8}", "leading zeros"),
        (f"old 18446744073709551616\n\n{MONKEYS_8}", "64 bits"),
        (f"Old 5\n\n{MONKEYS_8}", "old <size>"),
        (f"5\n\n{MONKEYS_8}", "old <size>"),
        (f"old 5\n{base64.b64encode(bytes(31)).decode()}\n\n{MONKEYS_8}", "32-byte hash"),
        (f"old 5\n{HASH.rstrip('=')}\n\n{MONKEYS_8}", "32-byte hash"),
        (f"old 5\n{HASH} \n\n{MONKEYS_8}", "32-byte hash"),
        ("old 5\n\n", "no checkpoint"),
        ("old 5\n", "no empty line"),
    ],
)
def test_a_malformed_body_is_refused_with_400(body: str, why: str) -> None:
    with pytest.raises(MalformedRequest, match=why) as refused:
        parse_add_checkpoint(body.encode())
    assert refused.value.status == 400


def test_a_body_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(MalformedRequest, match="UTF-8"):
        parse_add_checkpoint(b"old 0\n\n\xff\xfe\n")
