"""The witness's memory: per origin, the latest cosigned size, root and note.

tlog-witness requires the old-size check and the update to be one atomic step,
persisted before the answer, or two racing submissions can roll the witness
back (the spec's six-step race). So :meth:`StateFile.transaction` holds a
process lock *and* an exclusive ``fcntl`` lock on ``<state>.lock`` (two
processes on one state file serialise too), re-reads the file inside the
locks, lets the caller decide, and writes the new state by temp file, fsync
and rename (then fsyncs the directory) before releasing.

The file is JSON, mode 0600::

    {"version": 1,
     "logs": {"<origin>": {"size": N, "root": "<base64>", "checkpoint": "<note>"}}}
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ebox.witness.errors import StateUnavailable

VERSION = 1


@dataclass(frozen=True)
class LogState:
    """What the witness last cosigned for one log."""

    size: int
    root: bytes
    checkpoint: str
    """The note: the log's verified signature line(s) and our cosignature."""

    def to_json(self) -> dict[str, object]:
        return {
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, origin: str, value: object) -> LogState:
        if not isinstance(value, dict):
            raise StateUnavailable(f"state of {origin!r} is not an object")
        size, root, note = value.get("size"), value.get("root"), value.get("checkpoint")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise StateUnavailable(f"state of {origin!r} has no valid size")
        if not isinstance(root, str) or not isinstance(note, str):
            raise StateUnavailable(f"state of {origin!r} lacks its root or checkpoint")
        try:
            raw = base64.b64decode(root, validate=True)
        except binascii.Error as error:
            raise StateUnavailable(f"state of {origin!r} has a root that is not base64") from error
        if len(raw) != 32:
            raise StateUnavailable(f"state of {origin!r} has a root of {len(raw)} bytes")
        return cls(size, raw, note)


class Transaction:
    """The state as read under the locks; :meth:`record` schedules the write at commit."""

    def __init__(self, logs: dict[str, LogState]) -> None:
        self.logs = logs
        self.changed = False

    def get(self, origin: str) -> LogState | None:
        return self.logs.get(origin)

    def record(self, origin: str, state: LogState) -> None:
        self.logs[origin] = state
        self.changed = True


class StateFile:
    """One JSON state file shared safely by the threads of this process and other processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")
        self._thread_lock = threading.Lock()

    def check(self) -> None:
        """Fail now (a command error) if the file exists but cannot be read or parsed."""
        self.read()

    def read(self) -> dict[str, LogState]:
        """The state as on disk (an absent file is the empty state)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as error:
            raise StateUnavailable(f"cannot read the state file {self.path}: {error}") from error
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise StateUnavailable(f"state file {self.path} is not JSON: {error}") from error
        if not isinstance(document, dict) or document.get("version") != VERSION:
            raise StateUnavailable(f"state file {self.path} is not a version {VERSION} state")
        logs = document.get("logs")
        if not isinstance(logs, dict):
            raise StateUnavailable(f"state file {self.path} has no logs object")
        return {origin: LogState.from_json(origin, value) for origin, value in logs.items()}

    def latest(self, origin: str) -> LogState | None:
        """What was last cosigned for ``origin`` (a plain read: renames are atomic)."""
        return self.read().get(origin)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Read, let the caller check and record, persist: all under both locks."""
        with self._thread_lock, self._file_lock():
            transaction = Transaction(self.read())
            yield transaction
            if transaction.changed:
                self._write(transaction.logs)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        try:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StateUnavailable(
                f"cannot open the lock file {self._lock_path}: {error}"
            ) from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _write(self, logs: dict[str, LogState]) -> None:
        document = {
            "version": VERSION,
            "logs": {origin: state.to_json() for origin, state in sorted(logs.items())},
        }
        data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        directory = self.path.parent
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=directory)
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(temp, self.path)
        except BaseException as error:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            if isinstance(error, OSError):
                raise StateUnavailable(
                    f"cannot write the state file {self.path}: {error}"
                ) from error
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
