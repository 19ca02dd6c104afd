"""The bundle's trusted time: an RFC 3161 token over an earlier checkpoint, checked offline.

A bundle's `trusted_time` names a checkpoint that the ledger had time-stamped by
a TSA, and that already covered every event of the bundle. Checked here, in
the order of trust: that checkpoint's signature by the ledger key the verifier
trusts, its consistency with the bundle's (already verified) checkpoint, every
event's leaf index below its size, then the token: its imprint is SHA-256 of
that checkpoint's body (so a token for another checkpoint is refused), its CMS
signature holds (so a changed token is refused), and, when TSA trust anchors
are given, the TSA's certificate chains to one of them and is a time-stamping
certificate. Without anchors the token's integrity is checked, and the report
says the TSA itself was not trusted.

The report then says which time source proves what: the ledger's own `time`
lines (the operator's clock), witness cosignature timestamps (when a bundle
carries cosignatures), and the TSA's genTime.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from asn1crypto import x509

from ebox.domain.proofs.checkpoint import Checkpoint, open_checkpoint
from ebox.domain.proofs.errors import CheckpointFormatError, NoteError, ProofError
from ebox.domain.proofs.evidence import EvidenceBundle, TrustedTime
from ebox.domain.proofs.merkle import verify_consistency
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.proofs.timestamp import (
    StampedTime,
    TimestampError,
    check_token,
    checkpoint_hash,
)
from ebox.verifier.errors import VerificationError
from ebox.verifier.findings import Section
from ebox.verifier.witnesses import Witnessed, witness_time_lines

BRUSSELS = ZoneInfo("Europe/Brussels")


@dataclass(frozen=True)
class ProvenTime:
    """A checked time-stamp: the token's findings and the size of the checkpoint it stamps."""

    token: StampedTime
    size: int


class TrustedTimeRefused(VerificationError):
    """The bundle's time-stamp does not prove its time: another checkpoint's, changed, untrusted."""

    kind = "time-stamp refused"


def check_trusted_time(
    bundle: EvidenceBundle,
    verifier: NoteVerifier,
    checkpoint: Checkpoint,
    anchors: Sequence[x509.Certificate] = (),
) -> ProvenTime | None:
    """What the bundle's time-stamp proves, or None if it carries none; raise why not."""
    trusted = bundle.trusted_time
    if trusted is None:
        return None
    stamped = _open_stamped(trusted, verifier, bundle.ledger.origin)
    _check_consistency(trusted, stamped, checkpoint)
    for group, events in (
        ("events", bundle.events),
        ("sender_events", bundle.sender_events),
        ("mailbox_events", bundle.mailbox_events),
    ):
        for position, event in enumerate(events):
            if event.leaf_index >= stamped.size:
                raise TrustedTimeRefused(
                    f"{group}[{position}] (leaf {event.leaf_index}) is not in the time-stamped "
                    f"checkpoint of size {stamped.size}"
                )
    try:
        token = check_token(trusted.token, checkpoint_hash(trusted.checkpoint), anchors)
    except TimestampError as error:
        raise TrustedTimeRefused(str(error)) from None
    return ProvenTime(token=token, size=stamped.size)


def time_section(
    bundle: EvidenceBundle,
    checkpoint: Checkpoint,
    proven: ProvenTime,
    witnessed: Witnessed | None = None,
) -> Section:
    """Which time source proves what, from the least to the most independent.

    Witness cosignature times are listed when a policy checked them (``witnessed``).
    """
    lines = [
        "Ledger time: the events' `time` fields and the checkpoint's `time` line are the "
        "operator's clock; they are signed by the ledger key but nobody else can audit them.",
        *witness_time_lines(witnessed),
    ]
    at = proven.token.gen_time
    local = at.astimezone(BRUSSELS)
    lines.append(
        f"RFC 3161 token by {proven.token.tsa}: events existed no later than "
        f"{at.strftime('%Y-%m-%dT%H:%M:%SZ')} ({local.strftime('%Y-%m-%d %H:%M:%S')} "
        f"Brussels); it stamps the checkpoint of size {proven.size}, consistent with "
        f"the bundle's checkpoint of size {checkpoint.size}."
    )
    if proven.token.trusted:
        verdict = f"no later than {at.strftime('%Y-%m-%dT%H:%M:%SZ')} (TSA trusted)"
        lines.append("The TSA's certificate chain was validated against the trust anchors given.")
    else:
        verdict = "time-stamp intact, TSA not trusted"
        lines.append(
            "The TSA was not trusted: no TSA trust anchors were given (ebox verify --tsa-ca); "
            "the token is intact, but who made it is not established."
        )
    return Section("Time", verdict, tuple(lines))


def _open_stamped(trusted: TrustedTime, verifier: NoteVerifier, origin: str) -> Checkpoint:
    try:
        return open_checkpoint(trusted.checkpoint, verifier, origin=origin)
    except (NoteError, CheckpointFormatError, ProofError) as error:
        raise TrustedTimeRefused(
            f"the time-stamped checkpoint does not open with the trusted ledger key: {error}"
        ) from None


def _check_consistency(trusted: TrustedTime, stamped: Checkpoint, checkpoint: Checkpoint) -> None:
    if stamped.size > checkpoint.size:
        raise TrustedTimeRefused(
            f"the time-stamped checkpoint (size {stamped.size}) is larger than the bundle's "
            f"({checkpoint.size})"
        )
    try:
        verify_consistency(
            stamped.size, checkpoint.size, trusted.consistency, stamped.root, checkpoint.root
        )
    except ProofError as error:
        raise TrustedTimeRefused(
            f"the time-stamped checkpoint is not consistent with the bundle's: {error}"
        ) from None
