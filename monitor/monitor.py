"""One monitoring step: is the log's new checkpoint signed, witnessed and consistent with the last?

The state file holds the last checkpoint this monitor verified (size, root,
note). A step fetches the current checkpoint and, from tiles alone, recomputes
both the old and the new root out of the same tiles: if the old root comes
out as remembered and the new root as signed, the new tree extends the old one
(the same argument as an RFC 6962 consistency proof, with every hash fetched
rather than sent). Each way of failing is its own error with its own exit code,
and the state is never moved on a failure, so the evidence stays on disk.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ebox.domain.proofs.checkpoint import Checkpoint
from ebox.domain.proofs.errors import ProofError
from ebox.domain.proofs.merkle import leaf_hash, root_at
from ebox.domain.proofs.note import NoteVerifier
from ebox.domain.proofs.policy import Policy
from ebox.domain.proofs.tiles import bundles_added
from ebox.monitor.tiles_reader import FetchError, TileFetcher, TileNodeReader


class MonitorAlarm(Exception):
    """Something a monitor exists to catch; ``exit_code`` tells scripts which."""

    exit_code = 1


class ForkDetected(MonitorAlarm):
    exit_code = 3


class RollbackDetected(MonitorAlarm):
    exit_code = 4


class BadCheckpoint(MonitorAlarm):
    """Signature or witness quorum does not hold."""

    exit_code = 5


class Inconsistent(MonitorAlarm):
    exit_code = 6


class EntryMismatch(MonitorAlarm):
    exit_code = 7


class StateError(MonitorAlarm):
    exit_code = 2


@dataclass(frozen=True)
class Seen:
    """The last verified checkpoint, as the state file keeps it."""

    size: int
    root: bytes
    note: str

    @classmethod
    def load(cls, path: Path) -> Seen | None:
        if not path.exists():
            return None
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(body["size"]), base64.b64decode(body["root"]), str(body["note"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise StateError(f"state file {path} is unreadable: {error}") from None

    def save(self, path: Path) -> None:
        """Atomically (temp file, fsync, rename), 0600: it is what the next run trusts."""
        body = {"size": self.size, "root": base64.b64encode(self.root).decode(), "note": self.note}
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(body, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class Step:
    """What one step saw: the sizes, how many witnesses vouched, how many entries checked."""

    old_size: int | None
    size: int
    cosignatures: int
    entries_checked: int

    def line(self) -> str:
        grown = "first checkpoint" if self.old_size is None else f"size {self.old_size} ->"
        text = f"{grown} {self.size}: signature ok, consistent"
        if self.cosignatures:
            text += f", {self.cosignatures} cosignatures meet the quorum"
        if self.entries_checked:
            text += f", {self.entries_checked} entries checked"
        return text


EventSource = Callable[[int, int], list[tuple[int, bytes, bytes]]]
"""``(start, stop) -> [(leaf index, entry, SHA-256 of the canonical event)]`` (audit scope)."""


class Monitor:
    def __init__(
        self,
        fetcher: TileFetcher,
        vkey: str,
        state: Path,
        policy: Policy | None = None,
        entries: bool = False,
        events: EventSource | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.verifier = NoteVerifier(vkey)
        self.state = state
        self.policy = policy
        self.entries = entries
        self.events = events

    def step(self) -> Step:
        seen = Seen.load(self.state)
        note = self.fetcher.checkpoint()
        checkpoint, cosignatures = self._open(note)
        if seen is not None:
            self._compare(seen, checkpoint)
        reader = TileNodeReader(self.fetcher, checkpoint.size)
        root = root_at(checkpoint.size, reader)
        if root != checkpoint.root:
            raise Inconsistent(
                f"the tiles give root {_b64(root)} for size {checkpoint.size}, the checkpoint "
                f"signs {_b64(checkpoint.root)}"
            )
        if seen is not None and seen.size:
            old = root_at(seen.size, reader)
            if old != seen.root:
                raise Inconsistent(
                    f"size {checkpoint.size} does not extend size {seen.size}: its tiles give "
                    f"the old tree root {_b64(old)}, the checkpoint seen before signed "
                    f"{_b64(seen.root)}"
                )
        start = 0 if seen is None else seen.size
        checked = self._check_entries(reader, start, checkpoint.size) if self.entries else 0
        Seen(checkpoint.size, checkpoint.root, note).save(self.state)
        return Step(None if seen is None else seen.size, checkpoint.size, cosignatures, checked)

    def _open(self, note: str) -> tuple[Checkpoint, int]:
        try:
            checkpoint = Checkpoint.parse(self.verifier.verify(note))
        except ProofError as error:
            raise BadCheckpoint(
                f"the checkpoint does not verify with the log's key: {error}"
            ) from None
        if checkpoint.origin != self.verifier.name:
            raise BadCheckpoint(
                f"the checkpoint names origin {checkpoint.origin!r}, "
                f"the key is {self.verifier.name!r}"
            )
        if self.policy is None:
            return checkpoint, 0
        try:
            return checkpoint, len(self.policy.check(note))
        except ProofError as error:
            raise BadCheckpoint(str(error)) from None

    def _compare(self, seen: Seen, checkpoint: Checkpoint) -> None:
        if checkpoint.size == seen.size and checkpoint.root != seen.root:
            raise ForkDetected(
                f"FORK: two checkpoints of size {seen.size} signed by the log's key: root "
                f"{_b64(seen.root)} (seen before) and {_b64(checkpoint.root)} (now)"
            )
        if checkpoint.size < seen.size:
            raise RollbackDetected(
                f"ROLLBACK: the log now shows size {checkpoint.size} (root "
                f"{_b64(checkpoint.root)}), after size {seen.size} (root {_b64(seen.root)})"
            )

    def _check_entries(self, reader: TileNodeReader, start: int, stop: int) -> int:
        """Each new entry must hash to its level 0 tile hash (and, given events, be their hash)."""
        checked = 0
        for bundle in bundles_added(start, stop):
            first = bundle.first_leaf
            entries = self.fetcher.entries(bundle)
            leaves = reader.leaf_hashes(first, first + len(entries))
            for offset, (entry, leaf) in enumerate(zip(entries, leaves, strict=True)):
                index = first + offset
                if index < start:
                    continue
                if leaf_hash(entry) != leaf:
                    raise EntryMismatch(f"entry {index} does not hash to its leaf in the tile")
                checked += 1
        if self.events is not None:
            by_index = {index: (entry, digest) for index, entry, digest in self.events(start, stop)}
            for index in range(start, stop):
                if index not in by_index:
                    raise EntryMismatch(f"the audit export lacks entry {index}")
                entry, digest = by_index[index]
                if entry != digest:
                    raise EntryMismatch(
                        f"entry {index}: the canonical event hashes to {digest.hex()}, the log "
                        f"holds {entry.hex()}"
                    )
                if leaf_hash(entry) != reader.node(0, index):
                    raise EntryMismatch(f"entry {index}: the export's event_hash is not the leaf")
        return checked


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


__all__ = ["FetchError", "Monitor", "MonitorAlarm", "Seen", "Step"]
