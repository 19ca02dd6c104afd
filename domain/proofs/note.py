"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519.

A checkpoint is only worth something if anyone can check its signature with
off-the-shelf tools, so this follows the spec and golang.org/x/mod/sumdb/note
byte for byte (Ed25519 is deterministic: the Go test vector must come out
identical)::

    <text, ending in a newline>
    <blank line>
    — <key name> base64(key id || signature)

Key id = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key). Keys
travel as strings: the public *vkey* ``name+<8 hex key id>+base64(0x01 || public
key)`` and the Go private *skey* ``PRIVATE+KEY+name+<key id>+base64(0x01 || seed)``.

Parsing is strict where the spec allows it (canonical base64, lowercase key
ids): a ledger should not accept two spellings of the same thing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ebox.domain.proofs.errors import (
    KeyFormatError,
    KeyIdMismatchError,
    NoteError,
    SignatureError,
    UnverifiedNoteError,
)

ALG_ED25519 = 0x01
"""C2SP signature type byte for plain Ed25519 note signatures."""

SIGNATURE_PREFIX = "\u2014 "
"""Every signature line starts with an em dash (U+2014) and a space."""

MAX_SIGNATURES = 100
"""Refuse notes with more signature lines (as Go does); the spec requires at least 16."""

_SEED_SIZE = 32
_PUBLIC_KEY_SIZE = 32
_SIGNATURE_SIZE = 64
_KEY_ID_SIZE = 4
_HEX_DIGITS = frozenset("0123456789abcdef")


