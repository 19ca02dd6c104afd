"""A database is bound to its keys: the ledger signing key, the KEK and the origin.

Why: a data directory is where the keys live, the database is where the ledger
lives, and nothing used to tie one to the other. Run once from another
`EBOX_HOME`, the sealer signed checkpoints with a fresh key (the audit then
reports a forged checkpoint forever) and a foreign KEK made every download fail.
So at first use the database records the ledger key's id, the KEK's fingerprint
and the origin (`ledger_binding`, `ledger_keys`), and every later opening
compares them with the data directory's keys and refuses, in one line naming
both sets of ids and the data directory, when they differ.

`ledger_keys` lists every ledger key in the order it was used and the first
checkpoint size it signs (`first_size`, NULL while its rotation event is not
sealed yet): an explicit rotation (ebox.adapters.key_rotation) adds a row, and
the sealer reads the table to know which key signs which checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ebox.adapters.home import Secrets
from ebox.adapters.tables import checkpoints, ledger_binding, ledger_keys, vault_keys
from ebox.domain.proofs.errors import NoteError
from ebox.domain.proofs.note import NoteVerifier

BINDING_ROW = 1


class KeysNotBound(RuntimeError):
    """The data directory's keys are not the ones the database is bound to (one line)."""


@dataclass(frozen=True)
class Binding:
    """What the database records: its origin, its KEK and its ledger keys, oldest first."""

    origin: str
    kek_id: str
    keys: tuple[tuple[str, str, int | None], ...]
    """(key id, vkey, first checkpoint size it signs or None while pending), in order."""

    @property
    def key_id(self) -> str:
        """The current ledger key: the one the data directory must hold."""
        return self.keys[-1][0]

    @property
    def vkey(self) -> str:
        return self.keys[-1][1]


def key_id_of(vkey: str) -> str:
    """The 8 hex digits of a C2SP vkey's key id (`name+hex(key id)+base64(key)`)."""
    return vkey.split("+")[1]


def read_binding(session: Session) -> Binding | None:
    row = session.execute(
        select(ledger_binding.c.origin, ledger_binding.c.kek_id).where(
            ledger_binding.c.id == BINDING_ROW
        )
    ).first()
    if row is None:
        return None
    keys = session.execute(
        select(ledger_keys.c.key_id, ledger_keys.c.vkey, ledger_keys.c.first_size).order_by(
            ledger_keys.c.position
        )
    ).all()
    return Binding(
        origin=str(row[0]),
        kek_id=str(row[1]),
        keys=tuple((str(k), str(v), None if s is None else int(s)) for k, v, s in keys),
    )


def _describe_home(secrets: Secrets, home: Path) -> str:
    return (
        f"ledger key {secrets.ledger_key_id or 'none'} and KEK {secrets.kek_id_or_none or 'none'}"
        f" (origin {secrets.origin}) of the data directory {home.resolve()}"
    )


def check_binding(binding: Binding, secrets: Secrets, home: Path, where: str) -> None:
    """Refuse, in one line naming both sets of ids, keys that are not the database's.

    A data directory without keys passes: it cannot sign nor unwrap, only read.
    """
    mismatch = (
        (secrets.ledger_seed is not None and secrets.ledger_key_id != binding.key_id)
        or (secrets.kek is not None and secrets.kek_id != binding.kek_id)
        or (secrets.has_keys and secrets.origin != binding.origin)
    )
    if mismatch:
        raise KeysNotBound(
            f"the database {where} is bound to ledger key {binding.key_id} and KEK "
            f"{binding.kek_id} (origin {binding.origin}), "
            f"not to the {_describe_home(secrets, home)}"
            ": refusing to run (set EBOX_HOME to that database's data directory)"
        )


def bind(session: Session, secrets: Secrets, home: Path, where: str) -> Binding:
    """Record the keys at first use; the data that predates the binding must agree with them.

    A database written before this check existed may already hold checkpoints
    and sealed mailbox keys: they are what tells its real keys, so binding it to
    other ones is refused the same way.
    """
    signer = secrets.ledger_signer()
    latest = session.execute(
        select(checkpoints.c.note).order_by(checkpoints.c.size.desc()).limit(1)
    ).scalar()
    foreign_kek = session.execute(
        select(vault_keys.c.kek_id).where(vault_keys.c.kek_id != secrets.kek_id).limit(1)
    ).scalar()
    if latest is not None and not _verifies(str(latest), signer.vkey):
        raise KeysNotBound(
            f"the latest checkpoint of the database {where} is not signed by the "
            f"{_describe_home(secrets, home)}: refusing to bind it to these keys"
        )
    if foreign_kek is not None:
        raise KeysNotBound(
            f"the database {where} holds mailbox keys sealed under KEK {foreign_kek}, not the "
            f"{_describe_home(secrets, home)}: refusing to bind it to these keys"
        )
    now = datetime.now(UTC)
    session.execute(
        insert(ledger_binding),
        {"id": BINDING_ROW, "origin": secrets.origin, "kek_id": secrets.kek_id, "bound_at": now},
    )
    session.execute(
        insert(ledger_keys),
        {
            "position": 0,
            "key_id": key_id_of(signer.vkey),
            "vkey": signer.vkey,
            "first_size": 0,
            "added_at": now,
        },
    )
    return Binding(secrets.origin, secrets.kek_id, ((key_id_of(signer.vkey), signer.vkey, 0),))


def _verifies(note: str, vkey: str) -> bool:
    try:
        NoteVerifier(vkey).verify(note)
    except NoteError:
        return False
    return True


def add_ledger_key(session: Session, vkey: str) -> None:
    """A rotation's new key, pending until the sealer reaches the rotation event."""
    position = session.execute(select(func.max(ledger_keys.c.position))).scalar()
    session.execute(
        insert(ledger_keys),
        {
            "position": int(position or 0) + 1,
            "key_id": key_id_of(vkey),
            "vkey": vkey,
            "first_size": None,
            "added_at": datetime.now(UTC),
        },
    )
