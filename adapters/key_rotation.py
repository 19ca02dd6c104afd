"""Rotating the ledger key and the KEK: explicit, recorded, and safe to interrupt.

Why this order. A rotation changes a file in the data directory and rows in the
database, which cannot commit together. The new key is therefore written first,
as `<name>-<id>.next.key`, beside the old one, which is kept as
`<name>-<id>.retired.key`; then the database commits the change (the
`LedgerKeys` event, the binding); then the next key replaces the current file.
Interrupted after the commit, the next opening finds the binding naming the
`.next` key and finishes the swap (:func:`finish_pending_swap`); interrupted
before, the database still names the old key, which is still in place.

The ledger key's rotation only starts: the sealer, on reaching the rotation
event, records from which checkpoint size the new key signs (`ledger_keys`).
The retired ledger key stays in the data directory because the sealer may still
have to sign checkpoints below that size. The KEK's rotation re-wraps every
mailbox private key in the same transaction as its event; the retired KEK only
serves backups made before (destroy it when they expire).

Keys given by the environment (`EBOX_LEDGER_KEY`, `EBOX_KEK`, or their `_FILE`)
are not rotated here: the data directory does not own them.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.secret import SecretBox
from nacl.utils import random
from sqlalchemy import select, update

from ebox.adapters.home import (
    KEK_FILE,
    LEDGER_KEY_FILE,
    NEXT_SUFFIX,
    RETIRED_SUFFIX,
    SECRET_SIZE,
    KeysUnavailable,
    Secrets,
    write_private_file,
)
from ebox.adapters.key_binding import BINDING_ROW, add_ledger_key, key_id_of
from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import ledger_binding, vault_keys
from ebox.domain.ledger_keys import LedgerKeys, endorsement_text, ledger_keys_id
from ebox.domain.proofs.note import NoteSigner

REWRAP_BATCH = 1000


@dataclass(frozen=True)
class Rotation:
    """What a rotation did, as `--json` prints it."""

    kind: str
    previous_id: str
    new_id: str
    retired_file: str
    event: str
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "rotated": self.kind,
            "previous_key_id": self.previous_id,
            "key_id": self.new_id,
            "retired_key_file": self.retired_file,
            "event": self.event,
            **self.detail,
        }


def _owned(env: str, home: Path, file: str) -> Path:
    if os.environ.get(env) or os.environ.get(f"{env}_FILE"):
        raise KeysUnavailable(
            f"{env} is given by the environment: rotate it where it is kept, then restart "
            "(ebox rotates only the keys of its data directory)"
        )
    path = home / file
    if not path.is_file():
        raise KeysUnavailable(f"the data directory {home} holds no {file} to rotate")
    return path


def _encoded(secret: bytes) -> bytes:
    return base64.b64encode(secret) + b"\n"


def _stage(home: Path, stem: str, old: bytes, old_id: str, new: bytes, new_id: str) -> Path:
    """Write the next key and keep the old one, before the database changes."""
    retired = home / f"{stem}-{old_id}{RETIRED_SUFFIX}"
    if not retired.exists():
        write_private_file(retired, _encoded(old))
    staged = home / f"{stem}-{new_id}{NEXT_SUFFIX}"
    staged.unlink(missing_ok=True)
    write_private_file(staged, _encoded(new))
    return retired


def _keys_aggregate(ledger: Ledger) -> LedgerKeys:
    """The ledger's LedgerKeys aggregate, recorded with the bound keys on first change."""
    from eventsourcing.application import AggregateNotFoundError

    secrets = ledger.secrets
    try:
        found: LedgerKeys = ledger.app.repository.get(ledger_keys_id(secrets.origin))
        return found
    except AggregateNotFoundError:
        return LedgerKeys.record(secrets.origin, secrets.ledger_signer().vkey, secrets.kek_id)


def rotate_ledger_key(ledger: Ledger) -> Rotation:
    """A new ledger key: staged, recorded as `LedgerKeyRotated`, then put in place."""
    home, secrets = ledger.home, ledger.secrets
    current = _owned("EBOX_LEDGER_KEY", home, LEDGER_KEY_FILE)
    old = secrets.ledger_signer()
    assert secrets.ledger_seed is not None
    seed = random(SECRET_SIZE)
    new = NoteSigner(secrets.origin, seed)
    old_id, new_id = key_id_of(old.vkey), key_id_of(new.vkey)
    retired = _stage(home, "ledger", secrets.ledger_seed, old_id, seed, new_id)
    endorsement = old.sign(endorsement_text(secrets.origin, new.vkey))
    keys = _keys_aggregate(ledger)
    keys.rotate_ledger_key(old.vkey, new.vkey, endorsement)
    with ledger.db.write() as session:
        ledger.app.save(keys)
        add_ledger_key(session, new.vkey)
    os.replace(home / f"ledger-{new_id}{NEXT_SUFFIX}", current)
    ledger.secrets = Secrets(secrets.kek, seed, secrets.origin, home)
    return Rotation(
        "ledger-key",
        old_id,
        new_id,
        str(retired),
        f"{keys.id}@{keys.version}",
        {"previous_vkey": old.vkey, "vkey": new.vkey},
    )


def rotate_kek(ledger: Ledger) -> Rotation:
    """A new KEK: every mailbox private key re-wrapped under it, with its event, at once."""
    home, secrets = ledger.home, ledger.secrets
    current = _owned("EBOX_KEK", home, KEK_FILE)
    old_kek = secrets.required_kek()
    new_kek = random(SECRET_SIZE)
    new_secrets = Secrets(new_kek, secrets.ledger_seed, secrets.origin, home)
    old_id, new_id = secrets.kek_id, new_secrets.kek_id
    retired = _stage(home, "kek", old_kek, old_id, new_kek, new_id)
    old_box, new_box = SecretBox(old_kek), SecretBox(new_kek)
    keys = _keys_aggregate(ledger)
    rewrapped = 0
    with ledger.db.write() as session:
        after = ""
        while True:
            rows = session.execute(
                select(vault_keys.c.fingerprint, vault_keys.c.sealed_private_key)
                .where(vault_keys.c.fingerprint > after)
                .order_by(vault_keys.c.fingerprint)
                .limit(REWRAP_BATCH)
            ).all()
            if not rows:
                break
            for fingerprint, sealed in rows:
                private = old_box.decrypt(bytes(sealed))
                session.execute(
                    update(vault_keys)
                    .where(vault_keys.c.fingerprint == fingerprint)
                    .values(sealed_private_key=bytes(new_box.encrypt(private)), kek_id=new_id)
                )
            rewrapped += len(rows)
            after = str(rows[-1][0])
        keys.rotate_kek(old_id, new_id, rewrapped)
        ledger.app.save(keys)
        session.execute(
            update(ledger_binding).where(ledger_binding.c.id == BINDING_ROW).values(kek_id=new_id)
        )
    os.replace(home / f"kek-{new_id}{NEXT_SUFFIX}", current)
    ledger.secrets = new_secrets
    ledger.app.stores.vault.secrets = new_secrets  # type: ignore[attr-defined]
    return Rotation(
        "kek", old_id, new_id, str(retired), f"{keys.id}@{keys.version}", {"rewrapped": rewrapped}
    )
