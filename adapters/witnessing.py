"""Witness cosignatures in storage, and the policy that names the witnesses.

EBOX_WITNESS_POLICY names a C2SP tlog-policy file: its ``witness`` lines give
each witness's cosigner vkey and submission prefix URL, its ``quorum`` what a
checkpoint needs before the log serves it. The file is checked at start
(`load_witness_policy`, from the settings) and read again by every process that
serves or witnesses checkpoints (`policy_from_env`, cached per file).

Cosignatures are stored only once verified (ebox.projections.witnessing), one
line per checkpoint and witness, the witness named by its vkey; `cosigned_note`
and `latest_witnessed` give checkpoints with their lines appended
(ebox.adapters.transparency serves them).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select, update

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import checkpoints, witness_cosignatures, witness_status
from ebox.domain.proofs.errors import ProofError
from ebox.domain.proofs.note import add_signature_lines
from ebox.domain.proofs.policy import Policy, WitnessEntry

POLICY_VARIABLE = "EBOX_WITNESS_POLICY"
RECENT = 256
"""How many of the latest cosigned checkpoints are searched for the quorum."""


def load_witness_policy(path: Path, origin: str) -> Policy:
    """The policy of `path` for the log `origin`; a ValueError naming the variable if unusable.

    Every witness needs its submission URL (the log must reach it) and every
    listed log must be this one: a policy for another log is a mistake.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{POLICY_VARIABLE}: cannot read {path} ({error.strerror})") from None
    try:
        policy = Policy.parse(raw)
    except ProofError as error:
        raise ValueError(f"{POLICY_VARIABLE}: {path}: {error}") from None
    for log in policy.logs:
        if log.origin != origin:
            raise ValueError(
                f"{POLICY_VARIABLE}: {path} lists the log {log.origin!r}, "
                f"but this ledger's origin is {origin!r}"
            )
    for witness in policy.witnesses.values():
        if witness.url is None or not witness.url.startswith(("http://", "https://")):
            raise ValueError(
                f"{POLICY_VARIABLE}: {path}: witness {witness.name!r} has no http(s) "
                "submission URL (witness <name> <vkey> <url>)"
            )
    return policy


def policy_from_env(origin: str, env: Mapping[str, str] | None = None) -> Policy | None:
    """The policy EBOX_WITNESS_POLICY names (None when unset), parsed once per file."""
    env = os.environ if env is None else env
    path = (env.get(POLICY_VARIABLE) or "").strip()
    if not path:
        return None
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        mtime = 0
    return _cached_policy(path, mtime, origin)


@lru_cache(maxsize=8)
def _cached_policy(path: str, _mtime: int, origin: str) -> Policy:
    return load_witness_policy(Path(path), origin)


@dataclass(frozen=True)
class WitnessStatus:
    witness: str
    cosigned_size: int | None
    succeeded_at: datetime | None
    error: str | None
    failed_at: datetime | None
    attempts: int


def record_cosignature(
    ledger: Ledger, witness: WitnessEntry, size: int, line: str, at: int
) -> None:
    """Keep a verified cosignature line and the size the witness now holds."""
    now = datetime.now(UTC)
    with ledger.db.write() as session:
        session.execute(
            ledger.db.insert_ignore(witness_cosignatures),
            {
                "size": size,
                "witness": witness.verifier.vkey,
                "line": line,
                "cosigned_at": datetime.fromtimestamp(at, UTC),
                "received_at": now,
            },
        )
        _status_row(ledger, session, witness)
        session.execute(
            update(witness_status)
            .where(witness_status.c.witness == witness.verifier.vkey)
            .values(cosigned_size=size, succeeded_at=now, error=None, failed_at=None, attempts=0)
        )


def record_witness_size(ledger: Ledger, witness: WitnessEntry, size: int) -> None:
    """The size a witness says it last cosigned (its 409), for the next submission."""
    with ledger.db.write() as session:
        _status_row(ledger, session, witness)
        session.execute(
            update(witness_status)
            .where(witness_status.c.witness == witness.verifier.vkey)
            .values(cosigned_size=size)
        )


