"""Benchmark of `ebox ledger tiles export` on a large log, beside hashing the same leaves.

    .venv/bin/python bench/tiles_export.py                  # 10,000,000 leaves, SQLite
    .venv/bin/python bench/tiles_export.py --leaves 1000000
    .venv/bin/python bench/tiles_export.py --db postgresql+psycopg2://postgres@127.0.0.1:5432/x

Untimed setup: a migrated database (SQLite in a temporary directory, or the
empty database `--db` names) whose `ledger_leaves` and `merkle_nodes` rows are
those the sealer would write for N synthetic event hashes (domain Frontier, the
sealer's bulk insert), and one checkpoint of size N signed with the ledger key.

Timed, in the same run:

- hashing: the N leaf hashes and the tree (domain `Frontier.append` for each
  leaf, then the root): what sealing the log costs in SHA-256, the floor any
  export is compared with;
- export: `export_tiles` (what `ebox ledger tiles export DIR` runs) into an
  empty directory: every tile, entry bundle and the checkpoint, as files;
- again: a second export into the same directory (incremental: nothing new,
  so only the partial tiles and the checkpoint are written).

The ratio export / hashing says how much more than sealing's own hashing the
export costs. Files live in a temporary directory removed at the end (`--keep`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ebox.adapters.bulk import insert_rows
from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.schema import upgrade
from ebox.adapters.tables import checkpoints, ledger_leaves, merkle_nodes
from ebox.adapters.tlog_export import export_tiles
from ebox.adapters.tlog_tiles import TileStore
from ebox.domain.proofs.checkpoint import Checkpoint, sign_checkpoint
from ebox.domain.proofs.merkle import Frontier, leaf_hash

CHUNK = 50_000


def event_hash(n: int) -> bytes:
    """Synthetic event hash of leaf `n`."""
    return hashlib.sha256(n.to_bytes(8, "big")).digest()


def build(ledger: Ledger, leaves: int) -> str:
    """Write the sealer's rows for `leaves` synthetic events and one checkpoint; its note."""
    frontier = Frontier.empty()
    while frontier.size < leaves:
        stop = min(leaves, frontier.size + CHUNK)
        leaf_rows: list[dict[str, Any]] = []
        node_rows: list[dict[str, Any]] = []
        for n in range(frontier.size, stop):
            digest = event_hash(n)
            for (level, idx), value in frontier.append(leaf_hash(digest)):
                node_rows.append({"level": level, "idx": idx, "hash": value})
            leaf_rows.append(
                {
                    "leaf_index": n,
                    "notification_id": n + 1,
                    "aggregate_id": f"00000000-0000-4000-8000-{n:012d}",
                    "version": 1,
                    "event_hash": digest.hex(),
                }
            )
        with ledger.db.write() as session:
            insert_rows(session, ledger_leaves, leaf_rows)
            insert_rows(session, merkle_nodes, node_rows)
    signer = ledger.secrets.ledger_signer()
    checkpoint = Checkpoint(signer.name, leaves, frontier.root(), datetime.now(UTC))
    note = sign_checkpoint(checkpoint, signer)
    with ledger.db.write() as session:
        row = {"size": leaves, "root": checkpoint.root, "note": note, "signed_at": checkpoint.time}
        insert_rows(session, checkpoints, [row])
    return note


def hash_leaves(leaves: int) -> tuple[float, bytes]:
    """Seconds to hash `leaves` leaves and their tree (as the sealer does), and the root."""
    started = time.perf_counter()
    frontier = Frontier.empty()
    append = frontier.append
    for n in range(leaves):
        append(leaf_hash(event_hash(n)))
    root = frontier.root()
    return time.perf_counter() - started, root


def run(leaves: int, url: str | None, workdir: Path) -> dict[str, float | int]:
    if url is None:
        url = f"sqlite:///{workdir / 'ledger.sqlite'}"
    upgrade(url)
    ledger = open_ledger(url, home=workdir / "home")
    try:
        started = time.perf_counter()
        note = build(ledger, leaves)
        built = time.perf_counter() - started
        hashing, root = hash_leaves(leaves)
        directory = workdir / "tiles"
        store = TileStore(ledger)
        started = time.perf_counter()
        first = export_tiles(store, leaves, note, directory)
        exported = time.perf_counter() - started
        started = time.perf_counter()
        second = export_tiles(store, leaves, note, directory)
        again = time.perf_counter() - started
    finally:
        ledger.close()
    tile_root = (directory / "checkpoint").read_text().splitlines()[2]
    assert base64.b64decode(tile_root) == root, "the exported checkpoint is not the tree hashed"
    size = sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())
    return {
        "leaves": leaves,
        "build_s": built,
        "hashing_s": hashing,
        "export_s": exported,
        "files": first.written + 1,
        "bytes": size,
        "again_s": again,
        "again_written": second.written + 1,
    }


def report(figures: dict[str, float | int], database: str) -> None:
    leaves = int(figures["leaves"])
    ratio = float(figures["export_s"]) / float(figures["hashing_s"])
    print(f"tiles export benchmark: {leaves:,} leaves on {database}")
    print(f"  setup (untimed): the sealer's rows written in {figures['build_s']:.1f} s")
    print(f"  hashing the leaves (leaf hashes + tree):   {figures['hashing_s']:8.2f} s")
    print(
        f"  tiles export into an empty directory:      {figures['export_s']:8.2f} s"
        f"  ({int(figures['files']):,} files, {int(figures['bytes']) / 1e6:,.1f} MB)"
    )
    print(f"  ratio export / hashing:                    {ratio:8.2f}")
    print(
        f"  second export (incremental, nothing new):  {figures['again_s']:8.2f} s"
        f"  ({int(figures['again_written'])} files written)"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark of the tiles export (see docstring).")
    parser.add_argument("--leaves", type=int, default=10_000_000, help="the log's size")
    parser.add_argument("--db", help="an empty database URL (default: SQLite, temporary)")
    parser.add_argument("--workdir", type=Path, help="where to put the files (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ebox-bench-tiles-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; files in {workdir}",
        file=sys.stderr,
    )
    try:
        figures = run(args.leaves, args.db, workdir)
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report(figures, "PostgreSQL" if args.db and args.db.startswith("postgres") else "SQLite")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
