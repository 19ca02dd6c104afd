"""Witnessing on SQLite and PostgreSQL: the workers send every new checkpoint to two real
witnesses over HTTP (tests/witness_server.py, written from C2SP tlog-witness), store their
verified cosignatures, and the ledger serves the latest checkpoint the quorum cosigned; a
witness that holds another size is caught up from it, one that is down or refusing shows
in /health and holds back neither the sealer nor the other witness.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ebox.adapters.evidence import EvidenceUnavailable, build_evidence
from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import checkpoints
from ebox.adapters.transparency import NoCheckpoint, TransparencyLog
from ebox.api import health, ledger_routes, tlog_routes
from ebox.api import witness_health as witness_health_module
from ebox.api.witness_health import WITNESS_GRACE, witness_health
from ebox.domain.proofs.checkpoint import open_checkpoint
from ebox.domain.proofs.merkle import leaf_hash, root_of
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.proofs.policy import Policy
from ebox.domain.proofs.tlogproof import TlogProof, verify_tlog_proof
from ebox.projections.workers import RetryPolicy, Workers
from ebox.verifier.bundle import verify_bundle
from tests.auth_helpers import api_client
from tests.builders import CITIZEN, World, make_world
from tests.witness_server import SpecWitness, cosigned_size

FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02, parked_poll=0.05)


@pytest.fixture
def world(ledger: Ledger) -> World:
    return make_world(ledger)


@pytest.fixture
def witnesses(ledger: Ledger) -> Iterator[tuple[SpecWitness, SpecWitness]]:
    vkey = TransparencyLog(ledger).vkey()
    with (
        SpecWitness("witness.court-of-audit.example/w1", bytes([1]) * 32, vkey) as a,
        SpecWitness("witness.bar.example/w2", bytes([2]) * 32, vkey) as b,
    ):
        yield a, b


def write_policy(path: Path, ledger: Ledger, pair: tuple[SpecWitness, SpecWitness]) -> Path:
    a, b = pair
    path.write_text(
        f"log {TransparencyLog(ledger).vkey()}\n"
        f"witness A {a.cosigner.vkey} {a.url}\n"
        f"witness B {b.cosigner.vkey} {b.url}\n"
        "group both all A B\n"
        "quorum both\n"
    )
    return path


@pytest.fixture
def policy(
    ledger: Ledger,
    witnesses: tuple[SpecWitness, SpecWitness],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Policy:
    path = write_policy(tmp_path / "witnesses.policy", ledger, witnesses)
    monkeypatch.setenv("EBOX_WITNESS_POLICY", str(path))
    monkeypatch.setenv("EBOX_WITNESS_TIMEOUT", "2")
    return Policy.parse(path.read_text())


def send(world: World, key: str) -> str:
    return str(world.ledger.app.publish(world.letter(CITIZEN, idempotency_key=key)))


def latest_signed(ledger: Ledger) -> int:
    with ledger.db.read() as session:
        return int(session.execute(select(func.max(checkpoints.c.size))).scalar_one())


def test_checkpoints_are_cosigned_by_both_witnesses_and_served_with_both_cosignatures(
    ledger: Ledger,
    world: World,
    witnesses: tuple[SpecWitness, SpecWitness],
    policy: Policy,
    ledger_home: Path,
) -> None:
    message_id = send(world, "one")
    assert Workers(ledger, FAST).run_until_idle() == []
    size = latest_signed(ledger)
    assert [cosigned_size(w) for w in witnesses] == [size, size]

    log = TransparencyLog(ledger)
    served_size, note = log.checkpoint()
    assert served_size == size
    assert set(policy.check(note)) == {"A", "B"}
    assert open_checkpoint(note, NoteVerifier(log.vkey())).size == size  # still the log's note

    send(world, "two")
    assert Workers(ledger, FAST).run_until_idle() == []
    newer = latest_signed(ledger)
    assert newer > size and [cosigned_size(w) for w in witnesses] == [newer, newer]
    assert all(200 in w.statuses and 409 not in w.statuses for w in witnesses)

    with api_client(
        ledger, ledger_home, routers=(ledger_routes.register, tlog_routes.register)
    ) as http:
        served = http.get("/ledger/checkpoint").text
        assert http.get("/ledger/tlog/checkpoint").text == served
        proof = http.get("/ledger/proof", params={"index": 0}).text
    assert f"\n{newer}\n" in served and set(policy.check(served)) == {"A", "B"}
    first_leaf = leaf_hash(bytes.fromhex(next(log.entries())["event_hash"]))
    assert verify_tlog_proof(proof, first_leaf, NoteVerifier(log.vkey())).size == newer
    assert set(policy.check(TlogProof.parse(proof).checkpoint_note)) == {"A", "B"}

    bundle = build_evidence(ledger, message_id)
    assert set(policy.check(bundle.ledger.checkpoint)) == {"A", "B"}
    verify_bundle(bundle.to_json(), log.vkey())

    printed = subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", "ledger", "checkpoint", "--db", ledger.url],
        env={**os.environ, "EBOX_HOME": str(ledger_home)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == served  # `ebox ledger checkpoint` gives the same cosigned note


def test_a_witness_that_holds_another_size_is_caught_up_from_it(
    ledger: Ledger,
    world: World,
    witnesses: tuple[SpecWitness, SpecWitness],
    policy: Policy,
) -> None:
    a, b = witnesses
    send(world, "one")
    assert Workers(ledger, FAST).run_until_idle() == []
    first = latest_signed(ledger)
    # The log forgets what A holds (a new database row, a restored backup): it asks from 0.
    from ebox.adapters.tables import witness_status

    with ledger.db.write() as session:
        session.execute(witness_status.delete())
    send(world, "two")
    assert Workers(ledger, FAST).run_until_idle() == []
    second = latest_signed(ledger)
    assert a.statuses[-2:] == [409, 200] and b.statuses[-2:] == [409, 200]
    assert cosigned_size(a) == cosigned_size(b) == second > first
    assert set(policy.check(TransparencyLog(ledger).checkpoint()[1])) == {"A", "B"}


def test_a_witness_that_is_down_or_refusing_shows_in_health_and_holds_back_no_checkpoint(
    ledger: Ledger,
    world: World,
    witnesses: tuple[SpecWitness, SpecWitness],
    policy: Policy,
    ledger_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = witnesses
    send(world, "one")
    assert Workers(ledger, FAST).run_until_idle() == []
    witnessed = latest_signed(ledger)

    b.refuse = 422
    send(world, "two")
    assert Workers(ledger, FAST).run_until_idle() == []
    sealed = latest_signed(ledger)
    assert sealed > witnessed  # the sealer went on
    assert cosigned_size(a) == sealed and cosigned_size(b) == witnessed
    # 2 of 2 with one refusing: the served checkpoint stays the last witnessed one.
    assert TransparencyLog(ledger).checkpoint()[0] == witnessed
    with api_client(ledger, ledger_home, routers=(health.register,)) as http:
        response = http.get("/health")
    status = response.json()["witnesses"]
    assert status["witnessed_size"] == witnessed and status["latest_size"] == sealed
    assert status["witnesses"]["A"]["state"] == "ok"
    assert status["witnesses"]["B"] | {"failed_at": None} == {
        "state": "failing",
        "cosigned_size": witnessed,
        "cosigned_at": status["witnesses"]["B"]["cosigned_at"],
        "error": "HTTP 422",
        "attempts": 1,
        "failed_at": None,
    }
    assert b.url not in response.text
    assert status["state"] == "ok"  # within the grace: a round usually takes well under 1 s
    later = datetime.now(UTC) + timedelta(seconds=WITNESS_GRACE + 1)
    assert witness_health(ledger, now=later)["state"] == "late"  # type: ignore[index]
    monkeypatch.setattr(witness_health_module, "WITNESS_GRACE", 0.0)  # as if 30 s later
    with api_client(ledger, ledger_home, routers=(health.register,)) as http:
        response = http.get("/health")
    assert response.status_code == 503 and response.json()["status"] == "degraded"
    assert "witnesses" in response.json()["stuck"]

    b.stop()  # now down altogether
    b.refuse = None
    send(world, "three")
    assert Workers(ledger, FAST).run_until_idle() == []
    assert latest_signed(ledger) > sealed
    assert TransparencyLog(ledger).checkpoint()[0] == witnessed
    with api_client(ledger, ledger_home, routers=(health.register,)) as http:
        status = http.get("/health").json()["witnesses"]
    assert status["witnesses"]["B"]["error"] == "unreachable"


def test_an_event_sealed_after_the_latest_witnessed_checkpoint_has_no_evidence_yet(
    ledger: Ledger,
    world: World,
    witnesses: tuple[SpecWitness, SpecWitness],
    policy: Policy,
) -> None:
    a, _ = witnesses
    with pytest.raises(NoCheckpoint, match="witness quorum"):
        TransparencyLog(ledger).checkpoint()
    send(world, "one")
    assert Workers(ledger, FAST).run_until_idle() == []
    a.refuse = 403
    late = send(world, "two")
    assert Workers(ledger, FAST).run_until_idle() == []
    with pytest.raises(EvidenceUnavailable):
        build_evidence(ledger, late)


def test_a_witness_is_caught_up_from_a_size_that_is_no_checkpoint_of_ours(
    ledger: Ledger,
    world: World,
    witnesses: tuple[SpecWitness, SpecWitness],
    policy: Policy,
) -> None:
    a, _ = witnesses
    send(world, "one")
    assert Workers(ledger, FAST).run_until_idle() == []
    log = TransparencyLog(ledger)
    signed = {size for size, _ in log.checkpoints()}
    odd = next(k for k in range(1, latest_signed(ledger)) if k not in signed)
    leaves = [leaf_hash(bytes.fromhex(e["event_hash"])) for e in log.entries(end=odd)]
    a.state[a.log.origin] = (odd, root_of(leaves))  # A saw the log at that size, elsewhere
    from ebox.adapters.tables import witness_status

    with ledger.db.write() as session:
        session.execute(witness_status.delete())
    send(world, "two")
    assert Workers(ledger, FAST).run_until_idle() == []
    assert a.statuses[-2:] == [409, 200]
    assert cosigned_size(a) == latest_signed(ledger)
    assert set(policy.check(log.checkpoint()[1])) == {"A", "B"}


def test_a_cosignature_by_another_key_than_the_policys_is_never_stored(
    ledger: Ledger,
    world: World,
    witnesses: tuple[SpecWitness, SpecWitness],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = witnesses
    impostor = SpecWitness(a.cosigner.name, bytes([9]) * 32, TransparencyLog(ledger).vkey())
    with impostor:
        path = write_policy(tmp_path / "p", ledger, (a, b))
        path.write_text(path.read_text().replace(a.url, impostor.url))
        monkeypatch.setenv("EBOX_WITNESS_POLICY", str(path))
        send(world, "one")
        assert Workers(ledger, FAST).run_until_idle() == []
        assert impostor.statuses == [200]  # it answered, with a line of the same name
    from ebox.adapters.tables import witness_cosignatures

    with ledger.db.read() as session:
        stored = session.execute(select(witness_cosignatures.c.witness)).scalars().all()
    assert stored == [b.cosigner.vkey]
    with pytest.raises(NoCheckpoint):
        TransparencyLog(ledger).checkpoint()
    with api_client(ledger, tmp_path, routers=(health.register,)) as http:
        status = http.get("/health").json()["witnesses"]["witnesses"]["A"]
    assert status["error"] == "invalid cosignature"


def test_each_witness_is_fed_over_one_kept_connection(
    ledger: Ledger,
    world: World,
    witnesses: tuple[SpecWitness, SpecWitness],
    policy: Policy,
) -> None:
    work = Workers(ledger, FAST)
    for key in ("one", "two", "three"):
        send(world, key)
        assert work.run_until_idle() == []
    assert all(w.statuses.count(200) == 3 for w in witnesses)
    assert [len(w.connections) for w in witnesses] == [1, 1]
