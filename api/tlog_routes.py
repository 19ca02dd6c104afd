"""The ledger as a C2SP tlog-tiles log under ``/ledger/tlog/`` (https://c2sp.org/tlog-tiles).

Public, like ``/ledger/proof``: a tile is hashes and an entry is an
``event_hash``, so nothing here names a person. Any HTTP client, cache or CDN
can mirror the log from these resources alone; ``ebox ledger tiles export``
writes the same bytes as static files.

Caching follows the spec: full tiles and bundles never change (immutable for a
year), the checkpoint changes every second or so (2 s), and partial tiles,
which the log may drop once the full tile exists, are kept briefly (60 s).
"""

from __future__ import annotations

import gzip
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from ebox.adapters.tlog_tiles import TileStore
from ebox.adapters.transparency import NoCheckpoint, TransparencyLog
from ebox.api.deps import LedgerDep
from ebox.api.errors import ApiError
from ebox.api.openapi import status_message_response
from ebox.domain.proofs.tiles import EntryBundle, TilePathError, parse_path

PREFIX = "/ledger/tlog"
NOTE = "text/plain; charset=utf-8"
OCTETS = "application/octet-stream"
IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=60"
CHECKPOINT = "public, max-age=2"

_TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The tile's hashes (32 bytes each) or the entry bundle",
        "content": {OCTETS: {"schema": {"type": "string", "format": "binary"}}},
    },
    404: status_message_response("No such tile in the sealed tree, or not a tlog-tiles path"),
}

router = APIRouter(prefix=PREFIX, tags=["Ledger"])


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={404: status_message_response("No checkpoint yet")},
)
def checkpoint(ledger: LedgerDep) -> PlainTextResponse:
    """The latest checkpoint (C2SP tlog-checkpoint), the note `/ledger/checkpoint` gives."""
    try:
        note = TransparencyLog(ledger).checkpoint()[1]
    except NoCheckpoint as error:
        raise ApiError(404, "NO_CHECKPOINT", str(error)) from None
    return PlainTextResponse(note, media_type=NOTE, headers={"Cache-Control": CHECKPOINT})


@router.get("/tile/{path:path}", response_class=Response, responses=_TILE_RESPONSES)
def tile(path: str, request: Request, ledger: LedgerDep) -> Response:
    """`tile/<L>/<N>[.p/<W>]` (Merkle tree hashes) or `tile/entries/<N>[.p/<W>]` (entries).

    An entry is a leaf's 32-byte `event_hash`, length-prefixed (big-endian uint16);
    bundles are gzip-compressed for a client that accepts gzip.
    """
    try:
        resource = parse_path(f"tile/{path}")
    except TilePathError as error:
        raise ApiError(404, "NOT_FOUND", str(error)) from None
    data = TileStore(ledger).read(resource)
    if data is None:
        raise ApiError(404, "NOT_FOUND", f"the sealed tree holds no {resource.path}")
    headers = {"Cache-Control": IMMUTABLE if resource.full else PARTIAL}
    if isinstance(resource, EntryBundle):
        headers["Vary"] = "Accept-Encoding"
        if accepts_gzip(request.headers.get("accept-encoding", "")):
            data = gzip.compress(data, mtime=0)
            headers["Content-Encoding"] = "gzip"
    return Response(data, media_type=OCTETS, headers=headers)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` header (RFC 9110 section 12.5.3) allows gzip."""
    allowed: dict[str, bool] = {}
    for item in accept_encoding.split(","):
        coding, _, parameters = item.strip().partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        if coding:
            allowed[coding.strip().lower()] = quality > 0
    return allowed.get("gzip", allowed.get("x-gzip", allowed.get("*", False)))


def register(app: FastAPI) -> None:
    app.include_router(router)
