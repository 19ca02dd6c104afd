"""What a whole-ledger audit saw and proved, or its first failure.

Split out of :mod:`ebox.verifier.audit`: the result is what the report
(:mod:`ebox.verifier.report`) renders, kept apart from the auditor that fills it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ebox.domain.proofs.checkpoint import Checkpoint
from ebox.verifier.errors import (
    VerificationError,
)


@dataclass
class AuditResult:
    """What the audit saw and proved, or the first bad event (``failure``)."""

    source: str
    events: int = 0
    leaves: int = 0
    aggregates: int = 0
    checkpoints: int = 0
    latest: Checkpoint | None = None
    unsealed: int = 0
    signatures_verified: int = 0
    keys_only: int = 0
    attested: int = 0
    signature_checks: str = "verified"
    elapsed: float = 0.0
    failure: VerificationError | None = None
    notes: list[str] = field(default_factory=list)
    witnesses: list[str] = field(default_factory=list)
    """With a policy (ebox.verifier.witnesses): the latest checkpoint's cosignatures, counts."""
    types: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def rate(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0

    def signature_summary(self) -> str:
        parts = [f"{self.signatures_verified} signatures verified"]
        if self.keys_only:
            parts.append(f"{self.keys_only} signed letters checked for key validity only")
        parts.append(f"{self.attested} attested (unsigned) letters")
        return ", ".join(parts)

    def statements(self) -> list[str]:
        covered = self.latest.size if self.latest else 0
        lines = [
            f"All {self.events} events hash (SHA-256 of RFC 8785 canonical JSON) to the hashes "
            "recorded for them.",
            f"All {self.aggregates} aggregates form unbroken hash chains (versions 1..n, each "
            "naming the hash of the one before).",
            f"The RFC 6962 root recomputed from the events equals the signed root of each of the "
            f"{self.checkpoints} checkpoints, each signature verifying with the trusted ledger "
            "key; "
            f"so leaves 0..{covered - 1} are exactly what the ledger signed, and every checkpoint "
            "extends the one before (consistency).",
        ]
        if self.signatures_verified:
            lines.append(
                f"{self.signatures_verified} sender signatures verify over their envelopes with "
                "keys "
                "valid at the time of sending; each envelope matches its Sent event."
            )
        return lines
