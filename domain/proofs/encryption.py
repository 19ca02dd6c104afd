"""Confidentiality: documents under a fresh data key, the key wrapped per reader.

Each publication gets one random SecretBox key. Documents are encrypted with
it; the key itself is sealed (SealedBox, X25519) to every key holder allowed
to read. Destroying the wrapped keys destroys the content (crypto-shredding)
while every hash in the ledger still verifies.
"""

from __future__ import annotations

import hashlib

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox
from nacl.utils import random

DATA_KEY_BYTES = SecretBox.KEY_SIZE


class DecryptionError(ValueError):
    """Ciphertext or key was altered, or the key is the wrong one."""


def new_data_key() -> bytes:
    return random(DATA_KEY_BYTES)


def encrypt_document(data_key: bytes, plaintext: bytes) -> bytes:
    """nonce || XSalsa20-Poly1305 ciphertext, as SecretBox produces it."""
    return bytes(SecretBox(data_key).encrypt(plaintext))


def decrypt_document(data_key: bytes, ciphertext: bytes) -> bytes:
    try:
        return SecretBox(data_key).decrypt(ciphertext)
    except CryptoError as error:
        raise DecryptionError("document ciphertext does not open with this data key") from error


def wrap_key(data_key: bytes, recipient_public_key: bytes) -> bytes:
    return bytes(SealedBox(PublicKey(recipient_public_key)).encrypt(data_key))


def unwrap_key(wrapped: bytes, private_key: bytes) -> bytes:
    try:
        return SealedBox(PrivateKey(private_key)).decrypt(wrapped)
    except CryptoError as error:
        raise DecryptionError("wrapped data key does not open with this private key") from error


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
