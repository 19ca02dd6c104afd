"""Keys change only by an explicit command, and the ledger keeps verifying across the change.

An operator rotates the ledger key: the checkpoints signed before keep verifying with
the old key, the ones after are signed by the new key, and `ebox audit` follows the
chain across the rotation. Rotating the KEK re-wraps every mailbox private key: the
letters stay readable to their evidence (`ebox evidence --disclose` decrypts them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_key_binding import ebox, key_id, ok


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, object]]:
    """A demo ledger whose ledger key was rotated after its first checkpoints."""
    home = tmp_path_factory.mktemp("key-rotation") / "home"
    ok(ebox(home, "demo", "--letters", "3", "--seed", "4"))
    before = key_id(home)
    rotation = json.loads(ok(ebox(home, "admin", "ledger-key", "rotate", "--json")))
    ok(ebox(home, "workers", "--once"))
    return home, before, rotation


def test_a_rotation_makes_a_new_ledger_key_and_says_which(
    rotated: tuple[Path, str, dict[str, object]],
) -> None:
    home, before, rotation = rotated
    after = key_id(home)
    assert after != before
    assert before in json.dumps(rotation) and after in json.dumps(rotation)


def test_the_audit_follows_the_checkpoints_across_the_rotation(
    rotated: tuple[Path, str, dict[str, object]],
) -> None:
    home, _, _ = rotated
    audit = ebox(home, "audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "rotated" in (audit.stdout + audit.stderr)


def test_the_newest_checkpoint_is_signed_by_the_new_key(
    rotated: tuple[Path, str, dict[str, object]],
) -> None:
    home, before, _ = rotated
    checkpoint = ok(ebox(home, "ledger", "checkpoint"))
    signers = [line.split()[1] for line in checkpoint.splitlines() if line.startswith("— ")]
    assert signers and all(before not in signer for signer in signers)


def test_a_kek_rotation_keeps_every_letter_readable_and_the_ledger_verifying(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    ok(ebox(home, "demo", "--letters", "2", "--seed", "5"))
    rotation = json.loads(ok(ebox(home, "admin", "kek", "rotate", "--json")))
    assert rotation  # one JSON object: what it re-wrapped
    ok(ebox(home, "workers", "--once"))
    audit = ebox(home, "audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
