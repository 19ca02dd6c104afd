"""`ebox ledger tiles export DIR`: static files byte-identical to /ledger/tlog/, incrementally."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebox.adapters.runtime import Ledger
from ebox.domain.proofs.tiles import bundles_added, tiles_added, tiles_for_size
from tests.integration.tiles_log import LogBuilder, entry
from tests.served import Server, ebox_env, served
from tests.tlog_client import (
    TilesClient,
    directory_fetcher,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)


def export(home: Path, url: str, directory: Path) -> subprocess.CompletedProcess[str]:
    command = ["ledger", "tiles", "export", str(directory), "--db", url]
    return subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *command],
        env=ebox_env(home),
        capture_output=True,
        text=True,
        check=False,
    )


def files_of(directory: Path) -> dict[str, tuple[int, int]]:
    """Each exported file (relative path) with its inode and mtime: a rewrite changes both."""
    return {
        str(path.relative_to(directory)): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in directory.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def log(ledger: Ledger) -> LogBuilder:
    return LogBuilder(ledger)


@pytest.fixture
def server(ledger: Ledger, database_url: str, ledger_home: Path) -> Iterator[Server]:
    with served(ledger_home, db=database_url) as running:
        yield running


def test_the_exported_tree_is_the_served_tree_byte_for_byte(
    log: LogBuilder, server: Server, ledger_home: Path, database_url: str, tmp_path: Path
) -> None:
    log.grow_to(70_000)
    directory = tmp_path / "tiles"
    result = export(ledger_home, database_url, directory)
    assert result.returncode == 0, result.stderr
    exported = sorted(files_of(directory))
    # 273 + 1 + 2 + 1 tiles, 274 entry bundles, the checkpoint
    assert len(exported) == 277 + 274 + 1
    assert {t.path for t in tiles_for_size(70_000)} <= set(exported)
    for path in exported:
        request = urllib.request.Request(
            f"{server.url}/ledger/tlog/{path}", headers={"Accept-Encoding": "identity"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.read() == (directory / path).read_bytes(), path


def test_a_client_verifies_every_exported_checkpoint_from_the_files_alone(
    log: LogBuilder, ledger: Ledger, ledger_home: Path, database_url: str, tmp_path: Path
) -> None:
    vkey = ledger.secrets.ledger_signer().vkey
    directory = tmp_path / "tiles"
    heads = []
    for size in (1, 257, 1000, 65_537):
        log.grow_to(size)
        assert export(ledger_home, database_url, directory).returncode == 0
        client = TilesClient(directory_fetcher(directory))
        head = client.checkpoint(vkey)
        assert head.size == size and client.root(size) == head.root
        proof = client.inclusion_proof(size - 1, size)
        verify_inclusion(leaf_hash(entry(size - 1)), size - 1, size, proof, head.root)
        assert client.entries((size - 1) // 256, size)[-1] == entry(size - 1)
        heads.append(head)
    # Earlier runs' partial tiles are kept: each earlier checkpoint still verifies.
    client = TilesClient(directory_fetcher(directory))
    last = heads[-1]
    for earlier in heads[:-1]:
        assert client.root(earlier.size) == earlier.root
        proof = client.consistency_proof(earlier.size, last.size)
        verify_consistency(earlier.size, last.size, proof, earlier.root, last.root)


def test_a_second_run_writes_only_new_full_tiles_the_partials_and_the_checkpoint(
    log: LogBuilder, ledger_home: Path, database_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "tiles"
    log.grow_to(1000)
    first = export(ledger_home, database_url, directory)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("\n") == 1
    assert "9 tiles and entry bundles written, 0 full ones already there skipped" in first.stdout
    before = files_of(directory)

    log.grow_to(3000)
    second = export(ledger_home, database_url, directory)
    assert second.returncode == 0, second.stderr
    after = files_of(directory)
    rewritten = {path for path in before if after[path] != before[path]}
    new = set(after) - set(before)
    added = {r.path for r in [*tiles_added(1000, 3000), *bundles_added(1000, 3000)]}
    assert new == added  # new full tiles and bundles, and the partials of 3000
    assert rewritten == {"checkpoint"}  # 1000's full tiles untouched; its partials kept
    assert "tile/0/003.p/232" in after and "tile/entries/003.p/232" in after
    assert f"{len(added)} tiles and entry bundles written, 6 full ones" in second.stdout

    third = export(ledger_home, database_url, directory)
    assert third.returncode == 0
    rewritten = {path for path, seen in files_of(directory).items() if seen != after[path]}
    assert rewritten == {
        "checkpoint",
        "tile/0/011.p/184",  # 3000 = 11 * 256 + 184
        "tile/entries/011.p/184",
        "tile/1/000.p/11",
    }


def test_a_directory_that_is_a_file_is_one_line_and_exit_2(
    log: LogBuilder, ledger_home: Path, database_url: str, tmp_path: Path
) -> None:
    log.grow_to(10)
    a_file = tmp_path / "tiles"
    a_file.write_text("not a directory")
    for target in (a_file, a_file / "below"):
        result = export(ledger_home, database_url, target)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert str(a_file) in result.stderr


def test_nothing_sealed_is_one_line_and_exit_2(
    ledger: Ledger, ledger_home: Path, database_url: str, tmp_path: Path
) -> None:
    result = export(ledger_home, database_url, tmp_path / "tiles")
    assert result.returncode == 2
    assert result.stderr == "ebox: nothing to export: no checkpoint yet\n"


def test_exported_files_are_world_readable(
    log: LogBuilder, ledger_home: Path, database_url: str, tmp_path: Path
) -> None:
    log.grow_to(300)
    directory = tmp_path / "tiles"
    assert export(ledger_home, database_url, directory).returncode == 0
    modes = {os.stat(path).st_mode & 0o777 for path in directory.rglob("*") if path.is_file()}
    assert modes == {0o644}
    assert not [path for path in directory.rglob(".*.tmp")]
