"""The `witnesses` part of /health: has the latest checkpoint reached the witness quorum?

Per witness (by its policy name): the size it last cosigned and when, and its
last failure (the HTTP status or the error's class, no URL, no text). The
answer is ``late`` when the latest checkpoint was signed more than
``WITNESS_GRACE`` seconds ago and is newer than the latest one the quorum
cosigned: a witness round takes well under a second, so 30 s means witnesses
are down, refusing, or the quorum cannot be met.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import checkpoints
from ebox.adapters.witnessing import latest_witnessed, policy_from_env, witness_statuses

WITNESS_GRACE = 30.0


def witness_health(ledger: Ledger, now: datetime | None = None) -> dict[str, Any] | None:
    policy = policy_from_env(ledger.secrets.origin)
    if policy is None:
        return None
    statuses = witness_statuses(ledger)
    with ledger.db.read() as session:
        latest = session.execute(
            select(checkpoints.c.size, checkpoints.c.signed_at)
            .order_by(checkpoints.c.size.desc())
            .limit(1)
        ).first()
    witnessed = latest_witnessed(ledger, policy)
    witnessed_size = None if witnessed is None else witnessed[0]
    each: dict[str, Any] = {}
    for name, witness in policy.witnesses.items():
        status = statuses.get(witness.verifier.vkey)
        entry: dict[str, Any] = {
            "state": "unknown" if status is None else ("failing" if status.error else "ok"),
            "cosigned_size": None if status is None else status.cosigned_size,
            "cosigned_at": None
            if status is None or status.succeeded_at is None
            else status.succeeded_at.isoformat(),
        }
        if status is not None and status.error:
            entry |= {
                "error": status.error,
                "attempts": status.attempts,
                "failed_at": None if status.failed_at is None else status.failed_at.isoformat(),
            }
        each[name] = entry
    state = "ok"
    if latest is not None and (witnessed_size is None or witnessed_size < int(latest[0])):
        signed_at = latest[1] if latest[1].tzinfo else latest[1].replace(tzinfo=UTC)
        age = ((now or datetime.now(UTC)) - signed_at).total_seconds()
        if age > WITNESS_GRACE:
            state = "late"
    return {
        "state": state,
        "quorum": policy.quorum,
        "witnessed_size": witnessed_size,
        "latest_size": None if latest is None else int(latest[0]),
        "witnesses": each,
    }
