"""`ebox monitor`: follows a tlog-tiles log through its tiles, and says exactly what went wrong.

The good path runs against a real `ebox serve` (SQLite and PostgreSQL). The bad
ones need logs no honest ledger would serve (a fork signed by the ledger key, a
rollback, a rewritten history), so they are written as static tile trees with
the ledger's own formats and served by a plain HTTP file server, as a mirror or
a CDN would serve them.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from ebox.adapters.runtime import Ledger
from ebox.domain.proofs.checkpoint import Checkpoint, sign_checkpoint
from ebox.domain.proofs.cosignature import Cosigner
from ebox.domain.proofs.merkle import DictNodeStore, Frontier, leaf_hash
from ebox.domain.proofs.note import NoteSigner, add_signature_lines
from ebox.domain.proofs.tiles import (
    NodeRangeOf,
    bundles_for_size,
    entry_bundle,
    tile_content,
    tiles_for_size,
)
from tests.auth_helpers import register_test_client, served_token
from tests.builders import CITIZEN
from tests.integration.tiles_log import sealed_letters
from tests.served import served

LOG = NoteSigner("ledger.example/tlog", bytes(range(32)))


def entries(count: int, salt: str = "") -> list[bytes]:
    return [hashlib.sha256(f"{salt}event {n}".encode()).digest() for n in range(count)]


def write_log(
    directory: Path,
    leaves: Sequence[bytes],
    signer: NoteSigner = LOG,
    cosigners: Sequence[Cosigner] = (),
) -> str:
    """A complete tlog-tiles tree of `leaves` in `directory` (a fresh one), checkpoint last."""
    frontier, store = Frontier.empty(), DictNodeStore()
    for leaf in leaves:
        store.put(frontier.append(leaf_hash(leaf)))
    size = len(leaves)
    for tile in tiles_for_size(size):
        path = directory / tile.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tile_content(tile, NodeRangeOf(store)))
    for bundle in bundles_for_size(size):
        path = directory / bundle.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(entry_bundle(leaves[bundle.first_leaf : bundle.first_leaf + bundle.width]))
    checkpoint = Checkpoint(signer.name, size, frontier.root())
    note = sign_checkpoint(checkpoint, signer)
    for cosigner in cosigners:
        note = add_signature_lines(note, cosigner.cosign(checkpoint.body(), 1_700_000_000))
    (directory / "checkpoint").write_text(note, encoding="utf-8")
    return note


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A plain static file server on a free port: (its directory, its tiles prefix)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def monitor(prefix: str, vkey: str, state: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ebox.cli.main",
            "monitor",
            prefix,
            "--vkey",
            vkey,
            "--state",
            str(state),
            *options,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def publish(root: Path, leaves: Sequence[bytes], **kwargs: object) -> str:
    """Replace the mirror's log by another one (the test plays a misbehaving log)."""
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    return write_log(root, leaves, **kwargs)  # type: ignore[arg-type]


def test_growth_is_followed_and_every_new_entry_checked(
    mirror: tuple[Path, str], tmp_path: Path
) -> None:
    root, prefix = mirror
    state = tmp_path / "state.json"
    leaves = entries(70_000)
    publish(root, leaves[:300])
    first = monitor(prefix, LOG.vkey, state, "--entries")
    assert first.returncode == 0, first.stderr
    assert (
        first.stdout.strip()
        == "first checkpoint 300: signature ok, consistent, 300 entries checked"
    )
    assert state.stat().st_mode & 0o777 == 0o600
    # 300's partial tiles are gone once full ones exist: the old root comes from full tiles.
    publish(root, leaves)
    second = monitor(prefix, LOG.vkey, state, "--entries")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == (
        "size 300 -> 70000: signature ok, consistent, 69700 entries checked"
    )
    assert json.loads(state.read_text())["size"] == 70_000


def test_a_fork_signed_by_the_ledger_key_is_reported_and_the_state_kept(
    mirror: tuple[Path, str], tmp_path: Path
) -> None:
    root, prefix = mirror
    state = tmp_path / "state.json"
    publish(root, entries(500))
    assert monitor(prefix, LOG.vkey, state).returncode == 0
    kept = state.read_bytes()
    publish(root, entries(500, salt="other history "))
    result = monitor(prefix, LOG.vkey, state)
    assert result.returncode == 3
    assert result.stderr.startswith("ebox monitor: FORK: two checkpoints of size 500 signed")
    assert len(result.stderr.strip().splitlines()) == 1
    assert state.read_bytes() == kept


def test_a_rollback_is_reported(mirror: tuple[Path, str], tmp_path: Path) -> None:
    root, prefix = mirror
    state = tmp_path / "state.json"
    publish(root, entries(500))
    assert monitor(prefix, LOG.vkey, state).returncode == 0
    publish(root, entries(400))
    result = monitor(prefix, LOG.vkey, state)
    assert result.returncode == 4
    assert "ROLLBACK: the log now shows size 400" in result.stderr
    assert "after size 500" in result.stderr


def test_a_rewritten_history_is_inconsistent(mirror: tuple[Path, str], tmp_path: Path) -> None:
    root, prefix = mirror
    state = tmp_path / "state.json"
    leaves = entries(600)
    publish(root, leaves[:500])
    assert monitor(prefix, LOG.vkey, state).returncode == 0
    publish(root, [*leaves[:10], hashlib.sha256(b"changed").digest(), *leaves[11:]])
    result = monitor(prefix, LOG.vkey, state)
    assert result.returncode == 6
    assert "size 600 does not extend size 500" in result.stderr


