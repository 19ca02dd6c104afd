"""C2SP transparency log checkpoints (https://c2sp.org/tlog-checkpoint).

A checkpoint is the signed statement "the log named *origin* had *size* leaves
with Merkle root *root*"; everything the ledger proves hangs off one. The body
is exactly::

    <origin>
    <size, ASCII decimal without leading zeros>
    <base64 root hash>
    [time <RFC 3339 UTC, six fractional digits, Z>]
    [<other extension line>...]

The ``time`` line is our one extension (when the ledger sealed this size); the
spec allows extension lines but calls them unauditable, so the time is
informational and never needed to check a proof.

Choice on unknown extension lines: they are **preserved**, not rejected.
C2SP makes them opaque and optional, so a strict reader must still accept them
to stay interoperable; they are kept in :attr:`Checkpoint.extensions` in order.
Parsing is strict enough that ``Checkpoint.parse(text).body() == text`` for
every accepted text: one spelling per checkpoint, so what is signed is what is
shown. Consequently a ``time`` line must be the first extension line, appear at
most once and use exactly our format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ebox.domain.proofs.errors import CheckpointFormatError, OriginMismatchError
from ebox.domain.proofs.note import NoteSigner, NoteVerifier, b64decode_strict, b64encode

ROOT_SIZE = 32
MAX_SIZE = 2**64 - 1
"""Tree sizes are uint64 in every other implementation; refuse what they cannot read."""

TIME_PREFIX = "time "

_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z", re.ASCII)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with exactly six fractional digits and ``Z`` (ARCHITECTURE section 4)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Inverse of :func:`format_time`; only that exact spelling is accepted."""
    if not _TIME.fullmatch(text):
        raise CheckpointFormatError(f"time {text!r} is not RFC 3339 UTC with microseconds")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError as error:
        raise CheckpointFormatError(f"time {text!r} is not a valid date and time") from error


def parse_decimal(text: str, what: str) -> int:
    """ASCII decimal without leading zeros (``0`` itself allowed), at most uint64."""
    if not _DECIMAL.fullmatch(text):
        raise CheckpointFormatError(f"{what} {text!r} is not a decimal without leading zeros")
    value = int(text)
    if value > MAX_SIZE:
        raise CheckpointFormatError(f"{what} {text} does not fit in 64 bits")
    return value


def _check_line(line: str, what: str) -> None:
    if not line:
        raise CheckpointFormatError(f"{what} is empty")
    if any(ch < " " for ch in line):
        raise CheckpointFormatError(f"{what} {line[:40]!r} contains a control character")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, size, RFC 6962 root and optional seal time.

    ``time``, when set, must be time-zone aware; it is stored in UTC and
    truncated to microseconds by construction (``datetime`` has no finer unit).
    """

    origin: str
    size: int
    root: bytes
    time: datetime | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if not 0 <= self.size <= MAX_SIZE:
            raise CheckpointFormatError(f"tree size {self.size} is out of range")
        if len(self.root) != ROOT_SIZE:
            raise CheckpointFormatError(f"root is {len(self.root)} bytes, expected {ROOT_SIZE}")
        if self.time is not None:
            if self.time.tzinfo is None:
                raise CheckpointFormatError("checkpoint time must be time-zone aware")
            object.__setattr__(self, "time", self.time.astimezone(UTC))
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for line in self.extensions:
            _check_line(line, "extension line")
            if line.startswith(TIME_PREFIX):
                raise CheckpointFormatError("the time extension goes in the time field")

    def body(self) -> str:
        """The note text that gets signed."""
        lines = [self.origin, str(self.size), b64encode(self.root)]
        if self.time is not None:
            lines.append(TIME_PREFIX + format_time(self.time))
        lines.extend(self.extensions)
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body (the text of an already verified note)."""
        if not text.endswith("\n"):
            raise CheckpointFormatError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointFormatError(f"checkpoint has {len(lines)} lines, expected at least 3")
        origin, size_text, root_text, *rest = lines
        _check_line(origin, "origin")
        size = parse_decimal(size_text, "tree size")
        root = b64decode_strict(root_text)
        if root is None:
            raise CheckpointFormatError(f"root {root_text!r} is not canonical base64")
        if len(root) != ROOT_SIZE:
            raise CheckpointFormatError(f"root is {len(root)} bytes, expected {ROOT_SIZE}")
        time = None
        if rest and rest[0].startswith(TIME_PREFIX):
            time = parse_time(rest[0][len(TIME_PREFIX) :])
            rest = rest[1:]
        return cls(origin, size, root, time, tuple(rest))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The checkpoint as a signed note, ready to publish and to store."""
    return signer.sign(checkpoint.body())


def open_checkpoint(note: str, verifier: NoteVerifier, *, origin: str | None = None) -> Checkpoint:
    """Verify the note's signature first, then parse its text as a checkpoint.

    Pass ``origin`` to also require the checkpoint to name that log (C2SP
    recommends the key name equal the origin, but does not require it, so the
    caller says which origin it trusts).
    """
    checkpoint = Checkpoint.parse(verifier.verify(note))
    if origin is not None and checkpoint.origin != origin:
        raise OriginMismatchError(expected=origin, actual=checkpoint.origin)
    return checkpoint
