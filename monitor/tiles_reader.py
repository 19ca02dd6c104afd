"""Read a remote tlog-tiles log over HTTP: its checkpoint, tiles and entry bundles.

The monitor trusts none of these bytes: it only uses them to recompute roots
that a signed checkpoint must match. Tiles are read as the *newest* verified
tree has them (full, or partial of that tree's width), so a perfect subtree of
an older tree is found even after its partial tile was replaced by a full one.
"""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

from ebox.domain.proofs.merkle import node_hash
from ebox.domain.proofs.tiles import (
    EntryBundle,
    Tile,
    entries_path,
    node_location,
    parse_entry_bundle,
    parse_tile,
    tile_for_size,
)

USER_AGENT = "ebox-monitor"
TIMEOUT = 30.0
MAX_RESOURCE = 256 * (65_535 + 2)
"""Largest honest resource: a full entry bundle of the biggest entries the format allows."""


class FetchError(RuntimeError):
    """A resource could not be read (network, HTTP status, size): the message names the URL."""


class TileFetcher:
    """GETs resources under one prefix, with gzip allowed, keeping each tile once per run."""

    def __init__(self, prefix: str, headers: Mapping[str, str] | None = None) -> None:
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, identity"}
        self.headers.update(headers or {})
        self._tiles: dict[str, list[bytes]] = {}

    def get(self, path: str, url: str | None = None) -> bytes:
        target = url or self.prefix + path
        request = urllib.request.Request(target, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                body = response.read(MAX_RESOURCE + 1)
                encoding = response.headers.get("Content-Encoding", "")
        except urllib.error.HTTPError as error:
            raise FetchError(f"{target}: HTTP {error.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise FetchError(f"{target}: {reason}") from None
        if len(body) > MAX_RESOURCE:
            raise FetchError(f"{target}: larger than {MAX_RESOURCE} bytes")
        if encoding.lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError) as error:
                raise FetchError(f"{target}: bad gzip body ({error})") from None
        return body

    def checkpoint(self) -> str:
        try:
            return self.get("checkpoint").decode("utf-8")
        except UnicodeDecodeError:
            raise FetchError(f"{self.prefix}checkpoint: not UTF-8") from None

    def tile(self, tile: Tile) -> list[bytes]:
        if tile.path not in self._tiles:
            data = self.get(tile.path)
            try:
                self._tiles[tile.path] = parse_tile(data, tile.width)
            except ValueError as error:
                raise FetchError(f"{self.prefix}{tile.path}: {error}") from None
        return self._tiles[tile.path]

    def entries(self, bundle: EntryBundle) -> list[bytes]:
        path = entries_path(bundle.index, bundle.width)
        try:
            entries = parse_entry_bundle(self.get(path))
        except ValueError as error:
            raise FetchError(f"{self.prefix}{path}: {error}") from None
        if len(entries) != bundle.width:
            raise FetchError(
                f"{self.prefix}{path}: {len(entries)} entries, expected {bundle.width}"
            )
        return entries


class TileNodeReader:
    """The Merkle module's NodeReader over the tiles of a tree of ``size`` leaves."""

    def __init__(self, fetcher: TileFetcher, size: int) -> None:
        self.fetcher = fetcher
        self.size = size

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return {key: self.node(*key) for key in keys}

    def node(self, level: int, index: int) -> bytes:
        """Perfect node ``(level, index)``: one tile hash, or the root of a run of them."""
        where = node_location(level, index)
        tile = tile_for_size(where.tile_level, where.tile_index, self.size)
        hashes = self.fetcher.tile(tile)[where.position : where.position + where.count]
        if len(hashes) != where.count:
            raise FetchError(f"{self.fetcher.prefix}{tile.path}: too few hashes")
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        """Leaf hashes ``[start, stop)`` from the level 0 tiles."""
        return [self.node(0, index) for index in range(start, stop)]
