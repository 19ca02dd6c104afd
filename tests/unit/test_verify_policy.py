"""With a C2SP tlog-policy, a bundle or an audit is believed only if witnesses cosigned.

The bundles come from the in-memory ledger of test_evidence_bundle; their
checkpoint notes are cosigned here by test witnesses (cosignature/v1), the
way the log appends its witnesses' lines, in the bundle and in every
tlog-proof alike.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ebox.domain.proofs.cosignature import Cosigner
from ebox.domain.proofs.note import NoteSigner, add_signature_lines, split_note
from ebox.domain.proofs.policy import Policy
from ebox.domain.proofs.timestamp import StampedTime
from ebox.verifier.audit import LedgerAuditor, entry_from_export_line
from ebox.verifier.bundle import verify_bundle
from ebox.verifier.report import render_audit_result, render_bundle_report, render_failure
from ebox.verifier.trusted_time import ProvenTime, time_section
from ebox.verifier.witnesses import LogNotInPolicy, WitnessQuorumRefused, check_witnesses
from tests.unit.test_evidence_bundle import Letter, registered_letter

WITNESSES = {n: Cosigner(f"witness.example/{n}", bytes([i]) * 32) for i, n in enumerate("ABC", 1)}
COSIGNED_AT = 1_772_445_600  # 2026-03-02T10:00:00Z


@pytest.fixture(scope="module")
def letter() -> Letter:
    return registered_letter()


def two_of_three(log_vkey: str | None = None) -> Policy:
    lines = [f"log {log_vkey}"] if log_vkey else []
    lines += [f"witness {n} {w.vkey}" for n, w in WITNESSES.items()]
    lines += ["group court-and-bar 2 A B C", "quorum court-and-bar"]
    return Policy.parse("\n".join(lines) + "\n")


def cosign(note: str, *names: str) -> str:
    body, _ = split_note(note)
    for offset, name in enumerate(names):
        note = add_signature_lines(note, WITNESSES[name].cosign(body, COSIGNED_AT + offset))
    return note


def with_note(letter: Letter, note: str, *, proofs_too: bool = True) -> str:
    """The bundle JSON with its checkpoint (and each tlog-proof's) replaced by ``note``."""
    document: dict[str, Any] = letter.bundle.as_json()
    original = document["ledger"]["checkpoint"]
    document["ledger"]["checkpoint"] = note
    if proofs_too:
        for group in ("events", "sender_events", "mailbox_events"):
            for event in document[group]:
                event["proof"] = event["proof"].replace(original, note)
    return json.dumps(document)


def test_a_checkpoint_cosigned_by_two_of_three_verifies_and_the_report_names_the_witnesses(
    letter: Letter,
) -> None:
    bundle = with_note(letter, cosign(letter.bundle.ledger.checkpoint, "A", "C"))

    report = verify_bundle(bundle, letter.vkey, policy=two_of_three(letter.vkey))

    witnesses = next(s for s in report.sections if s.title == "Witnesses")
    assert witnesses.verdict == "quorum met (2 valid cosignatures)"
    assert any("witness A at 2026-03-02T10:00:00Z" in line for line in witnesses.lines)
    assert any("witness C at 2026-03-02T10:00:01Z" in line for line in witnesses.lines)
    assert witnesses.lines[-1] == "Quorum 'court-and-bar' met: 2 of (A, B, C)."
    assert "WITNESSES: quorum met" in render_bundle_report(report)


def test_a_checkpoint_with_one_cosignature_of_two_needed_is_refused_naming_the_group(
    letter: Letter,
) -> None:
    bundle = with_note(letter, cosign(letter.bundle.ledger.checkpoint, "B"))

    with pytest.raises(WitnessQuorumRefused) as refused:
        verify_bundle(bundle, letter.vkey, policy=two_of_three())

    text = render_failure(refused.value)
    assert text.count("\n") == 1, "the refusal is one line"
    assert "'court-and-bar' (2 of (A, B, C))" in text
    assert "valid cosignatures from: B" in text


def test_an_uncosigned_checkpoint_is_refused_and_verifies_without_a_policy(letter: Letter) -> None:
    with pytest.raises(WitnessQuorumRefused, match="valid cosignatures from: none"):
        verify_bundle(letter.bundle.to_json(), letter.vkey, policy=two_of_three())
    cosigned = with_note(letter, cosign(letter.bundle.ledger.checkpoint, "A", "B", "C"))
    report = verify_bundle(cosigned, letter.vkey)  # cosignature lines are unknown keys: ignored
    assert not any(s.title == "Witnesses" for s in report.sections)


def test_a_forged_cosignature_is_refused_even_when_the_others_meet_the_quorum(
    letter: Letter,
) -> None:
    note = letter.bundle.ledger.checkpoint
    body, _ = split_note(note)
    name, _, encoded = WITNESSES["B"].cosign(body, COSIGNED_AT).rstrip("\n").rpartition(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1  # the signature no longer verifies; name and key id are B's
    forged = f"{name} {base64.b64encode(bytes(raw)).decode()}\n"
    bundle = with_note(letter, add_signature_lines(cosign(note, "A", "C"), forged))

    with pytest.raises(WitnessQuorumRefused, match="forged cosignature: invalid cosignature by"):
        verify_bundle(bundle, letter.vkey, policy=two_of_three())


def test_a_policy_that_lists_another_log_refuses_the_ledger(letter: Letter) -> None:
    other = NoteSigner("other.example/log", b"\x09" * 32)
    bundle = with_note(letter, cosign(letter.bundle.ledger.checkpoint, "A", "B"))

    with pytest.raises(LogNotInPolicy, match=r"log .* is not in the policy"):
        verify_bundle(bundle, letter.vkey, policy=two_of_three(other.vkey))


def test_quorum_none_accepts_an_uncosigned_checkpoint(letter: Letter) -> None:
    report = verify_bundle(letter.bundle.to_json(), letter.vkey, policy=Policy.parse("quorum none"))

    witnesses = next(s for s in report.sections if s.title == "Witnesses")
    assert witnesses.lines[-1] == "Quorum 'none' met: no cosignature required."


# --- the audit -----------------------------------------------------------------------------------


def audit(letter: Letter, checkpoints: list[tuple[int, str]], policy: Policy) -> Any:
    rows = letter.log.export_rows()
    entries = [entry_from_export_line(json.dumps(row), n) for n, row in enumerate(rows, 1)]
    auditor = LedgerAuditor(
        letter.log.signer.verifier(),
        checkpoints,
        verify_signatures=False,
        source="memory",
        policy=policy,
    )
    return auditor.run(entries)


def test_the_audit_requires_the_quorum_on_the_latest_checkpoint_only(letter: Letter) -> None:
    latest = letter.bundle.ledger.checkpoint
    size = int(split_note(latest)[0].split("\n")[1])
    checkpoints = [(size, cosign(latest, "A", "B"))]

    passed = audit(letter, checkpoints, two_of_three(letter.vkey))

    assert passed.ok, passed.failure
    text = render_audit_result(passed)
    assert "WITNESSES (policy)" in text
    assert f"latest checkpoint (size {size}): quorum 'court-and-bar' met" in text

    refused = audit(letter, [(size, cosign(latest, "A"))], two_of_three())
    assert isinstance(refused.failure, WitnessQuorumRefused)
    assert "the latest checkpoint" in refused.failure.reason
    assert "valid cosignatures from: A" in refused.failure.reason


def test_the_time_section_says_what_each_witness_time_proves(letter: Letter) -> None:
    bundle = with_note(letter, cosign(letter.bundle.ledger.checkpoint, "A", "B"))
    report = verify_bundle(bundle, letter.vkey, policy=two_of_three())
    witnessed = check_witnesses(
        two_of_three(), letter.log.signer.verifier(), [json.loads(bundle)["ledger"]["checkpoint"]]
    )
    token = StampedTime(datetime(2026, 3, 2, 10, 5, tzinfo=UTC), "CN=Test TSA", b"", True)

    section = time_section(
        letter.bundle, report.checkpoint, ProvenTime(token, report.checkpoint.size), witnessed
    )

    assert section.lines[1] == (
        "Witness A's cosignature: it had seen this checkpoint (and so these events) no later "
        "than 2026-03-02T10:00:00Z, by the witness's own clock."
    )
    assert "Witness B's cosignature" in section.lines[2]
    assert section.lines[3].startswith("RFC 3161 token by CN=Test TSA")
