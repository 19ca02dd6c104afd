"""A C2SP tlog-tiles client written from the specifications' text only, apart from the log.

It imports nothing of `ebox`: the standard library (hashlib, base64, gzip, urllib)
and PyNaCl for the Ed25519 signature. It follows c2sp.org/tlog-tiles (paths,
tiles, partial tiles, entry bundles), c2sp.org/tlog-checkpoint and
c2sp.org/signed-note (the checkpoint), and RFC 6962 section 2.1 with RFC 9162
section 2.1.3.2 / 2.1.4.2 (hashes, proofs and their verification), so that a
test passing here says that someone else's client can read the ledger's tiles.

    client = TilesClient(http_fetcher("http://host/ledger/tlog/"))
    head = client.checkpoint(vkey)          # verified: origin, size, root
    assert client.root(head.size) == head.root
    proof = client.inclusion_proof(7, head.size)
    verify_inclusion(leaf_hash(entry), 7, head.size, proof, head.root)
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nacl.exceptions
import nacl.signing

Fetch = Callable[[str], bytes]
"""Get a resource by its path below the prefix (``checkpoint``, ``tile/0/000``, ...)."""


class TlogError(Exception):
    """The log's resources do not verify or do not parse."""


class NotFound(TlogError):
    """The log does not serve this resource."""


# --------------------------------------------------------------------------- fetching


