"""The checkpoint checks of the audit: signature, size and recomputed root, in increasing size.

Split out of :mod:`ebox.verifier.audit`: :class:`_CheckpointChecks` holds the
methods of :class:`~ebox.verifier.audit.LedgerAuditor` that check each signed
checkpoint when the recomputed tree reaches its size (consistency by
construction, see the audit's docstring); the auditor inherits them.
"""

from __future__ import annotations

from collections.abc import Iterator

from ebox.domain.proofs.checkpoint import Checkpoint, open_checkpoint
from ebox.domain.proofs.errors import CheckpointFormatError, NoteError, OriginMismatchError
from ebox.domain.proofs.merkle import Frontier
from ebox.domain.proofs.note import NoteVerifier, b64encode
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
        except OriginMismatchError as error:
            raise CheckpointMismatch(f"checkpoint of another log: {error}", event=ref) from error
        except (NoteError, CheckpointFormatError) as error:
            raise CheckpointForged(
                f"the checkpoint of size {size} does not verify with the trusted ledger key "
                f"({error})",
                event=ref,
            ) from error
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
        self._interval.clear()
        self._interval_start = size

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
