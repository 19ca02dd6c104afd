"""/ledger/tlog/ as a C2SP tlog-tiles log, read over real HTTP by a client written from the spec.

The log grows through the sizes where tiles turn partial or full (1, 255, 256,
257, 65,536 + 1); at each, the independent client (tests/tlog_client.py) checks
the served checkpoint's signature, rebuilds its root from tiles alone, checks
inclusion of leaves and consistency with the previous checkpoint, and reads the
entries back against the level 0 tiles.
"""

from __future__ import annotations

import base64
import gzip
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ebox.adapters.runtime import Ledger
from ebox.adapters.transparency import TransparencyLog
from tests.integration.tiles_log import LogBuilder, entry, sealed_letters
from tests.served import Server, served
from tests.tlog_client import (
    NotFound,
    TilesClient,
    http_fetcher,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

SIZES = [1, 255, 256, 257, 1000, 65_537]

# The partial tiles each size must have (C2SP: floor(s / 256**l) mod 256 hashes at level l).
PARTIALS = {
    1: {"tile/0/000.p/1", "tile/entries/000.p/1"},
    255: {"tile/0/000.p/255", "tile/entries/000.p/255"},
    256: {"tile/1/000.p/1"},
    257: {"tile/0/001.p/1", "tile/1/000.p/1", "tile/entries/001.p/1"},
    65_537: {"tile/0/256.p/1", "tile/2/000.p/1", "tile/entries/256.p/1"},
}


def get(server: Server, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(server.url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@pytest.fixture
def log(ledger: Ledger) -> LogBuilder:
    return LogBuilder(ledger)


@pytest.fixture
def server(ledger: Ledger, database_url: str, ledger_home: Path) -> Iterator[Server]:
    with served(ledger_home, db=database_url) as running:
        yield running


def test_the_client_rebuilds_every_checkpoint_from_tiles_alone(
    log: LogBuilder, server: Server
) -> None:
    vkey = get(server, "/ledger/vkey")[2].decode().strip()
    previous = None
    for size in SIZES:
        log.grow_to(size)
        client = TilesClient(http_fetcher(server.url + "/ledger/tlog/"))
        head = client.checkpoint(vkey)
        assert (head.size, head.text) == (size, log.notes[size])
        assert client.root(size) == head.root

        for index in sorted({0, size // 2, size - 1}):
            proof = client.inclusion_proof(index, size)
            verify_inclusion(leaf_hash(entry(index)), index, size, proof, head.root)
        last_bundle = (size - 1) // 256
        assert client.entries(last_bundle, size)[-1] == entry(size - 1)
        assert PARTIALS.get(size, set()) <= set(client.fetched)

        if previous is not None:
            proof = client.consistency_proof(previous.size, size)
            verify_consistency(previous.size, size, proof, previous.root, head.root)
            served_proof = get(server, f"/ledger/consistency?first={previous.size}&second={size}")
            assert [base64.b64decode(line) for line in served_proof[2].split()] == proof
        previous = head


def test_a_log_sealed_by_the_sealer_is_read_back_from_its_tiles(
    ledger: Ledger, server: Server
) -> None:
    """Letters published, delivered and read through the application, sealed by the sealer:
    the entries are the events' `event_hash`es and every checkpoint rebuilds from tiles."""
    sealed_letters(ledger, letters=5, every=4)
    log = TransparencyLog(ledger)
    size, _ = log.checkpoint()
    hashes = [bytes.fromhex(row["event_hash"]) for row in log.entries()]
    assert len(hashes) == size > 4

    client = TilesClient(http_fetcher(server.url + "/ledger/tlog/"))
    head = client.checkpoint(log.vkey())
    assert client.entries(0, size) == hashes
    for earlier, note in log.checkpoints():
        root = base64.b64decode(note.split("\n")[2])
        assert client.root(earlier) == root
        verify_inclusion(leaf_hash(hashes[0]), 0, earlier, client.inclusion_proof(0, earlier), root)
        if earlier < size:
            proof = client.consistency_proof(earlier, size)
            verify_consistency(earlier, size, proof, root, head.root)


def test_tiles_are_immutable_and_the_checkpoint_short_lived(
    log: LogBuilder, server: Server
) -> None:
    log.grow_to(300)
    status, headers, body = get(server, "/ledger/tlog/checkpoint")
    assert status == 200 and headers["content-type"] == "text/plain; charset=utf-8"
    assert body.decode() == log.notes[300] == get(server, "/ledger/checkpoint")[2].decode()
    assert headers["cache-control"] == "public, max-age=2"

    status, headers, body = get(server, "/ledger/tlog/tile/0/000")
    assert (status, headers["content-type"], len(body)) == (200, "application/octet-stream", 8192)
    assert headers["cache-control"] == "public, max-age=31536000, immutable"

    status, headers, body = get(server, "/ledger/tlog/tile/0/001.p/44")
    assert (status, len(body)) == (200, 44 * 32)
    assert headers["cache-control"] == "public, max-age=60"
    assert body[:32] == leaf_hash(entry(256))


def test_entry_bundles_are_gzipped_for_clients_that_accept_gzip(
    log: LogBuilder, server: Server
) -> None:
    log.grow_to(256)
    expected = b"".join(b"\x00\x20" + entry(n) for n in range(256))
    status, headers, body = get(
        server, "/ledger/tlog/tile/entries/000", **{"Accept-Encoding": "gzip"}
    )
    assert (status, headers["content-encoding"]) == (200, "gzip")
    assert gzip.decompress(body) == expected
    assert headers["vary"] == "Accept-Encoding"
    status, headers, body = get(
        server, "/ledger/tlog/tile/entries/000", **{"Accept-Encoding": "identity, gzip;q=0"}
    )
    assert (status, body) == (200, expected)
    assert "content-encoding" not in headers


BEYOND_OR_MALFORMED = [
    "tile/0/001",  # the full tile does not exist yet at size 300
    "tile/0/001.p/45",  # wider than the sealed tree
    "tile/1/000.p/2",
    "tile/entries/002.p/1",
    "tile/2/000.p/1",
    "tile/7/x001/x234/x567/x890/x123/x456/x789/000",  # beyond any BIGINT index
    "tile/00/000",  # malformed ones: a 404, never a 5xx
    "tile/0/x000/001",
    "tile/0/000.p/256",
    "tile/64/000",
    "tile/0/" + "x999/" * 40 + "999",
    "tile/",
    "tile/0/000/",
]


def test_a_tile_beyond_the_sealed_tree_or_a_malformed_path_is_a_404(
    log: LogBuilder, server: Server
) -> None:
    log.grow_to(300)
    for path in BEYOND_OR_MALFORMED:
        status, headers, body = get(server, "/ledger/tlog/" + path)
        assert status == 404, path
        assert headers["content-type"] == "application/json"
        assert {"id", "code", "message"} <= set(json.loads(body))


def test_a_partial_tile_of_an_earlier_checkpoint_is_still_served(
    log: LogBuilder, server: Server
) -> None:
    log.grow_to(10)
    log.grow_to(600)
    for path, length in [
        ("tile/0/000.p/10", 320),
        ("tile/entries/000.p/10", 340),
        ("tile/0/000", 8192),
    ]:
        status, _, body = get(server, "/ledger/tlog/" + path, **{"Accept-Encoding": "identity"})
        assert (status, len(body)) == (200, length)


def test_without_a_checkpoint_there_is_none_to_serve(server: Server) -> None:
    status, _, body = get(server, "/ledger/tlog/checkpoint")
    assert status == 404 and json.loads(body)["code"] == "NO_CHECKPOINT"
    with pytest.raises(NotFound):
        http_fetcher(server.url + "/ledger/tlog")("tile/0/000.p/1")
