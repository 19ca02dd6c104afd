"""Checkpoints against a C2SP tlog-policy: the log must be listed, the witnesses' quorum met.

A ledger key alone proves what the operator signed, not that the operator
showed everybody the same history: witnesses' cosignatures (cosignature/v1)
do. ``ebox verify --policy`` and ``ebox audit --policy`` apply a policy file
(:class:`~ebox.domain.proofs.policy.Policy`) to the checkpoints they rely on:

- a bundle: every checkpoint note it carries (its own and the one inside each
  tlog-proof, normally the same note) must meet the quorum;
- an audit: the latest checkpoint, the one the audit ends at, must meet it
  (it covers every earlier leaf, and consistency is proven by the recomputed
  tree); earlier checkpoints are only counted as witnessed or not, since logs
  commonly collect cosignatures for some checkpoints only.

When the policy lists logs, the ledger key must be one of them. A line that
claims to be a listed witness and does not verify is a forged cosignature:
refused, not merely "not witnessed". Without a policy nothing here runs and
cosignature lines are ignored, as the signed-note spec asks of unknown keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ebox.domain.proofs.errors import NoteError, ProofError
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.proofs.policy import Policy, PolicyFormatError, QuorumNotMet
from ebox.verifier.audit_result import AuditResult
from ebox.verifier.errors import EventRef, VerificationError
from ebox.verifier.findings import Section

__all__ = [
    "AuditWitnessing",
    "LogNotInPolicy",
    "Policy",
    "PolicyFormatError",
    "WitnessQuorumRefused",
    "Witnessed",
    "check_witnesses",
    "read_policy",
    "witness_time_lines",
    "witnesses_section",
]


class WitnessQuorumRefused(VerificationError):
    """A checkpoint lacks the policy's quorum, or carries a forged cosignature."""

    kind = "witness quorum not met"


class LogNotInPolicy(VerificationError):
    """The policy lists logs, and the ledger key is none of them."""

    kind = "log not in the policy"


@dataclass(frozen=True)
class Witnessed:
    """What the policy check established for a checkpoint: who cosigned when, which rule held."""

    quorum: str
    rule: str
    cosignatures: dict[str, int]
    """Policy witness name to the POSIX time of its verified cosignature."""


def read_policy(raw: bytes) -> Policy:
    """The policy a file holds; :class:`PolicyFormatError` names the line that breaks the spec."""
    return Policy.parse(raw)


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_log(policy: Policy, verifier: NoteVerifier) -> None:
    if not policy.logs:
        return
    if not any(
        log.verifier.public_key == verifier.public_key and log.verifier.name == verifier.name
        for log in policy.logs
    ):
        raise LogNotInPolicy(
            f"log {verifier.vkey} is not in the policy (it lists "
            + ", ".join(log.verifier.vkey for log in policy.logs)
            + ")"
        )


def _check_note(policy: Policy, note: str, where: str) -> dict[str, int]:
    try:
        return policy.check(note)
    except QuorumNotMet as error:
        raise WitnessQuorumRefused(f"{where}: {error}") from None
    except (NoteError, ProofError) as error:  # a listed witness's line that does not verify
        raise WitnessQuorumRefused(f"{where}: forged cosignature: {error}") from None


def check_witnesses(policy: Policy, verifier: NoteVerifier, notes: Iterable[str]) -> Witnessed:
    """Check the log and every distinct checkpoint note; what the first one's witnesses said.

    ``notes`` are the signed checkpoints a bundle relies on, its own first;
    their ledger signatures are already verified by the caller.
    """
    _check_log(policy, verifier)
    first: dict[str, int] | None = None
    seen: set[str] = set()
    for position, note in enumerate(notes):
        if note in seen:
            continue
        seen.add(note)
        where = "the bundle's checkpoint" if position == 0 else "a tlog-proof's checkpoint"
        found = _check_note(policy, note, where)
        first = found if first is None else first
    return Witnessed(policy.quorum, policy.describe(policy.quorum), first or {})


def witnesses_section(witnessed: Witnessed) -> Section:
    """The report's WITNESSES part: each valid cosignature and the quorum rule met."""
    lines = [
        f"Cosigned by witness {name} at {_utc(at)} (cosignature/v1, verified with the "
        "policy's key)."
        for name, at in sorted(witnessed.cosignatures.items())
    ]
    if not lines:
        lines.append("No witness cosignature: the policy requires none (quorum none).")
    lines.append(f"Quorum {witnessed.quorum!r} met: {witnessed.rule}.")
    verdict = (
        f"quorum met ({len(witnessed.cosignatures)} valid cosignature"
        f"{'' if len(witnessed.cosignatures) == 1 else 's'})"
    )
    return Section("Witnesses", verdict, tuple(lines))


def witness_time_lines(witnessed: Witnessed | None) -> list[str]:
    """For the TIME section: what each witness's cosignature time proves."""
    if witnessed is None or not witnessed.cosignatures:
        return []
    return [
        f"Witness {name}'s cosignature: it had seen this checkpoint (and so these events) no "
        f"later than {_utc(at)}, by the witness's own clock."
        for name, at in sorted(witnessed.cosignatures.items())
    ]


class AuditWitnessing:
    """The audit's side: the latest checkpoint must meet the quorum, earlier ones are counted."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.latest: tuple[int, str] | None = None
        self.witnessed = 0
        self.unwitnessed = 0
        self.forged = 0

    def see(self, size: int, note: str) -> None:
        """A checkpoint the audit verified (signature and root); counted once a later one comes."""
        if self.latest is not None:
            self._count(self.latest[1])
        self.latest = (size, note)

    def _count(self, note: str) -> None:
        try:
            met = self.policy.satisfied_by(set(self.policy.cosigned_by(note)))
        except (NoteError, ProofError):
            self.forged += 1
            return
        if met:
            self.witnessed += 1
        else:
            self.unwitnessed += 1

    def finish(self, verifier: NoteVerifier, result: AuditResult) -> None:
        """Raise unless the latest checkpoint meets the quorum; the counts go to the report."""
        _check_log(self.policy, verifier)
        earlier = f"{self.witnessed} witnessed, {self.unwitnessed} not witnessed"
        if self.forged:
            earlier += f", {self.forged} with a forged cosignature"
        result.witnesses.append(f"earlier checkpoints (quorum not required): {earlier}")
        if self.latest is None:
            return
        size, note = self.latest
        ref = EventRef(leaf_index=size - 1, position=f"checkpoint of size {size}")
        try:
            found = _check_note(self.policy, note, f"the latest checkpoint (size {size})")
        except WitnessQuorumRefused as error:
            raise WitnessQuorumRefused(error.reason, event=ref) from None
        for name, at in sorted(found.items()):
            result.witnesses.append(f"latest checkpoint cosigned by {name} at {_utc(at)}")
        result.witnesses.append(
            f"latest checkpoint (size {size}): quorum {self.policy.quorum!r} met "
            f"({self.policy.describe(self.policy.quorum)})"
        )
