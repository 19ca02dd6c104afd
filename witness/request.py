"""Parsing the add-checkpoint body exactly as tlog-witness defines it.

    old <size>\\n
    <base64 hash>\\n      (zero to 63 lines)
    \\n
    <checkpoint note>

Strict on purpose (no leading zeros, canonical base64, 32-byte hashes): a
witness that accepts two spellings of one request makes logs depend on it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ebox.domain.proofs.checkpoint import parse_decimal
from ebox.domain.proofs.errors import CheckpointFormatError
from ebox.domain.proofs.note import b64decode_strict
from ebox.witness.errors import MalformedRequest

MAX_PROOF_LINES = 63
HASH_SIZE = 32
OLD_PREFIX = "old "


@dataclass(frozen=True)
class AddCheckpoint:
    """One submission: the size the client believes we cosigned, its proof, the note."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str

    @property
    def origin(self) -> str:
        """The checkpoint's first line, which picks the log (before any signature check)."""
        return self.note.split("\n", 1)[0]


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """The request, or :class:`MalformedRequest` naming what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRequest("request body is not UTF-8") from error
    header, blank, note = text.partition("\n\n")
    if not blank:
        raise MalformedRequest("request body has no empty line before the checkpoint")
    lines = header.split("\n")
    old_line, proof_lines = lines[0], lines[1:]
    if not old_line.startswith(OLD_PREFIX):
        raise MalformedRequest("request body does not start with an `old <size>` line")
    try:
        old_size = parse_decimal(old_line[len(OLD_PREFIX) :], "old size")
    except CheckpointFormatError as error:
        raise MalformedRequest(str(error)) from error
    if len(proof_lines) > MAX_PROOF_LINES:
        raise MalformedRequest(
            f"{len(proof_lines)} consistency proof lines, at most {MAX_PROOF_LINES}"
        )
    proof = tuple(_hash(line) for line in proof_lines)
    if not note or "\n" not in note or not note.split("\n", 1)[0]:
        raise MalformedRequest("request body has no checkpoint after the empty line")
    return AddCheckpoint(old_size, proof, note)


def _hash(line: str) -> bytes:
    raw = b64decode_strict(line)
    if raw is None or len(raw) != HASH_SIZE:
        raise MalformedRequest(f"proof line {line[:48]!r} is not base64 of a 32-byte hash")
    return raw


def encode_add_checkpoint(
    old_size: int, proof: list[bytes] | tuple[bytes, ...], note: str
) -> bytes:
    """The body a client sends (the inverse of :func:`parse_add_checkpoint`)."""
    lines = [f"{OLD_PREFIX}{old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode("utf-8")
