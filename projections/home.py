"""The data directory ($EBOX_HOME, default ./.ebox): database, ledger key, KEK.

The key-encryption key and the ledger's signing key are secrets: they live in
files beside the database, never in it, created on first use with mode 0600.
In production both come from the environment (or a KMS) instead.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nacl.utils import random

if TYPE_CHECKING:
    from ebox.domain.proofs.note import NoteSigner

DEFAULT_ORIGIN = "ebox.example.be/ledger"


def data_dir() -> Path:
    return Path(os.environ.get("EBOX_HOME", ".ebox"))


def default_database_url(home: Path | None = None) -> str:
    url = os.environ.get("EBOX_DATABASE_URL")
    if url:
        return url
    path = (home or data_dir()).resolve() / "ebox.sqlite"
    return f"sqlite:///{path}"


def _secret_file(path: Path, size: int) -> bytes:
    """Read a base64 secret, creating it with fresh random bytes on first use."""
    if path.exists():
        return base64.b64decode(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = random(size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(secret).decode() + "\n")
    return secret


@dataclass(frozen=True)
class Secrets:
    kek: bytes
    ledger_seed: bytes
    origin: str

    @property
    def kek_id(self) -> str:
        """Names the KEK in stored rows without revealing it."""
        return hashlib.sha256(b"ebox-kek\n" + self.kek).hexdigest()[:16]

    def ledger_signer(self) -> NoteSigner:
        from ebox.domain.proofs.note import NoteSigner

        return NoteSigner(self.origin, self.ledger_seed)


def load_secrets(home: Path | None = None) -> Secrets:
    """Secrets from EBOX_KEK / EBOX_LEDGER_KEY (base64) if set, else files in the data dir."""
    home = home or data_dir()
    kek_env, seed_env = os.environ.get("EBOX_KEK"), os.environ.get("EBOX_LEDGER_KEY")
    kek = base64.b64decode(kek_env) if kek_env else _secret_file(home / "kek.key", 32)
    seed = base64.b64decode(seed_env) if seed_env else _secret_file(home / "ledger.key", 32)
    origin = os.environ.get("EBOX_LEDGER_ORIGIN", DEFAULT_ORIGIN)
    return Secrets(kek=kek, ledger_seed=seed, origin=origin)
