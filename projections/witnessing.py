"""Witnessing: every new checkpoint goes to every witness of EBOX_WITNESS_POLICY.

It runs in the workers' process beside the followers, one thread per witness
(ebox.projections.workers), never inside the sealer: a witness that is slow,
down or refusing delays no checkpoint, no follower and no other witness. Each
round submits the LATEST signed checkpoint (C2SP tlog-witness add-checkpoint)
with the consistency proof from the size the witness last cosigned; a 409 names
the size the witness does hold, and the round retries once from it (a proof
exists for any size the sealer has sealed, checkpoint or not). Each returned
line is verified with the policy's cosigner key before it is stored; lines of
unknown keys are ignored, as the spec says.

A failed round is logged (the witness's policy name and the HTTP status or the
error's class: a URL may hold a credential) and recorded in `witness_status`,
which /health reports; the next try waits a backoff (doubled up to a minute),
and later checkpoints are tried meanwhile only after it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, select

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import checkpoints
from ebox.adapters.transparency import TransparencyLog
from ebox.adapters.witness_client import (
    DEFAULT_TIMEOUT,
    WitnessAnswerInvalid,
    WitnessClient,
    WitnessConflict,
    WitnessError,
)
from ebox.adapters.witnessing import (
    policy_from_env,
    record_cosignature,
    record_witness_failure,
    record_witness_size,
    witness_statuses,
)
from ebox.domain.proofs.errors import ProofError
from ebox.domain.proofs.note import SIGNATURE_PREFIX, add_signature_lines
from ebox.domain.proofs.policy import Policy, WitnessEntry

log = logging.getLogger("ebox.witnessing")

POLL_SECONDS = 0.1
"""How often a witness's thread looks for a newer checkpoint (one indexed MAX query)."""
BACKOFF_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 60.0


@dataclass(frozen=True)
class Cosigned:
    size: int
    timestamp: int


class CosignatureRejected(WitnessError):
    """A 200 whose lines hold no valid cosignature by this witness's key."""

    kind = "invalid cosignature"