def http_fetcher(prefix: str) -> Fetch:
    """GET `<prefix>/<path>`, accepting gzip and identity as the spec recommends."""
    base = prefix.rstrip("/") + "/"

    def fetch(path: str) -> bytes:
        request = urllib.request.Request(base + path, headers={"Accept-Encoding": "gzip, identity"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                body: bytes = response.read()
                if response.headers.get("Content-Encoding", "identity") == "gzip":
                    body = gzip.decompress(body)
                return body
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise NotFound(path) from None
            raise

    return fetch


def directory_fetcher(root: Path) -> Fetch:
    """Read `<root>/<path>`: a log written as static files."""

    def fetch(path: str) -> bytes:
        try:
            return (root / path).read_bytes()
        except FileNotFoundError:
            raise NotFound(path) from None

    return fetch


# --------------------------------------------------------------------------- tlog-tiles paths


def encode_index(n: int) -> str:
    """`<N>`: zero-padded 3-digit path elements, all but the last beginning with `x`."""
    elements = [f"{n % 1000:03d}"]
    n //= 1000
    while n > 0:
        elements.insert(0, f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(elements)


def tile_path(level: int, n: int, width: int) -> str:
    suffix = "" if width == 256 else f".p/{width}"
    return f"tile/{level}/{encode_index(n)}{suffix}"


def entries_path(n: int, width: int) -> str:
    suffix = "" if width == 256 else f".p/{width}"
    return f"tile/entries/{encode_index(n)}{suffix}"


def tile_width(level: int, n: int, size: int) -> int:
    """Width of tile `n` at `level` in a tree of `size`: 256 if full, else
    floor(size / 256**level) mod 256 (the partial tile), 0 if there is none."""
    hashes = size // 256**level
    if (n + 1) * 256 <= hashes:
        return 256
    if n * 256 < hashes:
        return hashes % 256
    return 0


# --------------------------------------------------------------------------- RFC 6962 hashing


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _perfect_root(hashes: list[bytes]) -> bytes:
    """MTH of a power-of-two number of hashes."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


# --------------------------------------------------------------------------- signed checkpoint


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    text: str


def parse_vkey(vkey: str) -> tuple[str, bytes, bytes]:
    """(name, key id, Ed25519 public key) of a signed-note verifier key."""
    name, key_id_hex, key_b64 = vkey.split("+", 2)  # base64 may hold "+"
    key = base64.b64decode(key_b64, validate=True)
    if key[0] != 0x01 or len(key) != 33:
        raise TlogError("not an Ed25519 verifier key")
    key_id = bytes.fromhex(key_id_hex)
    if hashlib.sha256(name.encode() + b"\n" + key).digest()[:4] != key_id:
        raise TlogError("the vkey's key id does not match its name and key")
    return name, key_id, key[1:]


def verify_checkpoint(note: str, vkey: str) -> Checkpoint:
    """Check the note's Ed25519 signature by `vkey`, then read origin, size and root."""
    name, key_id, public_key = parse_vkey(vkey)
    text, separator, signatures = note.partition("\n\n")
    if not separator:
        raise TlogError("a signed note has a blank line before its signatures")
    text += "\n"
    verified = False
    for line in signatures.splitlines():
        prefix = f"\u2014 {name} "
        if not line.startswith(prefix):
            continue
        blob = base64.b64decode(line[len(prefix) :], validate=True)
        if blob[:4] != key_id:
            continue
        try:
            nacl.signing.VerifyKey(public_key).verify(text.encode(), blob[4:])
        except nacl.exceptions.BadSignatureError:
            raise TlogError("the checkpoint's signature does not verify") from None
        verified = True
    if not verified:
        raise TlogError(f"the checkpoint carries no signature by {name}")
    lines = text.split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    if str(size) != lines[1] or len(root) != 32:
        raise TlogError("malformed checkpoint body")
    return Checkpoint(origin, size, root, note)


# --------------------------------------------------------------------------- the client


@dataclass
class TilesClient:
    """Rebuilds any hash of a tree from its tiles; proofs and roots follow from RFC 6962."""

    fetch: Fetch
    tiles: dict[str, list[bytes]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)

    def checkpoint(self, vkey: str) -> Checkpoint:
        return verify_checkpoint(self.fetch("checkpoint").decode("utf-8"), vkey)

    def tile(self, level: int, n: int, size: int) -> list[bytes]:
        """The hashes of tile `n` at `level` as the tree of `size` has it."""
        width = tile_width(level, n, size)
        if width == 0:
            raise TlogError(f"a tree of size {size} has no tile {level}/{n}")
        path = tile_path(level, n, width)
        if path not in self.tiles:
            data = self.fetch(path)
            if len(data) != 32 * width:
                raise TlogError(f"{path} is {len(data)} bytes, not {32 * width}")
            self.tiles[path] = [data[i : i + 32] for i in range(0, len(data), 32)]
            self.fetched.append(path)
        return self.tiles[path]

    def perfect(self, height: int, index: int, size: int) -> bytes:
        """MTH(D[index * 2**height : (index + 1) * 2**height]), which `size` contains whole.

        A tile at level l holds subtrees of height 8*l; a subtree between two tile
        levels is the root of 2**(height mod 8) consecutive hashes of one tile.
        """
        level, rest = divmod(height, 8)
        first = index * 2**rest
        hashes = self.tile(level, first // 256, size)
        start = first % 256
        return _perfect_root(hashes[start : start + 2**rest])

    def subtree(self, start: int, end: int, size: int) -> bytes:
        """MTH(D[start:end]) of RFC 6962, from tiles (start aligned as RFC 6962 splits are)."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self.perfect(n.bit_length() - 1, start // n, size)
        k = _largest_power_of_two_below(n)
        return node_hash(self.subtree(start, start + k, size), self.subtree(start + k, end, size))

    def root(self, size: int) -> bytes:
        if size == 0:
            return hashlib.sha256(b"").digest()
        return self.subtree(0, size, size)

    def inclusion_proof(self, m: int, size: int) -> list[bytes]:
        """PATH(m, D[0:size]) of RFC 6962 section 2.1.1."""

        def path(m: int, start: int, end: int) -> list[bytes]:
            n = end - start
            if n == 1:
                return []
            k = _largest_power_of_two_below(n)
            if m < k:
                return [*path(m, start, start + k), self.subtree(start + k, end, size)]
            return [*path(m - k, start + k, end), self.subtree(start, start + k, size)]

        return path(m, 0, size)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """PROOF(first, D[0:second]) of RFC 6962 section 2.1.2."""

        def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
            n = end - start
            if m == n:
                return [] if whole else [self.subtree(start, end, second)]
            k = _largest_power_of_two_below(n)
            if m <= k:
                return [*subproof(m, start, start + k, whole), self.subtree(start + k, end, second)]
            return [
                *subproof(m - k, start + k, end, False),
                self.subtree(start, start + k, second),
            ]

        return subproof(first, 0, second, True)

    def entries(self, n: int, size: int) -> list[bytes]:
        """Entry bundle `n` of the tree of `size`, each entry checked against its leaf hash."""
        width = tile_width(0, n, size)
        data = self.fetch(entries_path(n, width))
        self.fetched.append(entries_path(n, width))
        entries: list[bytes] = []
        position = 0
        while position < len(data):
            length = int.from_bytes(data[position : position + 2], "big")
            entries.append(data[position + 2 : position + 2 + length])
            position += 2 + length
        if position != len(data) or len(entries) != width:
            raise TlogError(f"entry bundle {n} does not hold {width} entries")
        for entry, expected in zip(entries, self.tile(0, n, size), strict=True):
            if leaf_hash(entry) != expected:
                raise TlogError(f"an entry of bundle {n} does not hash to its leaf")
        return entries


# --------------------------------------------------------------------------- RFC 9162 verifiers


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> None:
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        raise TlogError("leaf index beyond the tree")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise TlogError("inclusion proof too long")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise TlogError("inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, proof: list[bytes], first_root: bytes, second_root: bytes
) -> None:
    """RFC 9162 section 2.1.4.2 (first > 0)."""
    if first == second:
        if proof or first_root != second_root:
            raise TlogError("equal sizes need an empty proof and equal roots")
        return
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    if not proof:
        raise TlogError("empty consistency proof")
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise TlogError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise TlogError("consistency proof does not lead to both roots")
