"""The audit scope's view for ``ebox monitor --entries --token-file``: recompute each event hash.

The public tiles carry only ``event_hash`` values. An auditor holding an
audit-scope token can also read the canonical events (``/ledger/entries``, the
``ebox ledger export`` lines) and check that every entry is the SHA-256 of an
event's RFC 8785 form, so that the log commits to events and not to arbitrary
hashes.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlsplit, urlunsplit

from ebox.domain.proofs.canonical import canonical_json
from ebox.monitor.tiles_reader import FetchError, TileFetcher

PAGE = 100_000
"""The most entries /ledger/entries gives per request."""


def entries_url(prefix: str) -> str:
    """``https://host/ledger/tlog/`` -> ``https://host/ledger/entries`` (same host and base)."""
    parts = urlsplit(prefix)
    path = parts.path.rstrip("/")
    if not path.endswith("/tlog"):
        raise FetchError(f"{prefix}: --token-file needs an ebox prefix ending in /ledger/tlog/")
    return urlunsplit((parts.scheme, parts.netloc, path[: -len("tlog")] + "entries", "", ""))


class AuditEvents:
    """``(start, stop) -> [(leaf index, event_hash, SHA-256 of the canonical event)]``."""

    def __init__(self, prefix: str, token: str) -> None:
        self.url = entries_url(prefix)
        self.fetcher = TileFetcher(prefix, {"Authorization": f"Bearer {token}"})

    def __call__(self, start: int, stop: int) -> list[tuple[int, bytes, bytes]]:
        found: list[tuple[int, bytes, bytes]] = []
        position = start
        while position < stop:
            end = min(stop, position + PAGE)
            body = self.fetcher.get("", f"{self.url}?start={position}&end={end}")
            rows = [line for line in body.decode("utf-8").splitlines() if line]
            if not rows:
                break
            for line in rows:
                try:
                    row = json.loads(line)
                    digest = hashlib.sha256(canonical_json(row["canonical"])).digest()
                    found.append((int(row["leaf_index"]), bytes.fromhex(row["event_hash"]), digest))
                except (ValueError, KeyError, TypeError) as error:
                    raise FetchError(f"{self.url}: unreadable export line ({error})") from None
            position = found[-1][0] + 1
        return found
