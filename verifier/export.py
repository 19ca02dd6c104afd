"""Reading an export for an offline audit: events, checkpoints and envelopes, all streamed.

Three files, all produced by the `ebox` command from a ledger database:

- the events: `ebox ledger export`, one JSON object per line
  ``{"leaf_index", "event_hash", "canonical"}`` in leaf order;
- the checkpoints: `ebox ledger checkpoints`, one JSON object per line
  ``{"size", "note"}`` in increasing size, or simply the signed notes one
  after the other (as `ebox ledger checkpoint` prints one);
- optionally the envelopes: `ebox ledger envelopes`, one JSON object per line
  ``{"sha256", "envelope"}`` (base64url of the exact signed bytes), in the
  order the Sent events first use them.

Without the envelopes, an export audit checks each signed letter's key
validity but cannot check the signature itself: the envelope bytes are not
in the events (only their SHA-256 is).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ebox.domain.proofs.canonical import unb64url
from ebox.domain.proofs.checkpoint import parse_decimal
from ebox.domain.proofs.errors import CheckpointFormatError
from ebox.domain.proofs.note import SIGNATURE_PREFIX
from ebox.verifier.entries import Entry, entry_from_export_line
from ebox.verifier.errors import MalformedEvidence


def read_export(path: Path) -> Iterator[Entry]:
    """Every event of the export, hashed, in file order.

    The first event says whether the file writes canonical objects in their
    JCS form (then each event costs one SHA-256 over its bytes as written, see
    :func:`~ebox.verifier.audit.entry_from_export_line`); if not, no line
    tries that shortcut.
    """
    written: bool | None = None
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            entry = entry_from_export_line(line, number, written=written is not False)
            if written is None:
                written = entry.written is not None
            yield entry


def read_checkpoints(path: Path) -> Iterator[tuple[int, str]]:
    """(size, signed note) pairs from a JSON-lines or a plain notes file."""
    with path.open(encoding="utf-8") as handle:
        first = handle.read(1)
        handle.seek(0)
        if first == "{":
            yield from _json_lines(handle, path)
        else:
            for note in split_notes(handle):
                yield _size_of(note), note


def _json_lines(handle: IO[str], path: Path) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            size, note = row["size"], row["note"]
        except (ValueError, KeyError, TypeError) as error:
            raise MalformedEvidence(
                f"{path.name} line {number}: not {{size, note}} ({error})"
            ) from error
        if type(size) is not int or not isinstance(note, str):
            raise MalformedEvidence(
                f"{path.name} line {number}: size must be an integer, note a string"
            )
        yield size, note


def split_notes(lines: Iterator[str] | IO[str]) -> Iterator[str]:
    """Split signed notes written one after the other (blank lines between them allowed).

    A note is its text lines, one blank line, then one or more signature lines
    starting with an em dash; the first line after those that is not a
    signature line starts the next note.
    """
    text: list[str] = []
    signatures: list[str] = []
    state = "text"
    for line in lines:
        if state == "signatures":
            if line.startswith(SIGNATURE_PREFIX):
                signatures.append(line)
                continue
            yield "".join(text) + "\n" + "".join(signatures)
            text, signatures, state = [], [], "text"
        if state == "text":
            if line.strip():
                text.append(line)
            elif text:
                state = "blank"
        elif line.startswith(SIGNATURE_PREFIX):
            signatures.append(line)
            state = "signatures"
        else:
            raise MalformedEvidence("a note in the checkpoints file has no signature line")
    if state == "signatures":
        yield "".join(text) + "\n" + "".join(signatures)
    elif text:
        raise MalformedEvidence("the checkpoints file ends with a note that has no signature")


def _size_of(note: str) -> int:
    """The tree size: the second line of a checkpoint note (checked again when verified)."""
    try:
        return parse_decimal(note.split("\n")[1], "tree size")
    except (IndexError, CheckpointFormatError) as error:
        raise MalformedEvidence(
            f"a note in the checkpoints file is not a checkpoint ({error})"
        ) from error


class EnvelopeFile:
    """Envelope lookup over an `ebox ledger envelopes` file, read in step with the audit.

    The file lists envelopes in the order the Sent events first use them, so
    the next one asked for is either recent (a broadcast) or the next in the
    file: memory stays constant. Anything else re-reads the file from the
    start (correct, only slower).
    """

    def __init__(self, path: Path, cache: int = 256) -> None:
        self.path = path
        self.cache_size = cache
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._lines: Iterator[tuple[str, bytes]] = self._read()

    def _read(self) -> Iterator[tuple[str, bytes]]:
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    yield str(row["sha256"]), unb64url(str(row["envelope"]))
                except (ValueError, KeyError, TypeError) as error:
                    raise MalformedEvidence(
                        f"{self.path.name} line {number}: not {{sha256, envelope}} ({error})"
                    ) from error

    def _remember(self, digest: str, raw: bytes) -> None:
        self._cache[digest] = raw
        self._cache.move_to_end(digest)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def __call__(self, digest: str) -> bytes | None:
        if digest in self._cache:
            return self._cache[digest]
        for found, raw in self._lines:
            self._remember(found, raw)
            if found == digest:
                return raw
        for found, raw in self._read():  # out of order: one more pass from the start
            if found == digest:
                self._remember(found, raw)
                return raw
        return None
