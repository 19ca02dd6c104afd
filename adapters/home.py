"""The data directory ($EBOX_HOME, default ./.ebox): database, ledger key, KEK.

The key-encryption key and the ledger's signing key are secrets: they live in
files beside the database, never in it, created on first use with mode 0600.
In production they come from the environment instead: each secret `EBOX_X` as
base64, or `EBOX_X_FILE` naming a file that holds it (a mounted container secret).

The database holds personal data (national register numbers, subjects), so
the data directory is 0700 and an SQLite database file is created 0600 before
SQLite first opens it: SQLite gives its -wal, -shm and -journal files the
database file's own mode, whatever the umask. Opening tightens the modes of
what an older version left readable (`protect_home`, `protect_sqlite`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
from collections.abc import Mapping
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
    url = text_from_env("EBOX_DATABASE_URL")
    if url:
        return normalize_url(url)
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


def _secret_file(path: Path, size: int, create: bool = True) -> bytes | None:
    """Read a base64 secret, creating it with fresh random bytes on first use.

    With `create` false a missing file is None: the read-only commands make no key.
    """
    if path.exists():
        _tighten(path, PRIVATE_FILE)
        return base64.b64decode(path.read_text().strip())
    if not create:
        return None
    if not path.parent.exists():
        private_directory(path.parent)
    secret = random(size)
    write_private_file(path, base64.b64encode(secret) + b"\n")
    return secret


def write_private_file(path: Path, content: bytes) -> None:
    """Create `path` 0600 (never over an existing file) and write `content` into it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


class KeysUnavailable(ValueError):
    """The data directory holds no key for what the command must do (it only reads)."""


@dataclass(frozen=True)
class Secrets:
    """The data directory's keys; None where it has none (an auditor's reads only)."""

    kek: bytes | None
    ledger_seed: bytes | None
    origin: str
    home: Path | None = None

    @property
    def has_keys(self) -> bool:
        return self.kek is not None or self.ledger_seed is not None

    def required_kek(self) -> bytes:
        if self.kek is None:
            raise KeysUnavailable(self._missing("key-encryption key (kek.key / EBOX_KEK)"))
        return self.kek

    @property
    def kek_id(self) -> str:
        """Names the KEK in stored rows without revealing it."""
        return hashlib.sha256(b"ebox-kek\n" + self.required_kek()).hexdigest()[:16]

    @property
    def kek_id_or_none(self) -> str | None:
        return None if self.kek is None else self.kek_id

    @property
    def ledger_key_id(self) -> str | None:
        """The 8 hex digits of the ledger key's C2SP key id (None without a ledger key)."""
        return None if self.ledger_seed is None else self.ledger_signer().vkey.split("+")[1]

    def ledger_signer(self) -> NoteSigner:
        from ebox.domain.proofs.note import NoteSigner

        if self.ledger_seed is None:
            raise KeysUnavailable(self._missing("ledger key (ledger.key / EBOX_LEDGER_KEY)"))
        return NoteSigner(self.origin, self.ledger_seed)

    def _missing(self, what: str) -> str:
        where = "the data directory" if self.home is None else f"the data directory {self.home}"
        return f"{where} holds no {what}: this command needs it (only reading works without keys)"


class SecretUnavailable(ValueError):
    """A secret the environment names cannot be used.

    The message is one line naming the variable (and the file), never the value:
    it is what an operator sees when `ebox` refuses to start.
    """


SECRET_SIZE = 32  # every secret of the ledger is 32 bytes: Ed25519 seeds, the SecretBox KEK


def decode_secret(
    name: str, value: str | None, file: str | Path | None, size: int = SECRET_SIZE
) -> bytes | None:
    """The secret `name` given as base64 `value` or in `file` (`name`_FILE); None if neither.

    The one reading of a secret from the environment: `Settings` validates with it
    and the loaders below load with it, so both refuse the same values the same way.
    """
    source = name
    if value and file:
        raise SecretUnavailable(f"{name} and {name}_FILE are both set: set one of them")
    if file:
        source = f"{name}_FILE"
        try:
            value = Path(file).read_text().strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not a text file"
            raise SecretUnavailable(f"{source}: cannot read {file}: {reason}") from None
    if not value:
        if file:
            raise SecretUnavailable(f"{source}: {file} is empty")
        return None
    try:
        secret = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SecretUnavailable(f"{source} must be base64 (of {size} bytes)") from None
    if len(secret) != size:
        raise SecretUnavailable(f"{source} must be the base64 of {size} bytes, not {len(secret)}")
    return secret


