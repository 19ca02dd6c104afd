"""The witness key file: a Go note signer key, created 0600 on first use.

``PRIVATE+KEY+<name>+<note key id>+base64(0x01 || 32-byte seed)``, the format
golang.org/x/mod/sumdb/note writes and transparency-dev's witness reads, so the
same file can move to another implementation. The cosigner identity (vkey type
0x04) is derived from it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ebox.domain.proofs.cosignature import Cosigner
from ebox.domain.proofs.errors import KeyFormatError
from ebox.witness.errors import KeyFileError


def read_key(path: Path) -> Cosigner:
    """The cosigner in ``path``; :class:`KeyFileError` if absent, unreadable or malformed."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as error:
        raise KeyFileError(f"witness key file {path} does not exist") from error
    except (OSError, UnicodeDecodeError) as error:
        raise KeyFileError(f"cannot read the witness key file {path}: {error}") from error
    try:
        return Cosigner.from_skey(text)
    except KeyFormatError as error:
        raise KeyFileError(f"witness key file {path}: {error}") from error


def load_or_create_key(path: Path, name: str | None) -> Cosigner:
    """The key in ``path``, or a new one named ``name`` written there 0600.

    A given ``name`` must match an existing key's: a witness's name is part of
    its identity in every verifier's policy, so it is never silently changed.
    """
    if path.exists():
        cosigner = read_key(path)
        if name is not None and cosigner.name != name:
            raise KeyFileError(f"witness key file {path} is for {cosigner.name!r}, not {name!r}")
        return cosigner
    if name is None:
        raise KeyFileError(f"witness key file {path} does not exist; give --name to create it")
    try:
        cosigner = Cosigner.generate(name)
    except KeyFormatError as error:
        raise KeyFileError(f"witness name {name!r}: {error}") from error
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise KeyFileError(f"cannot create the witness key file {path}: {error}") from error
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(cosigner.skey + "\n")
        out.flush()
        os.fsync(out.fileno())
    return cosigner
