"""The data directory ($EBOX_HOME, default ./.ebox): database, ledger key, KEK.

The key-encryption key and the ledger's signing key are secrets: they live in
files beside the database, never in it, created on first use with mode 0600.
In production both come from the environment (or a KMS) instead.

The database holds personal data (national register numbers, subjects), so
the data directory is 0700 and an SQLite database file is created 0600 before
SQLite first opens it: SQLite gives its -wal, -shm and -journal files the
database file's own mode, whatever the umask. Opening tightens the modes of
what an older version left readable (`protect_home`, `protect_sqlite`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nacl.utils import random

if TYPE_CHECKING:
    from ebox.domain.proofs.note import NoteSigner

DEFAULT_ORIGIN = "ebox.example.be/ledger"
log = logging.getLogger("ebox.home")


def data_dir() -> Path:
    return Path(os.environ.get("EBOX_HOME", ".ebox"))


def default_database_url(home: Path | None = None) -> str:
    url = os.environ.get("EBOX_DATABASE_URL")
    if url:
        return url
    path = (home or data_dir()).resolve() / "ebox.sqlite"
    return f"sqlite:///{path}"


PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _tighten(path: Path, mode: int) -> None:
    """chmod what we own; a file of another user is theirs to protect (say so, go on)."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except PermissionError:
        log.warning("cannot restrict %s to mode %o: not its owner", path, mode)


def private_directory(path: Path) -> Path:
    """Create `path` readable by its owner alone (0700), or tighten it if it exists."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIRECTORY)
    return path


def protect_home(home: Path) -> None:
    """The data directory, if it exists, is its owner's alone (0700)."""
    if home.is_dir():
        _tighten(home, PRIVATE_DIRECTORY)


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (None for other databases and in-memory SQLite)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):  # URI filenames: left to whoever wrote them
        return None
    return Path(parsed.database)


def protect_sqlite(url: str) -> None:
    """Create an SQLite database file 0600 before SQLite does; tighten it and its companions.

    A missing directory for it is created 0700; an existing one is left alone
    (a database named in /tmp must not make /tmp private).
    """
    path = sqlite_path(url)
    if path is None:
        return
    if not path.parent.exists():
        path.parent.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for companion in (path, *(path.with_name(path.name + s) for s in SQLITE_COMPANIONS)):
        if companion.exists():
            _tighten(companion, PRIVATE_FILE)


def _secret_file(path: Path, size: int) -> bytes:
    """Read a base64 secret, creating it with fresh random bytes on first use."""
    if path.exists():
        _tighten(path, PRIVATE_FILE)
        return base64.b64decode(path.read_text().strip())
    if not path.parent.exists():
        private_directory(path.parent)
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