def decode_text(name: str, value: str | None, file: str | Path | None) -> str | None:
    """A text setting (a URL that may hold a password) given as `value` or in `file`.

    Like `decode_secret`, one line naming the variable when the file cannot be read.
    """
    if value and file:
        raise SecretUnavailable(f"{name} and {name}_FILE are both set: set one of them")
    if not file:
        return value or None
    try:
        text = Path(file).read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not a text file"
        raise SecretUnavailable(f"{name}_FILE: cannot read {file}: {reason}") from None
    if not text:
        raise SecretUnavailable(f"{name}_FILE: {file} is empty")
    return text


def text_from_env(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """$`name`, or the content of the file $`name`_FILE names; None if neither is set."""
    env = os.environ if env is None else env
    return decode_text(name, env.get(name) or None, env.get(f"{name}_FILE") or None)


def secret_from_env(
    name: str, env: Mapping[str, str] | None = None, size: int = SECRET_SIZE
) -> bytes | None:
    """$`name` (base64) or the file $`name`_FILE names; None if neither is set."""
    env = os.environ if env is None else env
    return decode_secret(name, env.get(name), env.get(f"{name}_FILE") or None, size)


def load_secret(name: str, path: Path, size: int = SECRET_SIZE) -> bytes:
    """The secret `name` from the environment, else from `path` (created on first use)."""
    secret = secret_from_env(name, size=size)
    if secret is None:
        secret = _secret_file(path, size, create=True)
    assert secret is not None  # created if it was missing
    return secret


def find_secret(name: str, path: Path, size: int = SECRET_SIZE) -> bytes | None:
    """The secret `name` from the environment or `path`, None if neither: nothing is created."""
    secret = secret_from_env(name, size=size)
    return secret if secret is not None else _secret_file(path, size, create=False)


def load_secrets(home: Path | None = None, *, create: bool = True) -> Secrets:
    """Secrets from EBOX_KEK / EBOX_LEDGER_KEY (or their *_FILE) if set, else the data dir.

    With `create` false nothing is written: missing keys stay None (read-only use).
    """
    home = home or data_dir()
    load = load_secret if create else find_secret
    kek = load("EBOX_KEK", home / KEK_FILE)
    seed = load("EBOX_LEDGER_KEY", home / LEDGER_KEY_FILE)
    origin = os.environ.get("EBOX_LEDGER_ORIGIN", DEFAULT_ORIGIN)
    return Secrets(kek=kek, ledger_seed=seed, origin=origin, home=home)


KEK_FILE = "kek.key"
LEDGER_KEY_FILE = "ledger.key"
RETIRED_SUFFIX = ".retired.key"
NEXT_SUFFIX = ".next.key"


def finish_pending_swap(home: Path, ledger_key_id: str, kek_id: str) -> bool:
    """Put in place a `.next` key the database already names (a rotation was interrupted).

    See ebox.adapters.key_rotation; returns whether a file was swapped (reload the secrets).
    """
    swapped = False
    for stem, file, wanted in (
        ("ledger", LEDGER_KEY_FILE, ledger_key_id),
        ("kek", KEK_FILE, kek_id),
    ):
        staged = home / f"{stem}-{wanted}{NEXT_SUFFIX}"
        if staged.is_file():
            os.replace(staged, home / file)
            swapped = True
    return swapped


def retired_ledger_seeds(home: Path) -> list[bytes]:
    """Ledger keys a rotation retired (`ledger-<key id>.retired.key`), still able to sign.

    The sealer keeps them until it has sealed the rotation: checkpoints below the
    rotation's size are signed by the key that was in effect there.
    """
    if not home.is_dir():
        return []
    found: list[bytes] = []
    for path in sorted(home.glob(f"ledger-*{RETIRED_SUFFIX}")):
        secret = _secret_file(path, SECRET_SIZE, create=False)
        if secret is not None:
            found.append(secret)
    return found


def normalize_url(url: str) -> str:
    """`postgres://` (Heroku's, libpq's spelling) is PostgreSQL through psycopg2."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url
