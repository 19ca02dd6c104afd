"""The checkpoint checks of the audit: signature, size and recomputed root, in increasing size.

Split out of :mod:`ebox.verifier.audit`: :class:`_CheckpointChecks` holds the
methods of :class:`~ebox.verifier.audit.LedgerAuditor` that check each signed
checkpoint when the recomputed tree reaches its size (consistency by
construction, see the audit's docstring); the auditor inherits them.

Across a ledger key rotation (ebox.domain.proofs.rotation) the key in effect
changes at the rotation event's leaf: the auditor checks each rotation's
endorsement by the key it replaces, then checks later checkpoints with the new
key. The trusted key may be any key of the chain: checkpoints signed before the
first rotation by a key not yet known are held (their roots already checked)
until the rotation names that key; the audit passes only if the trusted key is
one of the chain's, so that every checkpoint is vouched for by it, forward
through endorsements or backward through the later checkpoints that cover the
rotation events.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ebox.domain.proofs.checkpoint import Checkpoint, open_checkpoint
from ebox.domain.proofs.errors import CheckpointFormatError, NoteError, OriginMismatchError
from ebox.domain.proofs.merkle import Frontier
from ebox.domain.proofs.note import NoteVerifier, b64encode
from ebox.domain.proofs.rotation import endorsement_text
from ebox.verifier.audit_result import AuditResult
from ebox.verifier.entries import (
    Witness,
)
from ebox.verifier.errors import (
    CheckpointForged,
    CheckpointMismatch,
    EventModified,
    EventRef,
    MalformedEvidence,
    VerificationError,
)

if TYPE_CHECKING:
    from ebox.verifier.witnesses import AuditWitnessing

INTERVAL_LIMIT = 20_000
"""Leaf hashes kept since the last checkpoint, to name the event when a root differs."""


class _CheckpointChecks:
    """Checkpoint checks of :class:`~ebox.verifier.audit.LedgerAuditor`."""

    verifier: NoteVerifier
    origin: str | None
    witness: Witness | None
    result: AuditResult
    _checkpoints: Iterator[tuple[int, str]]
    _next: tuple[int, str] | None
    _frontier: Frontier
    _interval: list[tuple[bytes, str, int]]
    _interval_start: int
    _trusted: str
    _anchored: bool
    _rotations: int
    _held: list[tuple[int, str]]
    witnessing: AuditWitnessing | None

    # --- checkpoints -----------------------------------------------------------------------

    def _advance(self) -> None:
        previous = self._next
        self._next = next(self._checkpoints, None)
        while self._next is not None and self._next[0] == 0:
            self._next = next(self._checkpoints, None)
        if previous is not None and self._next is not None and self._next[0] < previous[0]:
            raise MalformedEvidence(
                f"checkpoints must come in increasing size: {self._next[0]} after {previous[0]}"
            )

    def _check_checkpoints(self) -> None:
        while self._next is not None and self._next[0] == self._frontier.size:
            self._check_checkpoint(*self._next)
            self._advance()

    def _check_checkpoint(self, size: int, note: str) -> None:
        ref = EventRef(leaf_index=size - 1, position=f"checkpoint of size {size}")
        try:
            checkpoint = open_checkpoint(note, self.verifier, origin=self.origin)
            self._anchored = self._anchored or self.verifier.vkey == self._trusted
        except OriginMismatchError as error:
            raise CheckpointMismatch(f"checkpoint of another log: {error}", event=ref) from error
        except (NoteError, CheckpointFormatError) as error:
            if self._anchored or self._rotations:
                raise CheckpointForged(
                    f"the checkpoint of size {size} does not verify with the ledger key in "
                    f"effect {self.verifier.vkey} ({error})",
                    event=ref,
                ) from error
            checkpoint = self._hold(size, note, ref, error)
        if self.origin is None:
            self.origin = checkpoint.origin
        if checkpoint.size != size:
            raise CheckpointForged(
                f"the checkpoint stored for size {size} is a note for another size",
                event=ref,
                expected=size,
                actual=checkpoint.size,
            )
        root = self._frontier.root()
        if checkpoint.root != root:
            raise self._root_mismatch(checkpoint, root)
        latest = self.result.latest
        if latest is not None and latest.time and checkpoint.time and checkpoint.time < latest.time:
            self.result.notes.append(
                f"checkpoint {checkpoint.size} is dated before checkpoint {latest.size} "
                "(times are informational, not part of the proof)."
            )
        self.result.latest = checkpoint
        self.result.checkpoints += 1
        if self.witnessing is not None:
            self.witnessing.see(size, note)
        self._interval.clear()
        self._interval_start = size

    def _hold(self, size: int, note: str, ref: EventRef, error: Exception) -> Checkpoint:
        """A checkpoint perhaps signed by a key a later rotation names: checked then."""
        split = note.rfind("\n\n")
        try:
            checkpoint = Checkpoint.parse(note[: split + 1])
        except (CheckpointFormatError, ValueError):
            raise CheckpointForged(
                f"the checkpoint of size {size} does not verify with the trusted ledger key "
                f"({error})",
                event=ref,
            ) from error
        if self.origin is not None and checkpoint.origin != self.origin:
            raise CheckpointMismatch(
                f"checkpoint of another log: {checkpoint.origin}, not {self.origin}", event=ref
            )
        self._held.append((size, note))
        return checkpoint

    def _rotated(self, data: dict[str, object], ref: EventRef) -> None:
        """A LedgerKeyRotated event: check its endorsement; its key signs from here on."""
        previous, vkey, endorsement = (
            str(data.get("previous_vkey")),
            str(data.get("vkey")),
            str(data.get("endorsement")),
        )
        try:
            old, new = NoteVerifier(previous), NoteVerifier(vkey)
        except NoteError as error:
            raise CheckpointForged(
                f"a key rotation names a malformed key ({error})", event=ref
            ) from error
        if (self._anchored or self._rotations) and previous != self.verifier.vkey:
            raise CheckpointForged(
                f"a key rotation replaces {previous}, but the key in effect is "
                f"{self.verifier.vkey}",
                event=ref,
            )
        try:
            endorsed = old.verify(endorsement)
        except NoteError as error:
            raise CheckpointForged(
                f"the rotation to {vkey} is not endorsed by the key it replaces ({error})",
                event=ref,
            ) from error
        if endorsed != endorsement_text(new.name, vkey):
            raise CheckpointForged(
                f"the rotation's endorsement names another key or log: {endorsed!r}", event=ref
            )
        for size, note in self._held:  # signed before the first rotation, by `previous`
            try:
                open_checkpoint(note, old, origin=self.origin)
            except (NoteError, CheckpointFormatError) as error:
                raise CheckpointForged(
                    f"the checkpoint of size {size} verifies neither with the trusted ledger key "
                    f"nor with {previous}, the key the first rotation replaces ({error})",
                    event=EventRef(leaf_index=size - 1, position=f"checkpoint of size {size}"),
                ) from error
        self._held.clear()
        self._anchored = self._anchored or self._trusted in (previous, vkey)
        self._rotations += 1
        self.result.notes.append(
            f"the ledger key was rotated at leaf {ref.leaf_index}: {previous.split('+')[1]} "
            f"signs the checkpoints before, {vkey.split('+')[1]} those from size "
            f"{(ref.leaf_index or 0) + 1} on."
        )
        self.verifier = new

    def _finish_keys(self, size: int) -> None:
        """Every checkpoint must be vouched for by the trusted key (see the module docstring)."""
        if self._held:
            held, _ = self._held[0]
            raise CheckpointForged(
                f"the checkpoint of size {held} does not verify with the trusted ledger key "
                f"{self._trusted}, and no key rotation names the key that signed it",
                event=EventRef(leaf_index=held - 1, position=f"checkpoint of size {held}"),
            )
        if self._rotations and not self._anchored:
            raise CheckpointForged(
                f"the trusted ledger key {self._trusted} is none of the keys the log was signed "
                "with",
                event=EventRef(leaf_index=max(size - 1, 0), position="the key rotations"),
            )

    def _root_mismatch(self, checkpoint: Checkpoint, root: bytes) -> VerificationError:
        start, end = self._interval_start, checkpoint.size
        reason = (
            f"checkpoint {checkpoint.size} is correctly signed, but the events give root "
            f"{b64encode(root)} instead of the signed {b64encode(checkpoint.root)}: an event among "
            f"leaves {start}..{end - 1} differs from what was sealed, with its recorded hash "
            "rewritten"
        )
        if self.witness is not None and len(self._interval) == end - start:
            sealed = self.witness.sealed_leaf_hashes(start, end)
            for offset, (node, aggregate_id, version) in enumerate(self._interval):
                if offset >= len(sealed) or sealed[offset] != node:
                    return EventModified(
                        reason
                        + f"; the first that differs from the sealed leaf is leaf {start + offset}",
                        event=EventRef(aggregate_id, version, start + offset),
                    )
        return CheckpointMismatch(
            reason, event=EventRef(leaf_index=start, position=f"leaves {start}..{end - 1}")
        )
