"""The add-checkpoint use case: every check of tlog-witness, in the spec's order.

1. unknown origin -> 404;  2. no trusted signature, or a bad one -> 403;
3. old size > checkpoint size -> 400;  4. old size != latest cosigned -> 409;
5. size zero with a non-empty root, a proof with old size zero, a failing
   consistency proof, the same size with another root -> 422 (and logged: a
   validly signed inconsistent checkpoint is evidence against the log);
6. record, persist, then answer with our cosignature line.

Steps 4 to 6 run inside one :meth:`StateFile.transaction`, so no two
submissions can interleave between the check and the write.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from ebox.domain.proofs.checkpoint import Checkpoint
from ebox.domain.proofs.cosignature import Cosigner
from ebox.domain.proofs.errors import (
    CheckpointFormatError,
    NoteError,
    ProofError,
    UnverifiedNoteError,
)
from ebox.domain.proofs.merkle import verify_consistency
from ebox.domain.proofs.note import SIGNATURE_PREFIX, NoteVerifier, b64encode, split_note
from ebox.witness.errors import (
    Inconsistent,
    MalformedRequest,
    OldSizeTooLarge,
    SizeConflict,
    UnknownLog,
    UntrustedCheckpoint,
)
from ebox.witness.request import AddCheckpoint
from ebox.witness.state import LogState, StateFile

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""RFC 6962 section 2.1: the root of the empty tree is the hash of the empty string."""


def origin_hash(origin: str) -> str:
    """The path segment of the monitoring endpoint: lowercase hex SHA-256 of the origin."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


class Witness:
    """One cosigner witnessing a fixed set of logs, remembering them in one state file."""

    def __init__(
        self,
        cosigner: Cosigner,
        logs: Iterable[NoteVerifier],
        state: StateFile,
        *,
        clock: Callable[[], float] = time.time,
        evidence: TextIO | None = None,
    ) -> None:
        self.cosigner = cosigner
        self.state = state
        self._clock = clock
        self._evidence = evidence
        self.logs: dict[str, list[NoteVerifier]] = {}
        for verifier in logs:
            self.logs.setdefault(verifier.name, []).append(verifier)
        self._by_hash = {origin_hash(origin): origin for origin in self.logs}

    def add_checkpoint(self, request: AddCheckpoint) -> str:
        """Our cosignature line(s) on the checkpoint, or a :class:`WitnessError`."""
        origin = request.origin
        verifiers = self.logs.get(origin)
        if verifiers is None:
            raise UnknownLog(f"unknown log origin {origin[:80]!r}")
        text, trusted_lines = _open_note(request.note, verifiers)
        try:
            checkpoint = Checkpoint.parse(text)
        except CheckpointFormatError as error:
            raise MalformedRequest(f"signed text is not a checkpoint: {error}") from error
        if request.old_size > checkpoint.size:
            raise OldSizeTooLarge(
                f"old size {request.old_size} exceeds the checkpoint size {checkpoint.size}"
            )
        with self.state.transaction() as transaction:
            latest = transaction.get(origin)
            latest_size = 0 if latest is None else latest.size
            if request.old_size != latest_size:
                raise SizeConflict(latest_size)
            try:
                self._check_consistency(request, checkpoint, latest)
            except Inconsistent as refusal:
                self._log_misbehaviour(origin, request, refusal)
                raise
            line = self.cosigner.cosign(text, self._timestamp())
            note = text + "\n" + "".join(trusted_lines) + line
            transaction.record(origin, LogState(checkpoint.size, checkpoint.root, note))
        return line

    def latest_checkpoint(self, hashed_origin: str) -> str | None:
        """The latest cosigned note of the log whose origin hashes to ``hashed_origin``."""
        origin = self._by_hash.get(hashed_origin)
        if origin is None:
            return None
        latest = self.state.latest(origin)
        return None if latest is None else latest.checkpoint

    @staticmethod
    def _check_consistency(
        request: AddCheckpoint, checkpoint: Checkpoint, latest: LogState | None
    ) -> None:
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            raise Inconsistent("a checkpoint of size zero must have the empty tree's root")
        if request.old_size == 0:
            if request.proof:
                raise Inconsistent("a consistency proof from size zero must be empty")
            return
        assert latest is not None  # old size == latest size > 0
        if request.old_size == checkpoint.size and latest.root != checkpoint.root:
            raise Inconsistent(
                f"size {checkpoint.size} was cosigned with root {b64encode(latest.root)}, "
                f"this checkpoint has root {b64encode(checkpoint.root)}"
            )
        try:
            verify_consistency(
                request.old_size, checkpoint.size, request.proof, latest.root, checkpoint.root
            )
        except ProofError as error:
            raise Inconsistent(
                f"no consistency from size {request.old_size} to {checkpoint.size}: {error}"
            ) from error

    def _timestamp(self) -> int:
        """POSIX seconds, never zero (the spec forbids omitting the timestamp)."""
        return max(1, int(self._clock()))

    def _log_misbehaviour(self, origin: str, request: AddCheckpoint, refusal: Inconsistent) -> None:
        """One JSON line on stderr: the signed checkpoint we refused, and why."""
        out = self._evidence if self._evidence is not None else sys.stderr
        record = {
            "event": "witness.refused_inconsistent_checkpoint",
            "origin": origin,
            "old_size": request.old_size,
            "reason": str(refusal),
            "checkpoint": request.note,
            "proof": [b64encode(h) for h in request.proof],
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()


def _open_note(note: str, verifiers: list[NoteVerifier]) -> tuple[str, list[str]]:
    """The note's text and the signature lines of trusted keys, or 403.

    Signatures of unknown keys are ignored; a trusted key's line that fails to
    verify makes the whole note malformed (signed-note), hence 403 as well.
    """
    try:
        text, signatures = split_note(note)
    except NoteError as error:
        raise UntrustedCheckpoint(f"checkpoint is not a signed note: {error}") from error
    verified = False
    for verifier in verifiers:
        try:
            verifier.verify(note)
        except UnverifiedNoteError:
            continue
        except NoteError as error:
            raise UntrustedCheckpoint(str(error)) from error
        verified = True
    if not verified:
        raise UntrustedCheckpoint("no signature by a trusted key of this log")
    trusted = {(v.name, v.key_id) for v in verifiers}
    lines = [
        f"{SIGNATURE_PREFIX}{name} {b64encode(raw)}\n"
        for name, raw in signatures
        if (name, raw[:4]) in trusted
    ]
    return text, lines
