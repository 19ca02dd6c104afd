"""C2SP tlog-policy: the file that says which witnesses must have cosigned."""

from __future__ import annotations

import base64

import pytest

from ebox.domain.proofs.cosignature import Cosigner
from ebox.domain.proofs.note import NoteSigner, add_signature_lines
from ebox.domain.proofs.policy import Policy, PolicyFormatError, QuorumNotMet

LOG = NoteSigner("ledger.example/log", bytes(32))
WITNESSES = {n: Cosigner(f"w.example/{n}", bytes([i]) * 32) for i, n in enumerate("ABCD", 1)}
BODY = "ledger.example/log\n9\n" + base64.b64encode(bytes(32)).decode() + "\n"


def policy(*lines: str) -> Policy:
    return Policy.parse("\n".join(lines) + "\n")


def witness_lines(*names: str) -> list[str]:
    return [f"witness {n} {WITNESSES[n].vkey} https://{n}.example/" for n in names]


def cosigned(*names: str) -> str:
    note = LOG.sign(BODY)
    for n in names:
        note = add_signature_lines(note, WITNESSES[n].cosign(BODY, 1700000000 + ord(n)))
    return note


def test_the_specs_two_level_example_needs_two_x_and_one_y() -> None:
    p = policy(
        f"log {LOG.vkey}",
        "",
        "# X are run by one organisation, Y by another",
        *witness_lines("A", "B", "C"),
        "group X 2 A B C",
        *witness_lines("D"),
        "group Y any D",
        "group X-and-Y all X Y",
        "quorum X-and-Y",
    )
    assert p.logs[0].origin == "ledger.example/log"
    assert p.witnesses["A"].url == "https://A.example/"
    assert p.check(cosigned("A", "C", "D")) == {"A": 1700000065, "C": 1700000067, "D": 1700000068}
    with pytest.raises(QuorumNotMet, match=r"2 of \(A, B, C\)") as refused:
        p.check(cosigned("A", "D"))
    assert "valid cosignatures from: A, D" in str(refused.value)
    with pytest.raises(QuorumNotMet):
        p.check(cosigned("A", "B"))


def test_quorum_none_needs_no_witness_and_a_single_witness_quorum_needs_it() -> None:
    assert policy("quorum none").check(LOG.sign(BODY)) == {}
    single = policy(*witness_lines("A"), "quorum A")
    single.check(cosigned("A"))
    with pytest.raises(QuorumNotMet, match="witness A"):
        single.check(cosigned())


def test_whitespace_tabs_comments_and_blank_lines_are_allowed() -> None:
    p = Policy.parse(f"  # c\n\t\nwitness\tA  {WITNESSES['A'].vkey}\t\n  quorum   A  \n")
    assert p.quorum == "A"


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ((), "no quorum line"),
        (("quorum none", "quorum none"), "second quorum line"),
        (("quorum X",), "not defined on an earlier line"),
        (("group G any A", "quorum G"), "not defined on an earlier line"),
        ((*witness_lines("A"), "group G 2 A", "quorum G"), "between 1 and 1"),
        ((*witness_lines("A"), "group G 0 A", "quorum G"), "between 1 and 1"),
        ((*witness_lines("A"), "group G 01 A", "quorum G"), "not all, any or a decimal"),
        ((*witness_lines("A"), "group G any A A", "quorum G"), "more than once"),
        (
            (*witness_lines("A", "B"), "group G any A", "group H any A B", "quorum H"),
            "more than once",
        ),
        ((*witness_lines("A"), *witness_lines("A"), "quorum A"), "already defined"),
        ((f"witness none {WITNESSES['A'].vkey}", "quorum none"), "reserved"),
        (
            (f"witness A {WITNESSES['A'].vkey}", f"witness B {WITNESSES['A'].vkey}", "quorum A"),
            "duplicate witness",
        ),
        ((f"log {LOG.vkey}", f"log {LOG.vkey}", "quorum none"), "duplicate log"),
        ((f"witness A {LOG.vkey}", "quorum A"), "expected 0x04"),
        ((f"log {WITNESSES['A'].vkey}", "quorum none"), "expected 0x01"),
        (("witnesses A", "quorum none"), "unknown keyword"),
        (("group G", "quorum none"), "expected: group"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_rule(lines: tuple[str, ...], reason: str) -> None:
    with pytest.raises(PolicyFormatError, match=reason):
        policy(*lines)


def test_control_characters_are_refused_with_their_line() -> None:
    with pytest.raises(PolicyFormatError, match="policy line 2: control character 0x0d"):
        Policy.parse("quorum none\n# windows\r\n")


def test_names_are_opaque_bytes() -> None:
    kelvin = "\u212a"
    p = Policy.parse(f"witness {kelvin} {WITNESSES['A'].vkey}\nquorum {kelvin}\n".encode())
    with pytest.raises(PolicyFormatError, match="not defined"):
        Policy.parse(f"witness {kelvin} {WITNESSES['A'].vkey}\nquorum K\n")
    assert p.satisfied_by({kelvin})
