"""Our log and our own witness, `ebox witness serve`, cosign over real HTTP: two witness
processes, each with its key and state file, receive the ledger's checkpoints from the
workers; the served checkpoint carries both cosignatures, and a log that forgot what a
witness holds is caught up from the witness's 409 (SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import witness_status
from ebox.adapters.transparency import TransparencyLog
from ebox.domain.proofs.policy import Policy
from ebox.projections.workers import RetryPolicy, Workers
from tests.builders import CITIZEN, World, make_world
from tests.e2e.test_witness_serve import Witness, witness_serving

FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02, parked_poll=0.05)


@pytest.fixture
def two_witnesses(ledger: Ledger, tmp_path: Path) -> Iterator[tuple[Witness, Witness]]:
    vkey = TransparencyLog(ledger).vkey()
    (tmp_path / "w1").mkdir()
    (tmp_path / "w2").mkdir()
    with (
        witness_serving(tmp_path / "w1", [vkey], name="witness.court.example/w1") as one,
        witness_serving(tmp_path / "w2", [vkey], name="witness.bar.example/w2") as two,
    ):
        yield one, two


@pytest.fixture
def policy(
    ledger: Ledger,
    two_witnesses: tuple[Witness, Witness],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Policy:
    one, two = two_witnesses
    home = tmp_path / "cli-home"
    path = tmp_path / "witnesses.policy"
    path.write_text(
        f"log {TransparencyLog(ledger).vkey()}\n"
        f"witness court {one.vkey(home)} http://127.0.0.1:{one.port}\n"
        f"witness bar {two.vkey(home)} http://127.0.0.1:{two.port}/\n"
        "group both all court bar\nquorum both\n"
    )
    monkeypatch.setenv("EBOX_WITNESS_POLICY", str(path))
    return Policy.parse(path.read_text())


def send(world: World, key: str) -> None:
    world.ledger.app.publish(world.letter(CITIZEN, idempotency_key=key))


def test_ebox_witness_serve_cosigns_our_checkpoints_and_is_caught_up_after_a_409(
    ledger: Ledger, policy: Policy
) -> None:
    world = make_world(ledger)
    log = TransparencyLog(ledger)
    send(world, "one")
    assert Workers(ledger, FAST).run_until_idle() == []
    first, note = log.checkpoint()
    assert first == log.checkpoints()[-1][0]
    assert set(policy.check(note)) == {"court", "bar"}

    with ledger.db.write() as session:  # the log forgets what the witnesses hold
        session.execute(witness_status.delete())
    send(world, "two")
    assert Workers(ledger, FAST).run_until_idle() == []
    second, note = log.checkpoint()
    assert second > first and second == log.checkpoints()[-1][0]
    assert set(policy.check(note)) == {"court", "bar"}
