"""C2SP cosignature/v1 (https://c2sp.org/tlog-cosignature): a witness's Ed25519 statement.

A cosignature says "as of *timestamp*, the largest consistent tree I have seen
for this origin has this root". It is an ordinary note signature line on the
checkpoint, so a cosigned checkpoint is still a signed note anyone can open;
only the signed message and the key id differ from the log's own signature::

    signed message = "cosignature/v1\\n" "time <POSIX seconds>\\n" <checkpoint body>
    key id         = SHA-256(name || 0x0A || 0x04 || public key)[:4]
    line           = "— <name> " base64(key id || u64 BE timestamp || Ed25519 signature)

Both sides live here: :class:`Cosigner` (our witness, ``ebox witness serve``)
and :class:`CosignatureVerifier` (the log collecting cosignatures, verifiers
applying a policy, the monitor). Public keys travel as vkeys with algorithm
byte 0x04. The witness's private key file is the standard Go note signer key
``PRIVATE+KEY+name+keyid+base64(0x01 || seed)``, as golang.org/x/mod and
transparency-dev's ``NewSignerForCosignatureV1`` read it, so the same file
works with other witness implementations.
"""

from __future__ import annotations

import struct

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ebox.domain.proofs.errors import KeyFormatError, KeyIdMismatchError, SignatureError
from ebox.domain.proofs.note import (
    ALG_ED25519,
    SIGNATURE_PREFIX,
    b64decode_strict,
    b64encode,
    is_valid_key_name,
    key_id,
    parse_vkey,
    split_note,
)

ALG_COSIGNATURE_V1 = 0x04
"""vkey and key-id algorithm byte of Ed25519 cosignature/v1 keys."""

HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
_SEED_SIZE = 32
_KEY_ID_SIZE = 4
_SIGNATURE_SIZE = 64
_TIMESTAMPED_SIZE = 8 + _SIGNATURE_SIZE


def signed_message(body: str, timestamp: int) -> bytes:
    """The bytes a cosigner signs: header, time line, then the whole checkpoint body."""
    if not 0 < timestamp <= MAX_TIMESTAMP:
        raise SignatureError(f"cosignature timestamp {timestamp} is out of range")
    if not body.endswith("\n"):
        raise SignatureError("a cosigned checkpoint body ends with a newline")
    return f"{HEADER}time {timestamp}\n{body}".encode()


class Cosigner:
    """One witness identity: a name and an Ed25519 key used only for cosignature/v1."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_key_name(name):
            raise KeyFormatError(f"invalid cosigner name {name!r}")
        if len(seed) != _SEED_SIZE:
            raise KeyFormatError(f"Ed25519 seed is {len(seed)} bytes, expected {_SEED_SIZE}")
        self.name = name
        self._key = SigningKey(seed)
        self.public_key = bytes(self._key.verify_key)
        self.key_id = key_id(name, self.public_key, ALG_COSIGNATURE_V1)

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        return cls(name, bytes(SigningKey.generate()))

    @classmethod
    def from_skey(cls, skey: str) -> Cosigner:
        """Parse a Go signer key ``PRIVATE+KEY+name+keyid+base64(0x01 || seed)``.

        The key id written is the note key id (algorithm 0x01) and must match;
        the cosigner's own key id (0x04) is derived from the same key.
        """
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise KeyFormatError("cosigner key does not start with PRIVATE+KEY+")
        name, id_hex, encoded = parts[2], parts[3], parts[4]
        raw = b64decode_strict(encoded)
        if raw is None or len(raw) != 1 + _SEED_SIZE or raw[0] != ALG_ED25519:
            raise KeyFormatError("cosigner key is not base64 of 0x01 and a 32-byte seed")
        cosigner = cls(name, raw[1:])
        written = key_id(name, cosigner.public_key, ALG_ED25519).hex()
        if written != id_hex:
            raise KeyIdMismatchError(expected=written, actual=id_hex)
        return cosigner

    @property
    def skey(self) -> str:
        """The Go signer key string (secret: a 0600 file); see :meth:`from_skey`."""
        seed = b64encode(bytes([ALG_ED25519]) + bytes(self._key))
        note_id = key_id(self.name, self.public_key, ALG_ED25519).hex()
        return f"PRIVATE+KEY+{self.name}+{note_id}+{seed}"

    @property
    def vkey(self) -> str:
        """The public cosigner vkey (algorithm byte 0x04) that policies list."""
        encoded = b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def cosign(self, body: str, timestamp: int) -> str:
        """The ``— name base64(...)\\n`` cosignature line over a checkpoint body."""
        signature = self._key.sign(signed_message(body, timestamp)).signature
        raw = self.key_id + struct.pack(">Q", timestamp) + signature
        return f"{SIGNATURE_PREFIX}{self.name} {b64encode(raw)}\n"


class CosignatureVerifier:
    """Finds and checks one cosigner's cosignature on a note; ignores every other line."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, vkey: str) -> None:
        self.name, self.key_id, self.public_key = parse_vkey(vkey, ALG_COSIGNATURE_V1)
        self._key = VerifyKey(self.public_key)

    @property
    def vkey(self) -> str:
        encoded = b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def timestamp(self, note: str) -> int | None:
        """The time this cosigner vouched for the note's checkpoint, or ``None`` if it did not.

        A line with this cosigner's name and key id that fails to verify is an
        error, not an absence (a malformed note, as the signed-note spec says).
        """
        body, signatures = split_note(note)
        found: int | None = None
        for name, raw in signatures:
            if name != self.name or raw[:_KEY_ID_SIZE] != self.key_id:
                continue
            rest = raw[_KEY_ID_SIZE:]
            if len(rest) != _TIMESTAMPED_SIZE:
                raise SignatureError(
                    f"cosignature by {self.name} is {len(rest)} bytes, expected {_TIMESTAMPED_SIZE}"
                )
            (timestamp,) = struct.unpack(">Q", rest[:8])
            try:
                self._key.verify(signed_message(body, timestamp), rest[8:])
            except BadSignatureError as error:
                raise SignatureError(f"invalid cosignature by witness {self.name}") from error
            found = timestamp if found is None else max(found, timestamp)
        return found

    def __repr__(self) -> str:
        return f"CosignatureVerifier({self.vkey!r})"