def test_a_checkpoint_signed_by_another_key_is_refused(
    mirror: tuple[Path, str], tmp_path: Path
) -> None:
    root, prefix = mirror
    publish(root, entries(10), signer=NoteSigner(LOG.name, bytes(32)))
    result = monitor(prefix, LOG.vkey, tmp_path / "state.json")
    assert result.returncode == 5
    assert "does not verify with the log's key" in result.stderr
    assert not (tmp_path / "state.json").exists()


def test_the_policy_quorum_is_required(mirror: tuple[Path, str], tmp_path: Path) -> None:
    root, prefix = mirror
    witness = Cosigner("court.example/witness", bytes([9]) * 32)
    policy = tmp_path / "policy"
    policy.write_text(f"log {LOG.vkey}\nwitness court {witness.vkey}\nquorum court\n")
    publish(root, entries(20))
    lacking = monitor(prefix, LOG.vkey, tmp_path / "s1", "--policy", str(policy))
    assert lacking.returncode == 5
    assert "lacks the witness quorum 'court'" in lacking.stderr
    publish(root, entries(20), cosigners=[witness])
    met = monitor(prefix, LOG.vkey, tmp_path / "s2", "--policy", str(policy))
    assert met.returncode == 0, met.stderr
    assert "1 cosignatures meet the quorum" in met.stdout


def test_an_entry_that_does_not_hash_to_its_leaf_is_reported(
    mirror: tuple[Path, str], tmp_path: Path
) -> None:
    root, prefix = mirror
    publish(root, entries(300))
    bundle = root / "tile" / "entries" / "001.p" / "44"
    data = bytearray(bundle.read_bytes())
    data[2] ^= 1
    bundle.write_bytes(bytes(data))
    assert monitor(prefix, LOG.vkey, tmp_path / "plain").returncode == 0  # tiles alone agree
    result = monitor(prefix, LOG.vkey, tmp_path / "deep", "--entries")
    assert result.returncode == 7
    assert "entry 256 does not hash to its leaf" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("ftp://x/", "--vkey", LOG.vkey), "is not an http(s) URL"),
        (("http://127.0.0.1:9/", "--vkey", "not-a-vkey"), "verifier key"),
        (("http://127.0.0.1:9/", "--vkey", LOG.vkey), "http://127.0.0.1:9/checkpoint"),
    ],
)
def test_mistakes_and_an_unreachable_log_are_one_line(
    arguments: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    prefix, *rest = arguments
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ebox.cli.main",
            "monitor",
            prefix,
            *rest,
            "--state",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_our_served_ledger_is_followed_and_its_events_recomputed(
    ledger: Ledger, database_url: str, ledger_home: Path, tmp_path: Path
) -> None:
    """A real ledger: letters published, read and sealed; the audit scope recomputes events."""
    outcomes, sealer = sealed_letters(ledger, letters=4, every=5)
    vkey = ledger.secrets.ledger_signer().vkey
    auditor = register_test_client(ledger, "auditor", "court-of-audit")
    state = tmp_path / "state.json"
    with served(ledger_home, db=database_url) as server:
        token_file = tmp_path / "token"
        token_file.write_text(
            served_token(server.url, auditor.private_pem, auditor.client_id, scope="ebox:audit")
        )
        prefix = server.url + "/ledger/tlog/"
        result = monitor(prefix, vkey, state, "--entries", "--token-file", str(token_file))
        assert result.returncode == 0, result.stderr
        size = json.loads(state.read_text())["size"]
        assert result.stdout.strip() == (
            f"first checkpoint {size}: signature ok, consistent, {size} entries checked"
        )
        ledger.app.open_document(
            str(outcomes[1].message_id), "letter.pdf", reader=CITIZEN.address, channel="portal"
        )
        sealer.run_until_idle()
        sealer.checkpoint_now()
        again = monitor(prefix, vkey, state, "--entries", "--token-file", str(token_file))
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(f"size {size} -> ")


def test_following_sees_growth_and_stops_at_the_first_fork(
    mirror: tuple[Path, str], tmp_path: Path
) -> None:
    root, prefix = mirror
    state = tmp_path / "state.json"
    leaves = entries(700)
    publish(root, leaves[:200])
    command = [sys.executable, "-m", "ebox.cli.main", "monitor", prefix, "--vkey", LOG.vkey]
    following = subprocess.Popen(
        [*command, "--state", str(state), "--follow", "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert following.stdout is not None
    assert following.stdout.readline().startswith("first checkpoint 200")
    publish(root, leaves[:700])
    while not (line := following.stdout.readline()).startswith("size 200 -> 700"):
        assert line, following.stderr.read() if following.stderr else ""
    publish(root, entries(700, salt="forked "))
    # Files are replaced while it reads: a missing one is said and retried; the other
    # history is a fork, or (read half before, half after the swap) an inconsistent one.
    code = following.wait(timeout=120)
    assert following.stderr is not None
    said = following.stderr.read()
    assert code in (3, 6), said
    if code == 3:
        assert "FORK: two checkpoints of size 700" in said


def test_ctrl_c_ends_following_cleanly(mirror: tuple[Path, str], tmp_path: Path) -> None:
    root, prefix = mirror
    publish(root, entries(5))
    following = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ebox.cli.main",
            "monitor",
            prefix,
            "--vkey",
            LOG.vkey,
            "--state",
            str(tmp_path / "s"),
            "--follow",
            "--interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert following.stdout is not None
    assert following.stdout.readline().startswith("first checkpoint 5")
    following.send_signal(signal.SIGINT)
    assert following.wait(timeout=60) == 0
    assert following.stderr is not None
    assert "Traceback" not in following.stderr.read()
