"""The witness's refusals, each carrying the HTTP status that tlog-witness prescribes."""

from __future__ import annotations


class WitnessError(Exception):
    """Base of every refusal of an add-checkpoint request."""

    status = 400


class MalformedRequest(WitnessError):
    """The body is not `old N`, <= 63 base64 hashes, a blank line and a checkpoint note."""

    status = 400


class UnknownLog(WitnessError):
    """No configured log has the checkpoint's origin."""

    status = 404


class UntrustedCheckpoint(WitnessError):
    """No signature by a trusted key of the origin, or a trusted key's signature is bad."""

    status = 403


class OldSizeTooLarge(WitnessError):
    """The request's old size exceeds the checkpoint's size."""

    status = 400


class SizeConflict(WitnessError):
    """The old size is not the size the witness last cosigned: the client must retry from it."""

    status = 409

    def __init__(self, latest: int) -> None:
        super().__init__(f"old size does not match the latest cosigned size {latest}")
        self.latest = latest


class Inconsistent(WitnessError):
    """A validly signed checkpoint the witness must not cosign: evidence of a misbehaving log.

    Size zero with another root, a proof with old size zero, a failing
    consistency proof, or the same size with another root (a fork).
    """

    status = 422


class StateUnavailable(Exception):
    """The state file cannot be read, parsed or written (a command error, not a refusal)."""


class KeyFileError(Exception):
    """The witness key file is unreadable, malformed, or names another witness."""