def record_witness_failure(ledger: Ledger, witness: WitnessEntry, error: str) -> None:
    """A round that brought no cosignature: the error's kind (a class or an HTTP status)."""
    with ledger.db.write() as session:
        _status_row(ledger, session, witness)
        session.execute(
            update(witness_status)
            .where(witness_status.c.witness == witness.verifier.vkey)
            .values(
                error=error,
                failed_at=datetime.now(UTC),
                attempts=witness_status.c.attempts + 1,
            )
        )


def _status_row(ledger: Ledger, session: object, witness: WitnessEntry) -> None:
    session.execute(  # type: ignore[attr-defined]
        ledger.db.insert_ignore(witness_status), {"witness": witness.verifier.vkey, "attempts": 0}
    )


def witness_statuses(ledger: Ledger) -> dict[str, WitnessStatus]:
    """Every witness's stored status, by vkey."""
    with ledger.db.read() as session:
        rows = session.execute(select(witness_status)).all()
    return {
        str(r.witness): WitnessStatus(
            witness=str(r.witness),
            cosigned_size=None if r.cosigned_size is None else int(r.cosigned_size),
            succeeded_at=_utc(r.succeeded_at),
            error=r.error,
            failed_at=_utc(r.failed_at),
            attempts=int(r.attempts),
        )
        for r in rows
    }


def cosigned_note(ledger: Ledger, policy: Policy, size: int, note: str) -> str:
    """`note` (the checkpoint of `size` leaves) with the stored lines of the policy's witnesses."""
    vkeys = [w.verifier.vkey for w in policy.witnesses.values()]
    with ledger.db.read() as session:
        lines = session.execute(
            select(witness_cosignatures.c.line).where(
                witness_cosignatures.c.size == size, witness_cosignatures.c.witness.in_(vkeys)
            )
        ).scalars()
        return _with_lines(note, policy, list(lines))


def latest_witnessed(ledger: Ledger, policy: Policy) -> tuple[int, str] | None:
    """(size, cosigned note) of the latest checkpoint whose cosignatures meet the quorum."""
    names = {w.verifier.vkey: name for name, w in policy.witnesses.items()}
    recent = (
        select(witness_cosignatures.c.size)
        .where(witness_cosignatures.c.witness.in_(list(names)))
        .distinct()
        .order_by(witness_cosignatures.c.size.desc())
        .limit(RECENT)
    ).scalar_subquery()
    query = (
        select(
            witness_cosignatures.c.size,
            witness_cosignatures.c.witness,
            witness_cosignatures.c.line,
            checkpoints.c.note,
        )
        .join(checkpoints, checkpoints.c.size == witness_cosignatures.c.size)
        .where(witness_cosignatures.c.size.in_(recent))
        .where(witness_cosignatures.c.witness.in_(list(names)))
    )
    with ledger.db.read() as session:
        rows = session.execute(query).all()
    by_size: dict[int, list[tuple[str, str]]] = defaultdict(list)
    notes: dict[int, str] = {}
    for size, witness, line, note in rows:
        by_size[int(size)].append((str(witness), str(line)))
        notes[int(size)] = str(note)
    for size in sorted(by_size, reverse=True):
        cosigned = {names[w] for w, _ in by_size[size]}
        if policy.satisfied_by(cosigned):
            return size, _with_lines(notes[size], policy, [line for _, line in by_size[size]])
    return None


def _with_lines(note: str, policy: Policy, lines: list[str]) -> str:
    """The lines in the policy's witness order, so every replica serves the same bytes."""
    order = {w.verifier.name: i for i, w in enumerate(policy.witnesses.values())}
    ordered = sorted(lines, key=lambda line: order.get(line[2:].split(" ", 1)[0], len(order)))
    return add_signature_lines(note, "".join(ordered)) if ordered else note


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