class WitnessFeeder:
    """One witness: its client, the size it holds, and its backoff after a failure."""

    def __init__(self, ledger: Ledger, witness: WitnessEntry, timeout: float) -> None:
        assert witness.url is not None  # load_witness_policy refuses a witness without one
        self.ledger = ledger
        self.witness = witness
        self.client = WitnessClient(witness.url, timeout)
        self.log = TransparencyLog(ledger)
        status = witness_statuses(ledger).get(witness.verifier.vkey)
        self.held: int = (
            0 if status is None or status.cosigned_size is None else status.cosigned_size
        )
        """The size the witness last cosigned as far as we know (0: ask it, by its 409)."""
        self.done: int | None = None if status is None or status.error else status.cosigned_size
        """The size of the last cosignature we stored from it (nothing to do until a newer)."""
        self.failures = 0
        self.retry_at = 0.0

    def step(self) -> Cosigned | None:
        """Submit the latest checkpoint if the witness lacks it; never raises."""
        if time.monotonic() < self.retry_at:
            return None
        latest = _latest_checkpoint(self.ledger)
        if latest is None or latest[0] == self.done:
            return None
        size, note = latest
        try:
            cosigned = self._submit(size, note)
        except Exception as error:  # a witness or the database failed: the next round retries
            self._failed(size, error)
            return None
        self.failures, self.retry_at = 0, 0.0
        return cosigned

    def _submit(self, size: int, note: str) -> Cosigned:
        old = self.held if self.held <= size else 0
        try:
            lines = self.client.add_checkpoint(old, self._proof(old, size), note)
        except WitnessConflict as conflict:  # once per round, from the size it states
            if conflict.size > size:
                raise WitnessAnswerInvalid(
                    f"the witness holds size {conflict.size}, beyond our latest {size}"
                ) from None
            self.held = conflict.size
            record_witness_size(self.ledger, self.witness, conflict.size)
            lines = self.client.add_checkpoint(
                conflict.size, self._proof(conflict.size, size), note
            )
        line, timestamp = self._verified(note, lines)
        record_cosignature(self.ledger, self.witness, size, line, timestamp)
        self.held = self.done = size
        log.info("checkpoint %s cosigned by witness %s", size, self.witness.name)
        return Cosigned(size, timestamp)

    def _proof(self, old: int, size: int) -> list[bytes]:
        if old == 0 or old == size:
            return []
        return self.log.consistency(old, size)

    def _verified(self, note: str, lines: str) -> tuple[str, int]:
        """This witness's line among the answer's, checked against its policy key."""
        verifier = self.witness.verifier
        prefix = f"{SIGNATURE_PREFIX}{verifier.name} "
        for line in lines.splitlines(keepends=True):
            if not line.startswith(prefix) or not line.endswith("\n"):
                continue  # another key's line (ignored, as the spec says) or no line at all
            try:
                timestamp = verifier.timestamp(add_signature_lines(note, line))
            except ProofError:
                raise CosignatureRejected(f"witness {self.witness.name}: bad cosignature") from None
            if timestamp is not None:
                return line, timestamp
        raise CosignatureRejected(f"witness {self.witness.name}: no cosignature by its key")

    def _failed(self, size: int, error: Exception) -> None:
        self.failures += 1
        delay = min(BACKOFF_SECONDS * 2 ** (self.failures - 1), BACKOFF_MAX_SECONDS)
        self.retry_at = time.monotonic() + delay
        kind = error.kind if isinstance(error, WitnessError) else type(error).__name__
        log.warning(
            "witness %s did not cosign checkpoint %s (%s), next try in %.1fs",
            self.witness.name,
            size,
            kind,
            delay,
        )
        try:
            record_witness_failure(self.ledger, self.witness, kind)
        except Exception as storing:
            log.warning("witness failure not recorded (%s)", type(storing).__name__)

    def run(self, stop: threading.Event, poll: float = POLL_SECONDS) -> None:
        while not stop.is_set():
            self.step()
            stop.wait(poll)
        self.client.close()


class Witnessing:
    """Every witness of the policy, each fed by its own thread."""

    def __init__(self, ledger: Ledger, policy: Policy, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.ledger = ledger
        self.policy = policy
        self.feeders = [WitnessFeeder(ledger, w, timeout) for w in policy.witnesses.values()]

    @classmethod
    def from_env(cls, ledger: Ledger, env: Mapping[str, str] | None = None) -> Witnessing | None:
        """The witnessing EBOX_WITNESS_POLICY describes; None when it is unset."""
        env = os.environ if env is None else env
        policy = policy_from_env(ledger.secrets.origin, env)
        if policy is None or not policy.witnesses:
            return None
        timeout = float(env.get("EBOX_WITNESS_TIMEOUT") or DEFAULT_TIMEOUT)
        return cls(ledger, policy, timeout)

    def step(self) -> list[Cosigned | None]:
        """One round at every witness at once (what `run_until_idle` does)."""
        with ThreadPoolExecutor(max_workers=len(self.feeders)) as pool:
            return list(pool.map(lambda f: f.step(), self.feeders))

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=f.run, args=(stop,), name=f"ebox-witness-{i}", daemon=True)
            for i, f in enumerate(self.feeders)
        ]
        for thread in threads:
            thread.start()
        return threads


def _latest_checkpoint(ledger: Ledger) -> tuple[int, str] | None:
    """The latest signed checkpoint, as the sealer signed it (no cosignatures)."""
    with ledger.db.read() as session:
        size = session.execute(select(func.max(checkpoints.c.size))).scalar()
        if size is None:
            return None
        note = session.execute(
            select(checkpoints.c.note).where(checkpoints.c.size == size)
        ).scalar_one()
    return int(size), str(note)
