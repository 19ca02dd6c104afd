"""Why evidence or a ledger does not verify: typed refusals with expected and actual values.

Verifiers here recompute and compare, then raise one of these at the first
difference (as transparency-dev/merkle does): the exception names the kind of
tampering, the event it was found at and both values, so that a report or a
court can say exactly what is wrong, and a test can check *why* without
parsing messages. Everything is a :class:`VerificationError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class EventRef:
    """Where a problem was found: an event of an aggregate, at a leaf, at a place in the input.

    Any field may be unknown (``None``): a missing event has no content, an
    unsealed one no leaf.
    """

    aggregate_id: str | None = None
    version: int | None = None
    leaf_index: int | None = None
    aggregate_type: str | None = None
    type: str | None = None
    position: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.aggregate_type or self.type:
            parts.append(".".join(p for p in (self.aggregate_type, self.type) if p))
        if self.aggregate_id is not None:
            parts.append(f"aggregate {self.aggregate_id}")
        if self.version is not None:
            parts.append(f"version {self.version}")
        if self.leaf_index is not None:
            parts.append(f"leaf {self.leaf_index}")
        if self.position:
            parts.append(f"at {self.position}")
        return " ".join(parts) if parts else "(unknown event)"


class VerificationError(Exception):
    """Base of every refusal: the evidence or the ledger does not prove what it claims.

    ``kind`` is the class of problem in one or two words (``modified``,
    ``missing``, ``checkpoint forged``...), ``event`` where it was found.
    """

    kind: ClassVar[str] = "invalid"

    def __init__(
        self,
        reason: str,
        *,
        event: EventRef | None = None,
        expected: Any = None,
        actual: Any = None,
    ) -> None:
        self.reason = reason
        self.event = event
        self.expected = expected
        self.actual = actual
        super().__init__(self.describe())

    def __reduce__(self) -> tuple[Any, ...]:
        """Survive pickling with every field (e.g. to travel between processes)."""
        return (_rebuild, (type(self), self.reason, self.event, self.expected, self.actual))

    def describe(self) -> str:
        text = f"{self.kind}: "
        if self.event is not None:
            text += f"{self.event}: "
        text += self.reason
        if self.expected is not None or self.actual is not None:
            text += f" (expected {_short(self.expected)}, found {_short(self.actual)})"
        return text


def _rebuild(
    kind: type[VerificationError], reason: str, event: EventRef | None, expected: Any, actual: Any
) -> VerificationError:
    return kind(reason, event=event, expected=expected, actual=actual)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


# --- the file itself ------------------------------------------------------------


class MalformedEvidence(VerificationError):
    """The input is not in the documented format (bad JSON, a missing member...)."""

    kind = "malformed"


class UntrustedLedgerKey(VerificationError):
    """The evidence was made for another ledger key than the one the verifier trusts."""

    kind = "untrusted key"


# --- integrity -----------------------------------------------------------------


class EventModified(VerificationError):
    """An event's content no longer hashes to the hash recorded for it, or its chain link broke."""

    kind = "modified"


class EventMissing(VerificationError):
    """An event that was recorded (a leaf, a version of an aggregate) is absent."""

    kind = "missing"


class EventInserted(VerificationError):
    """An event is present that the ledger never sealed where it stands."""

    kind = "inserted"


class EventReordered(VerificationError):
    """An event stands at another place than the one it was sealed at."""

    kind = "reordered"


class NotIncluded(VerificationError):
    """An inclusion proof does not lead to the signed checkpoint's root."""

    kind = "not included"


class CheckpointForged(VerificationError):
    """A checkpoint's signature does not verify with the trusted ledger key."""

    kind = "checkpoint forged"


class CheckpointMismatch(VerificationError):
    """A correctly signed checkpoint's root differs from the root the events give."""

    kind = "checkpoint mismatch"


# --- origin, destination, confidentiality --------------------------------------------


class OriginNotProven(VerificationError):
    kind = "origin"


class SignatureInvalid(OriginNotProven):
    """The sender's signature does not verify over the envelope with the sender's key."""


class SigningKeyNotValid(OriginNotProven):
    """The signing key is unknown, or was not valid at the time of sending."""


class EnvelopeMismatch(OriginNotProven):
    """The signed envelope says something else than the Sent event (or hashes differently)."""


class DestinationNotProven(VerificationError):
    kind = "destination"


class ConfidentialityNotProven(VerificationError):
    kind = "confidentiality"


class DisclosureInvalid(VerificationError):
    """Disclosed ciphertexts or data key do not match what the ledger recorded."""

    kind = "disclosure"


# --- what the bundle states beside the events ------------------------------------------------


class LegalMomentMismatch(VerificationError):
    """The stated legal moment of receipt is not the one its rule gives from the events."""

    kind = "legal moment"


class EtsiLabelMismatch(VerificationError):
    """An event's ETSI EN 319 522 label is not the one its type (and data) call for."""

    kind = "etsi label"
