"""Transparency-log endpoints for auditors and outside verifiers.

Checkpoints, the vkey and proofs reveal only sizes and hashes, so they are
public, as in any transparency log: anyone may check that the log they were
shown is consistent with everybody else's. The entries themselves name
senders, recipients and subjects, so only the audit scope may read them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel

from ebox.adapters.transparency import (
    LeafOutOfRange,
    NoCheckpoint,
    TransparencyLog,
    export_line,
)
from ebox.api.deps import AUDIT, CurrentPrincipal, LedgerDep, require_scope
from ebox.api.errors import ApiError
from ebox.api.openapi import status_message_response
from ebox.api.schemas import error_responses
from ebox.domain.proofs.errors import ProofError

NOTE = "text/plain; charset=utf-8"
MAX_ENTRIES = 100_000
MAX_POSITION = 2**53  # JSON-safe, and within every database integer type
# Explicit content: with "model", FastAPI would document it under the route's text/plain.
NO_CHECKPOINT: dict[int | str, dict[str, Any]] = {
    404: status_message_response("No checkpoint yet (or none of that size)")
}


class CheckpointRow(BaseModel):
    """One checkpoint kept: the log size it signs, and the signed note byte for byte."""

    size: int
    note: str


router = APIRouter()


@router.get(
    "/ledger/checkpoint",
    tags=["Ledger"],
    response_class=PlainTextResponse,
    responses=NO_CHECKPOINT,
)
def checkpoint(ledger: LedgerDep) -> PlainTextResponse:
    """The latest checkpoint, byte for byte as signed (C2SP tlog-checkpoint)."""
    try:
        return PlainTextResponse(TransparencyLog(ledger).checkpoint()[1], media_type=NOTE)
    except NoCheckpoint as error:
        raise ApiError(404, "NO_CHECKPOINT", str(error)) from None


@router.get("/ledger/checkpoints", tags=["Ledger"], response_model=list[CheckpointRow])
def checkpoints(
    ledger: LedgerDep,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Every checkpoint kept, oldest first: {"size", "note"}; page with `after`."""
    rows = TransparencyLog(ledger).checkpoints(after, limit)
    return JSONResponse([{"size": size, "note": note} for size, note in rows])


@router.get("/ledger/vkey", tags=["Ledger"], response_class=PlainTextResponse)
def vkey(ledger: LedgerDep) -> PlainTextResponse:
    """The ledger's public key as a C2SP vkey."""
    return PlainTextResponse(TransparencyLog(ledger).vkey() + "\n", media_type=NOTE)


@router.get(
    "/ledger/proof", tags=["Ledger"], response_class=PlainTextResponse, responses=NO_CHECKPOINT
)
def proof(
    ledger: LedgerDep,
    index: Annotated[int, Query(ge=0, le=MAX_POSITION)],
    size: Annotated[int | None, Query(ge=1, le=MAX_POSITION)] = None,
) -> PlainTextResponse:
    """C2SP tlog-proof of leaf `index` against the latest (or the `size`) checkpoint."""
    try:
        text = TransparencyLog(ledger).inclusion(index, size).encode()
    except NoCheckpoint as error:
        raise ApiError(404, "NO_CHECKPOINT", str(error)) from None
    except LeafOutOfRange as error:
        raise ApiError(400, "INVALID_REQUEST", str(error)) from None
    return PlainTextResponse(text, media_type=NOTE)


@router.get(
    "/ledger/consistency",
    tags=["Ledger"],
    response_class=PlainTextResponse,
    responses=NO_CHECKPOINT,
)
def consistency(
    ledger: LedgerDep,
    first: Annotated[int, Query(ge=1, le=MAX_POSITION)],
    second: Annotated[int, Query(ge=1, le=MAX_POSITION)],
) -> PlainTextResponse:
    """RFC 9162 consistency proof between two checkpointed sizes, base64 per line."""
    log = TransparencyLog(ledger)
    try:
        log.checkpoint(first)
        log.checkpoint(second)
        hashes = log.consistency(first, second)
    except NoCheckpoint as error:
        raise ApiError(404, "NO_CHECKPOINT", str(error)) from None
    except (ProofError, ValueError) as error:
        raise ApiError(400, "INVALID_REQUEST", str(error)) from None
    return PlainTextResponse(
        "".join(base64.b64encode(h).decode() + "\n" for h in hashes), media_type=NOTE
    )


@router.get(
    "/ledger/entries",
    tags=["Ledger"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One export line (JSON) per entry, as `ebox ledger export` writes",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        **error_responses(400, 401, 403),
    },
)
def entries(
    principal: CurrentPrincipal,
    ledger: LedgerDep,
    start: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    end: Annotated[int | None, Query(ge=0, le=MAX_POSITION)] = None,
) -> StreamingResponse:
    """The export (`ebox ledger export`), streamed as JSON lines, audit scope only."""
    require_scope(principal, AUDIT)
    stop = start + MAX_ENTRIES if end is None else min(end, start + MAX_ENTRIES)

    def lines() -> Iterator[bytes]:
        for row in TransparencyLog(ledger).entries(start, stop):
            yield export_line(row).encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def register(app: FastAPI) -> None:
    app.include_router(router)