def b64decode_strict(text: str) -> bytes | None:
    """Standard base64 (RFC 4648 section 4) in its one canonical spelling, else ``None``.

    Rejects characters outside the alphabet, missing padding and non-zero
    padding bits, so that a signature or hash has exactly one text form.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def b64encode(raw: bytes) -> str:
    """Standard base64 with padding, as every C2SP format uses."""
    return base64.b64encode(raw).decode("ascii")


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty and contain no Unicode space and no ``+``."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_id(name: str, public_key: bytes, algorithm: int = ALG_ED25519) -> bytes:
    """C2SP key id of an Ed25519 key: SHA-256(name || 0x0A || algorithm || key)[:4].

    The algorithm byte is 0x01 for note signatures, 0x04 for cosignature/v1.
    """
    material = name.encode("utf-8") + b"\n" + bytes([algorithm]) + public_key
    return hashlib.sha256(material).digest()[:_KEY_ID_SIZE]


def _parse_key_id(text: str) -> bytes:
    if len(text) != 2 * _KEY_ID_SIZE or not set(text) <= _HEX_DIGITS:
        raise KeyFormatError(f"key id {text!r} is not 8 lowercase hex digits")
    return bytes.fromhex(text)


def _decode_ed25519_key(encoded: str, what: str, algorithm: int = ALG_ED25519) -> bytes:
    raw = b64decode_strict(encoded)
    if raw is None or not raw:
        raise KeyFormatError(f"{what} is not canonical base64")
    if raw[0] != algorithm:
        raise KeyFormatError(
            f"{what} has algorithm byte 0x{raw[0]:02x}, expected 0x{algorithm:02x}"
        )
    if len(raw) != 1 + _PUBLIC_KEY_SIZE:
        raise KeyFormatError(f"{what} is {len(raw) - 1} bytes, expected {_PUBLIC_KEY_SIZE}")
    return raw[1:]


def parse_vkey(vkey: str, algorithm: int = ALG_ED25519) -> tuple[str, bytes, bytes]:
    """``(name, key id, 32-byte public key)`` of a C2SP vkey of one Ed25519 algorithm byte.

    The same key material means different things under different algorithm
    bytes (0x01 note signer, 0x04 cosigner), so the caller says which it expects;
    the key id is recomputed and must match the one written.
    """
    name, sep, rest = vkey.partition("+")
    id_hex, sep2, encoded = rest.partition("+")
    if not sep or not sep2:
        raise KeyFormatError("verifier key is not name+keyid+key")
    _check_name(name)
    claimed = _parse_key_id(id_hex)
    public_key = _decode_ed25519_key(encoded, "verifier key", algorithm)
    computed = key_id(name, public_key, algorithm)
    if computed != claimed:
        raise KeyIdMismatchError(expected=computed.hex(), actual=id_hex)
    return name, computed, public_key


def _check_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise KeyFormatError(f"invalid key name {name!r}")


def _check_note_characters(text: str) -> None:
    """Notes are valid UTF-8 without ASCII control characters other than newline."""
    for ch in text:
        if ch < " " and ch != "\n":
            raise NoteError(f"note contains control character {ch!r}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise NoteError("note is not valid UTF-8") from error


class NoteSigner:
    """Signs note texts with one named Ed25519 key (the ledger's checkpoint key)."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, name: str, seed: bytes) -> None:
        _check_name(name)
        if len(seed) != _SEED_SIZE:
            raise KeyFormatError(f"Ed25519 seed is {len(seed)} bytes, expected {_SEED_SIZE}")
        self.name = name
        self._key = SigningKey(seed)
        self.public_key: bytes = bytes(self._key.verify_key)
        self.key_id: bytes = key_id(name, self.public_key)

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A signer with a fresh random key."""
        return cls(name, bytes(SigningKey.generate()))

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """Parse a Go ``PRIVATE+KEY+name+keyid+base64(0x01 || seed)`` signer key.

        The key id is checked against the public key derived from the seed, so a
        key file cannot silently sign under the wrong identity.
        """
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise KeyFormatError("signer key does not start with PRIVATE+KEY+")
        name, id_hex, encoded = parts[2], parts[3], parts[4]
        _check_name(name)
        claimed = _parse_key_id(id_hex)
        signer = cls(name, _decode_ed25519_key(encoded, "signer key"))
        if signer.key_id != claimed:
            raise KeyIdMismatchError(expected=signer.key_id.hex(), actual=id_hex)
        return signer

    @property
    def skey(self) -> str:
        """The Go-format private key string (secret: store it like a password)."""
        seed = bytes([ALG_ED25519]) + bytes(self._key)
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64encode(seed)}"

    @property
    def vkey(self) -> str:
        """The public C2SP verifier key ``name+keyid+base64(0x01 || public key)``."""
        encoded = b64encode(bytes([ALG_ED25519]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verifier(self) -> NoteVerifier:
        """The matching verifier."""
        return NoteVerifier(self.vkey)

    def signature_line(self, text: str) -> str:
        """The ``— name base64(key id || signature)\\n`` line for ``text``.

        Exposed separately so that a note can carry several signatures (key
        rotation, witness cosignatures).
        """
        _check_note_characters(text)
        if not text.endswith("\n"):
            raise NoteError("note text must end with a newline")
        signature = self._key.sign(text.encode("utf-8")).signature
        return f"{SIGNATURE_PREFIX}{self.name} {b64encode(self.key_id + signature)}\n"

    def sign(self, text: str) -> str:
        """The whole signed note: text, blank line, one signature line."""
        return f"{text}\n{self.signature_line(text)}"

    def __repr__(self) -> str:
        return f"NoteSigner({self.name!r}, key_id={self.key_id.hex()})"


class NoteVerifier:
    """Opens notes signed by one trusted key, ignoring signatures by other keys."""

    __slots__ = ("_key", "key_id", "name", "public_key")

    def __init__(self, vkey: str) -> None:
        self.name, self.key_id, self.public_key = parse_vkey(vkey)
        self._key = VerifyKey(self.public_key)

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> NoteVerifier:
        """Build the verifier (and so the vkey) for a raw 32-byte Ed25519 public key."""
        _check_name(name)
        if len(public_key) != _PUBLIC_KEY_SIZE:
            raise KeyFormatError(
                f"Ed25519 public key is {len(public_key)} bytes, expected {_PUBLIC_KEY_SIZE}"
            )
        encoded = b64encode(bytes([ALG_ED25519]) + public_key)
        return cls(f"{name}+{key_id(name, public_key).hex()}+{encoded}")

    @property
    def vkey(self) -> str:
        """The C2SP verifier key string this verifier was built from."""
        encoded = b64encode(bytes([ALG_ED25519]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, note: str) -> str:
        """Return the note's text if the trusted key signed it; raise otherwise.

        As the spec requires: signature lines from unknown keys (a different
        name *or* key id) are ignored, a known key's signature must verify,
        and at least one must be present.
        """
        text, signatures = split_note(note)
        message = text.encode("utf-8")
        verified = False
        for name, raw in signatures:
            if name != self.name or raw[:_KEY_ID_SIZE] != self.key_id:
                continue
            signature = raw[_KEY_ID_SIZE:]
            if len(signature) != _SIGNATURE_SIZE:
                raise SignatureError(
                    f"signature by {self.name} is {len(signature)} bytes, "
                    f"expected {_SIGNATURE_SIZE}"
                )
            try:
                self._key.verify(message, signature)
            except BadSignatureError as error:
                raise SignatureError(f"invalid signature by key {self.name}") from error
            verified = True
        if not verified:
            raise UnverifiedNoteError(
                f"note has no signature by key {self.name}+{self.key_id.hex()}"
            )
        return text

    def __repr__(self) -> str:
        return f"NoteVerifier({self.vkey!r})"


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The note's text and its signature lines as ``(key name, key id || signature)``.

    Strict about the shape (one blank line, em-dash lines, canonical base64) and
    silent about meaning: which lines to trust is the verifier's business.
    """
    _check_note_characters(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("note signature block is empty or lacks a final newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures, limit is {MAX_SIGNATURES}")
    return text, [_parse_signature_line(line) for line in lines]


def add_signature_lines(note: str, lines: str) -> str:
    """``note`` with the signature ``lines`` (each ``— ...\\n``) appended, none twice.

    This is how a log adds witness cosignatures to its own signed checkpoint
    (tlog-witness: "concatenate it to the checkpoint").
    """
    text, present = split_note(note)
    extra = [line for line in lines.splitlines(keepends=True) if line.strip()]
    for line in extra:
        if not line.endswith("\n"):
            raise NoteError("signature line lacks its final newline")
        _parse_signature_line(line[:-1])
    block = note[len(text) + 1 :]
    known = set(block.splitlines(keepends=True))
    new = [line for line in extra if line not in known]
    if len(present) + len(new) > MAX_SIGNATURES:
        raise NoteError(f"note would have more than {MAX_SIGNATURES} signatures")
    return note + "".join(new)


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    """Split ``— name base64`` into the name and the decoded key id || signature."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"signature line {line[:40]!r} does not start with an em dash")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not is_valid_key_name(name):
        raise NoteError(f"signature line has invalid key name {name!r}")
    raw = b64decode_strict(encoded)
    if raw is None or len(raw) <= _KEY_ID_SIZE:
        raise NoteError(f"signature by {name} is not canonical base64 of key id and signature")
    return name, raw
