"""`ebox demo` and the ledger commands, run as a newcomer would run them."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ebox.domain.proofs.canonical import canonical_json
from ebox.domain.proofs.checkpoint import open_checkpoint
from ebox.domain.proofs.merkle import leaf_hash, root_of, verify_consistency
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.proofs.tlogproof import verify_tlog_proof


def ebox(home: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *args],
        env={**os.environ, "EBOX_HOME": str(home)},
        cwd=home.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def demo_home(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, list[str]]:
    home = tmp_path / "home"
    url_args: list[str] = []
    if request.param == "postgresql":
        url_args = ["--db", request.getfixturevalue("postgres_url")]
    output = ebox(home, "demo", "--letters", "60", "--seed", "7", *url_args)
    assert "Latest checkpoint, as signed:" in output
    return home, url_args


@pytest.mark.parametrize(
    "demo_home", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_demo_checkpoint_root_is_the_rfc6962_root_of_the_export(
    demo_home: tuple[Path, list[str]],
) -> None:
    home, db = demo_home
    note = ebox(home, "ledger", "checkpoint", *db)
    verifier = NoteVerifier(ebox(home, "ledger", "vkey").strip())
    checkpoint = open_checkpoint(note, verifier)

    rows = [json.loads(line) for line in ebox(home, "ledger", "export", *db).splitlines()]
    assert [r["leaf_index"] for r in rows] == list(range(len(rows)))
    for row in rows:
        assert hashlib.sha256(canonical_json(row["canonical"])).hexdigest() == row["event_hash"]
    assert checkpoint.size == len(rows)
    assert checkpoint.root == root_of([leaf_hash(bytes.fromhex(r["event_hash"])) for r in rows])

    types = {r["canonical"]["type"] for r in rows}
    assert {"Registered", "Opened", "Sent", "Delivered", "Read", "Archived"} <= types

    proof = ebox(home, "ledger", "proof", "5", *db)
    assert proof.startswith("c2sp.org/tlog-proof@v1\n")
    verify_tlog_proof(proof, leaf_hash(bytes.fromhex(rows[5]["event_hash"])), verifier)

    hashes = [
        base64.b64decode(h)
        for h in ebox(home, "ledger", "consistency", "100", str(len(rows)), *db).split()
    ]
    first_root = root_of([leaf_hash(bytes.fromhex(r["event_hash"])) for r in rows[:100]])
    verify_consistency(100, len(rows), hashes, first_root, checkpoint.root)


def test_the_demo_prints_the_checkpoint_exactly_as_signed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    output = ebox(home, "demo", "--letters", "5")
    printed = output.split("Latest checkpoint, as signed:\n\n", 1)[1]
    assert printed == ebox(home, "ledger", "checkpoint")
    # A second run on the same data directory extends the same ledger.
    ebox(home, "demo", "--letters", "5")
    second = open_checkpoint(
        ebox(home, "ledger", "checkpoint"), NoteVerifier(ebox(home, "ledger", "vkey").strip())
    )
    assert (
        second.size
        > open_checkpoint(printed, NoteVerifier(ebox(home, "ledger", "vkey").strip())).size
    )
