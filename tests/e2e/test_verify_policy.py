"""`ebox verify --policy` and `ebox audit --policy`, as a court and an auditor would run them.

A demo ledger (SQLite) writes a letter's evidence; its checkpoint is cosigned
here by two test witnesses, the way the log appends its witnesses' lines (in
the bundle's checkpoint and in every tlog-proof), and the court verifies the
file against a C2SP tlog-policy that needs both. The demo's own checkpoints
are not cosigned: an audit with a one-witness quorum is refused, one with
`quorum none` passes. Exit codes: 0 verified, 1 refused, 2 could not run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from ebox.domain.proofs.cosignature import Cosigner
from ebox.domain.proofs.note import NoteSigner, add_signature_lines, split_note
from tests.e2e.test_evidence_cli import ebox, ok

COURT = Cosigner("witness.court.example/w1", b"\x21" * 32)
BAR = Cosigner("witness.bar.example/w1", b"\x22" * 32)
COSIGNED_AT = 1_790_000_000  # 2026-09-21T14:13:20Z


@dataclass(frozen=True)
class Case:
    home: Path
    vkey: str
    evidence: Path
    pdf: Path
    cosigned: Path


def policy_file(directory: Path, name: str, *lines: str) -> Path:
    path = directory / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def both_witnesses(directory: Path, vkey: str) -> Path:
    return policy_file(
        directory,
        "both.policy",
        "# the court's and the bar's witnesses must both have seen the checkpoint",
        f"log {vkey}",
        f"witness court {COURT.vkey}",
        f"witness bar {BAR.vkey} https://witness.bar.example/",
        "group court-and-bar all court bar",
        "quorum court-and-bar",
    )


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    home = tmp_path_factory.mktemp("verify-policy") / "home"
    ok(ebox(home, "demo", "--letters", "12", "--seed", "5"))
    rows = [json.loads(line) for line in ok(ebox(home, "ledger", "export")).splitlines()]
    message_id = next(
        r["canonical"]["aggregate_id"] for r in rows if r["canonical"]["type"] == "Sent"
    )
    evidence, pdf = home.parent / "evidence.json", home.parent / "certificate.pdf"
    ok(ebox(home, "evidence", message_id, "-o", str(evidence), "--pdf", str(pdf)))
    document = json.loads(evidence.read_text(encoding="utf-8"))
    note = document["ledger"]["checkpoint"]
    body, _ = split_note(note)
    cosigned_note = add_signature_lines(
        note, COURT.cosign(body, COSIGNED_AT) + BAR.cosign(body, COSIGNED_AT + 7)
    )
    document["ledger"]["checkpoint"] = cosigned_note
    for group in ("events", "sender_events", "mailbox_events"):
        for event in document[group]:
            assert event["proof"].endswith(note)
            event["proof"] = event["proof"].replace(note, cosigned_note)
    cosigned = home.parent / "evidence-cosigned.json"
    cosigned.write_text(json.dumps(document), encoding="utf-8")
    return Case(home, ok(ebox(home, "ledger", "vkey")).strip(), evidence, pdf, cosigned)


def test_a_bundle_cosigned_by_the_quorum_verifies_and_lists_its_witnesses(case: Case) -> None:
    policy = both_witnesses(case.home.parent, case.vkey)

    certificate = case.home.parent / "cosigned-certificate.pdf"
    report = ok(
        ebox(
            case.home,
            "verify",
            str(case.cosigned),
            "--vkey",
            case.vkey,
            "--policy",
            str(policy),
            "--pdf",
            str(certificate),
        )
    )

    assert "WITNESSES: quorum met (2 valid cosignatures)" in report
    assert "Cosigned by witness court at 2026-09-21T14:13:20Z" in report
    assert "Cosigned by witness bar at 2026-09-21T14:13:27Z" in report
    assert "Quorum 'court-and-bar' met: 2 of (court, bar)." in report
    assert certificate.read_bytes().startswith(b"%PDF")
    standalone = ok(
        ebox(
            case.home,
            "bundle",
            str(case.cosigned),
            "--vkey",
            case.vkey,
            "--policy",
            str(policy),
            module="ebox.verifier",
        )
    )
    assert "WITNESSES: quorum met" in standalone


def test_the_cosigned_bundle_still_verifies_without_a_policy(case: Case) -> None:
    report = ok(ebox(case.home, "verify", str(case.cosigned), "--vkey", case.vkey))

    assert report.startswith("EVIDENCE VERIFIED")
    assert "WITNESSES" not in report


def test_a_bundle_whose_checkpoint_lacks_the_quorum_fails_in_one_line(case: Case) -> None:
    policy = both_witnesses(case.home.parent, case.vkey)

    for bundle in (case.evidence, case.pdf):
        done = ebox(case.home, "verify", str(bundle), "--vkey", case.vkey, "--policy", str(policy))
        assert done.returncode == 1, done.stdout + done.stderr
        failure = done.stdout.splitlines()[-1]
        assert failure.startswith("VERIFICATION FAILED: witness quorum not met")
        assert "'court-and-bar' (2 of (court, bar)); valid cosignatures from: none" in failure
    only_court = ebox(
        case.home,
        "bundle",
        str(case.evidence),
        "--vkey",
        case.vkey,
        "--policy",
        str(policy),
        module="ebox.verifier",
    )
    assert only_court.returncode == 1


def test_a_policy_that_does_not_list_the_ledger_refuses_it(case: Case) -> None:
    other = NoteSigner("other.example/log", b"\x23" * 32).vkey
    policy = policy_file(
        case.home.parent,
        "other-log.policy",
        f"log {other}",
        f"witness court {COURT.vkey}",
        "quorum court",
    )

    done = ebox(
        case.home, "verify", str(case.cosigned), "--vkey", case.vkey, "--policy", str(policy)
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "is not in the policy" in done.stdout.splitlines()[-1]


def test_a_missing_or_malformed_policy_file_is_one_line_and_exit_2(case: Case) -> None:
    missing = case.home.parent / "no-such.policy"
    bad = policy_file(
        case.home.parent, "bad.policy", f"witness court {COURT.vkey}", "quorum nobody"
    )
    for path, reason in ((missing, "cannot read it"), (bad, "policy line 2: quorum 'nobody'")):
        done = ebox(
            case.home, "verify", str(case.cosigned), "--vkey", case.vkey, "--policy", str(path)
        )
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert f"--policy {path}: {reason}" in done.stderr


def test_the_audit_needs_the_quorum_on_the_latest_checkpoint(case: Case) -> None:
    one = policy_file(case.home.parent, "one.policy", f"witness court {COURT.vkey}", "quorum court")
    none = policy_file(case.home.parent, "none.policy", f"log {case.vkey}", "quorum none")

    refused = ebox(case.home, "audit", "--vkey", case.vkey, "--policy", str(one))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "LEDGER AUDIT FAILED" in refused.stdout
    assert "witness quorum not met" in refused.stdout
    assert "valid cosignatures from: none" in refused.stdout

    passed = ok(ebox(case.home, "audit", "--vkey", case.vkey, "--policy", str(none)))
    assert "LEDGER AUDIT PASSED" in passed
    assert "WITNESSES (policy)" in passed
    assert "quorum 'none' met (no cosignature required)" in passed


def test_an_export_audit_applies_the_policy_too(case: Case) -> None:
    directory = case.home.parent
    files = {name: directory / f"{name}.jsonl" for name in ("checkpoints", "export", "envelopes")}
    ok(ebox(case.home, "ledger", "checkpoints", "-o", str(files["checkpoints"])))
    ok(ebox(case.home, "ledger", "export", "-o", str(files["export"])))
    ok(ebox(case.home, "ledger", "envelopes", "-o", str(files["envelopes"])))
    one = policy_file(directory, "one.policy", f"witness court {COURT.vkey}", "quorum court")
    common = ["--checkpoints", str(files["checkpoints"]), "--vkey", case.vkey, "--policy", str(one)]

    refused = ebox(case.home, "audit", "--export", str(files["export"]), *common)
    standalone = ebox(case.home, "audit", str(files["export"]), *common, module="ebox.verifier")

    for done in (refused, standalone):
        assert done.returncode == 1, done.stdout + done.stderr
        assert "witness quorum not met" in done.stdout
