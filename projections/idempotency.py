"""Idempotency-Key for publications: a retried request never makes a second letter.

The key row is written in the same transaction as the publication's events, so
either both exist or neither does; a retry with the same key and body gets the
first answer again, with a different body it is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ebox.projections.tables import idempotency_keys


@dataclass(frozen=True)
class StoredAnswer:
    request_sha256: str
    status: int
    body: Any


def find(session: Session, client_id: str, key: str) -> StoredAnswer | None:
    row = session.execute(
        select(
            idempotency_keys.c.request_sha256,
            idempotency_keys.c.status,
            idempotency_keys.c.response,
        ).where(idempotency_keys.c.client_id == client_id, idempotency_keys.c.key == key)
    ).first()
    if row is None:
        return None
    return StoredAnswer(row[0], int(row[1]), json.loads(row[2]))


def remember(
    session: Session, client_id: str, key: str, request_sha256: str, status: int, body: Any
) -> None:
    session.execute(
        idempotency_keys.insert(),
        {
            "client_id": client_id,
            "key": key,
            "request_sha256": request_sha256,
            "status": status,
            "response": json.dumps(body),
            "created_at": datetime.now(UTC),
        },
    )
