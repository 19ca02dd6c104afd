"""`ebox evidence`, `ebox verify` and `ebox audit`, run as an operator, a court, an auditor would.

One demo ledger (SQLite) serves the module: the operator writes a letter's
evidence and certificate; a court verifies the file with the published key,
then sees a tampered copy refused; an auditor audits the database, then an
export made of the three files `ebox ledger export / checkpoints / envelopes`,
then a tampered export. Exit codes: 0 verified, 1 failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Demo:
    home: Path
    vkey: str
    message_id: str


def ebox(home: Path, *args: str, module: str = "ebox.cli.main") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env={**os.environ, "EBOX_HOME": str(home), "COLUMNS": "200"},
        cwd=home.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    home = tmp_path_factory.mktemp("evidence-cli") / "home"
    ok(ebox(home, "demo", "--letters", "30", "--seed", "3"))
    rows = [json.loads(line) for line in ok(ebox(home, "ledger", "export")).splitlines()]
    types: dict[str, set[str]] = {}
    for row in rows:
        types.setdefault(row["canonical"]["aggregate_id"], set()).add(row["canonical"]["type"])
    message_id = next(a for a, t in types.items() if {"Sent", "Read", "Archived"} <= t)
    return Demo(home, ok(ebox(home, "ledger", "vkey")).strip(), message_id)


def test_the_operator_writes_evidence_and_a_court_verifies_it_offline(demo: Demo) -> None:
    evidence, pdf = demo.home.parent / "evidence.json", demo.home.parent / "certificate.pdf"
    ok(
        ebox(
            demo.home,
            "evidence",
            demo.message_id,
            "-o",
            str(evidence),
            "--pdf",
            str(pdf),
            "--disclose",
        )
    )

    report = ok(ebox(demo.home, "verify", str(evidence), "--vkey", demo.vkey))
    assert report.startswith(f"EVIDENCE VERIFIED: message {demo.message_id}")
    for section in (
        "ORIGIN: PROVEN",
        "DESTINATION: PROVEN",
        "INTEGRITY: PROVEN",
        "CONFIDENTIALITY: PROVEN",
    ):
        assert section in report
    assert "Read: first opening of brief.pdf" in report and "channel portal" in report
    assert "Archived" in report

    standalone = ok(
        ebox(demo.home, "bundle", str(evidence), "--vkey", demo.vkey, module="ebox.verifier")
    )
    assert standalone == report

    if shutil.which("pdftotext") or os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert demo.message_id in text and "VERIFIED" in text and "FOD Financi" in text


def test_a_tampered_bundle_fails_with_the_exact_reason(demo: Demo) -> None:
    evidence = demo.home.parent / "evidence-tampered.json"
    ok(ebox(demo.home, "evidence", demo.message_id, "-o", str(evidence)))
    bundle = json.loads(evidence.read_text())
    read = next(e for e in bundle["events"] if e["canonical"]["type"] == "Read")
    read["canonical"]["data"]["channel"] = "partner-app"
    evidence.write_text(json.dumps(bundle))

    done = ebox(demo.home, "verify", str(evidence), "--vkey", demo.vkey)
    assert done.returncode == 1
    assert done.stdout.startswith("VERIFICATION FAILED")
    assert "modified" in done.stdout and "does not hash to its event_hash" in done.stdout
    assert f"leaf {read['leaf_index']}" in done.stdout


def test_an_auditor_audits_the_database_and_an_export(demo: Demo) -> None:
    database = ok(ebox(demo.home, "audit", "--vkey", demo.vkey))
    assert database.startswith("LEDGER AUDIT PASSED") and "30 signatures verified" in database

    folder = demo.home.parent
    for command, name in (
        ("export", "export.jsonl"),
        ("checkpoints", "checkpoints.jsonl"),
        ("envelopes", "envelopes.jsonl"),
    ):
        ok(ebox(demo.home, "ledger", command, "-o", str(folder / name)))
    (folder / "vkey.txt").write_text(demo.vkey + "\n")
    args = [
        "audit",
        "--export",
        str(folder / "export.jsonl"),
        "--checkpoints",
        str(folder / "checkpoints.jsonl"),
        "--vkey",
        str(folder / "vkey.txt"),
    ]
    export = ok(ebox(demo.home, *args, "--envelopes", str(folder / "envelopes.jsonl")))
    assert export.startswith("LEDGER AUDIT PASSED") and "30 signatures verified" in export
    assert "checked for key validity only" in ok(ebox(demo.home, *args))

    lines = (folder / "export.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[42]
    (folder / "export.jsonl").write_text("".join(lines), encoding="utf-8")
    tampered = ebox(demo.home, *args)
    assert tampered.returncode == 1
    assert "LEDGER AUDIT FAILED" in tampered.stdout and "missing" in tampered.stdout
    assert "leaf 42 is absent" in tampered.stdout


def test_a_court_verifies_the_sealed_certificate_pdf_itself(demo: Demo) -> None:
    evidence, pdf = demo.home.parent / "sealed.json", demo.home.parent / "sealed.pdf"
    ok(ebox(demo.home, "evidence", demo.message_id, "-o", str(evidence), "--pdf", str(pdf)))

    report = ok(ebox(demo.home, "verify", str(pdf), "--vkey", demo.vkey))
    first, rest = report.split("\n", 1)
    assert first.startswith("PDF seal: intact, covers the whole file, by ")
    assert "the certificate the PDF carries (integrity only" in first
    assert rest.startswith(f"EVIDENCE VERIFIED: message {demo.message_id}")
    assert rest == ok(ebox(demo.home, "verify", str(evidence), "--vkey", demo.vkey))

    trusted = ok(
        ebox(
            demo.home,
            "verify",
            str(pdf),
            "--vkey",
            demo.vkey,
            "--seal-cert",
            str(demo.home / "seal.crt"),
        )
    )
    assert "validated against the sealing certificate you gave" in trusted.split("\n", 1)[0]


def test_a_changed_certificate_pdf_fails_in_one_line(demo: Demo) -> None:
    pdf = demo.home.parent / "changed.pdf"
    ok(ebox(demo.home, "evidence", demo.message_id, "-o", str(pdf) + ".json", "--pdf", str(pdf)))
    raw = pdf.read_bytes()
    changed = demo.home.parent / "changed-byte.pdf"
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0x01
    changed.write_bytes(bytes(flipped))
    done = ebox(demo.home, "verify", str(changed), "--vkey", demo.vkey)
    assert done.returncode == 1
    assert done.stdout.startswith("VERIFICATION FAILED: ") and done.stdout.count("\n") == 1

    appended = demo.home.parent / "appended.pdf"  # a valid PDF update after the seal
    appended.write_bytes(raw + b"\n% appended after sealing\n")
    done = ebox(demo.home, "verify", str(appended), "--vkey", demo.vkey)
    assert done.returncode == 1 and done.stdout.count("\n") == 1, done.stdout


def test_a_pdf_without_a_seal_or_a_bundle_fails_in_one_line(demo: Demo) -> None:
    evidence, pdf = demo.home.parent / "plain.json", demo.home.parent / "plain.pdf"
    ok(ebox(demo.home, "evidence", demo.message_id, "-o", str(evidence)))
    ok(  # the standalone verifier's certificate: not sealed, no bundle inside
        ebox(
            demo.home,
            "bundle",
            str(evidence),
            "--vkey",
            demo.vkey,
            "--pdf",
            str(pdf),
            module="ebox.verifier",
        )
    )
    done = ebox(demo.home, "verify", str(pdf), "--vkey", demo.vkey)
    assert done.returncode == 1
    assert done.stdout == (
        "VERIFICATION FAILED: the PDF carries no seal (no PAdES signature): "
        "not a sealed certificate\n"
    )
