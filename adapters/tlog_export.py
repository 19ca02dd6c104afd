"""The log's tiles as static files (`ebox ledger tiles export DIR`), incrementally.

The directory then is a C2SP tlog-tiles log that any web server or object store
can serve as it stands: ``DIR/checkpoint``, ``DIR/tile/<L>/<N>[.p/<W>]`` and
``DIR/tile/entries/<N>[.p/<W>]``, the same bytes as ``/ledger/tlog/`` serves
(both read through :mod:`ebox.adapters.tlog_tiles`; bundles uncompressed).

What a run writes, for the latest checkpoint's size: the full tiles not already
in DIR (a full tile never changes, so an existing one is skipped without being
read), the size's partial tiles, and the checkpoint, last, so that a reader
who sees the new checkpoint finds every tile it needs. Partial tiles of earlier
runs are kept, not removed: they serve clients still holding an earlier
checkpoint (the spec lets a log delete them once the full tile exists, and
this export chooses not to). Every file is written to a temporary name beside
it and renamed, so a reader never sees half a tile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ebox.adapters.tlog_tiles import TileStore
from ebox.domain.proofs.tiles import Resource, bundles_for_size, tiles_for_size

PUBLIC_FILE = 0o644  # the public log: hashes and event hashes, no personal data


class ExportDirectoryError(OSError):
    """DIR cannot hold the export (a file, or not writable)."""


@dataclass(frozen=True)
class ExportSummary:
    size: int
    written: int  # tiles and entry bundles
    skipped: int  # full ones already in DIR

    def line(self, directory: Path) -> str:
        return (
            f"tiles export of size {self.size} to {directory}: {self.written} tiles and entry "
            f"bundles written, {self.skipped} full ones already there skipped, checkpoint written"
        )


def prepare_directory(directory: Path) -> None:
    """Create DIR if needed; refuse a file, or a directory this process may not write."""
    if directory.exists() and not directory.is_dir():
        raise ExportDirectoryError(f"{directory} is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportDirectoryError(f"cannot create {directory}: {error.strerror}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ExportDirectoryError(f"{directory} is not writable")


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PUBLIC_FILE)
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
        os.chmod(temporary, PUBLIC_FILE)  # whatever the umask
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def export_tiles(store: TileStore, size: int, note: str, directory: Path) -> ExportSummary:
    """Write the tree of the checkpoint (`size`, `note`) into `directory`, incrementally."""
    prepare_directory(directory)
    resources: list[Resource] = [*tiles_for_size(size), *bundles_for_size(size)]
    needed = [r for r in resources if not (r.full and (directory / r.path).is_file())]
    for resource, data in zip(needed, store.read_many(needed), strict=True):
        write_atomically(directory / resource.path, data)
    write_atomically(directory / "checkpoint", note.encode("utf-8"))
    return ExportSummary(size=size, written=len(needed), skipped=len(resources) - len(needed))
