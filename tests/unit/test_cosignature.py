"""cosignature/v1 (C2SP tlog-cosignature): what a witness signs, and how a log reads it back."""

from __future__ import annotations

import base64
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import VerifyKey

from ebox.domain.proofs.checkpoint import Checkpoint, sign_checkpoint
from ebox.domain.proofs.cosignature import CosignatureVerifier, Cosigner, signed_message
from ebox.domain.proofs.errors import KeyFormatError, KeyIdMismatchError, SignatureError
from ebox.domain.proofs.note import NoteSigner, add_signature_lines, key_id

# A witness key from transparency-dev/witness's own tests (Apache-2.0), in Go's signer-key format.
GO_WITNESS_SKEY = "PRIVATE+KEY+witness+f13a86db+AaLa/dfyBhyo/m0Z7WCi98ENVZWtrP8pxgRNrx7tIWiA"
BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_the_signed_message_is_the_spec_example() -> None:
    assert signed_message(BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_a_go_signer_key_reads_and_its_cosigner_key_id_uses_algorithm_4() -> None:
    cosigner = Cosigner.from_skey(GO_WITNESS_SKEY)
    assert cosigner.skey == GO_WITNESS_SKEY  # the same file works for Go witnesses
    assert cosigner.key_id == key_id("witness", cosigner.public_key, 0x04)
    assert cosigner.key_id != key_id("witness", cosigner.public_key, 0x01)
    name, id_hex, encoded = cosigner.vkey.split("+", 2)
    assert (name, id_hex) == ("witness", cosigner.key_id.hex())
    assert base64.b64decode(encoded)[0] == 0x04


def test_the_line_is_key_id_then_big_endian_time_then_an_ed25519_signature() -> None:
    cosigner = Cosigner.generate("witness.example/w1")
    line = cosigner.cosign(BODY, 1679315147)
    assert line.startswith("\u2014 witness.example/w1 ") and line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[2])
    assert raw[:4] == cosigner.key_id
    assert struct.unpack(">Q", raw[4:12]) == (1679315147,)
    VerifyKey(cosigner.public_key).verify(signed_message(BODY, 1679315147), raw[12:])


def test_a_log_reads_the_witness_time_from_its_cosigned_checkpoint() -> None:
    log = NoteSigner.generate("ledger.example/log")
    witness = Cosigner.generate("witness.example/w1")
    checkpoint = Checkpoint("ledger.example/log", 7, bytes(32))
    note = sign_checkpoint(checkpoint, log)
    cosigned = add_signature_lines(note, witness.cosign(checkpoint.body(), 1700000000))
    assert log.verifier().verify(cosigned) == checkpoint.body()  # still a note the log signed
    assert CosignatureVerifier(witness.vkey).timestamp(cosigned) == 1700000000
    assert CosignatureVerifier(witness.vkey).timestamp(note) is None
    other = Cosigner.generate("witness.example/w1")
    assert CosignatureVerifier(other.vkey).timestamp(cosigned) is None  # another key id


def test_adding_the_same_cosignature_twice_keeps_one_line() -> None:
    log = NoteSigner.generate("log")
    witness = Cosigner.generate("w")
    note = log.sign("log\n1\n" + base64.b64encode(bytes(32)).decode() + "\n")
    line = witness.cosign(note.split("\n\n")[0] + "\n", 5)
    once = add_signature_lines(note, line)
    assert add_signature_lines(once, line) == once


def test_a_forged_cosignature_is_an_error_not_an_absence() -> None:
    log = NoteSigner.generate("log")
    witness = Cosigner.generate("w")
    body = "log\n1\n" + base64.b64encode(bytes(32)).decode() + "\n"
    line = witness.cosign(body, 5)
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[11] ^= 1  # change the timestamp: the signature no longer covers it
    forged = f"\u2014 w {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(SignatureError, match="invalid cosignature by witness w"):
        CosignatureVerifier(witness.vkey).timestamp(add_signature_lines(log.sign(body), forged))


def test_a_cosigner_vkey_must_carry_algorithm_4() -> None:
    witness = Cosigner.generate("w")
    with pytest.raises(KeyFormatError, match="expected 0x04"):
        CosignatureVerifier(NoteSigner("w", bytes(32)).vkey)
    name, _, encoded = witness.vkey.split("+", 2)
    with pytest.raises(KeyIdMismatchError):
        CosignatureVerifier(f"{name}+00000000+{encoded}")


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_every_timestamp_round_trips(timestamp: int) -> None:
    witness = Cosigner(name="w", seed=bytes(range(32)))
    log = NoteSigner("log", bytes(32))
    body = "log\n3\n" + base64.b64encode(bytes(32)).decode() + "\n"
    cosigned = add_signature_lines(log.sign(body), witness.cosign(body, timestamp))
    assert CosignatureVerifier(witness.vkey).timestamp(cosigned) == timestamp


def test_a_zero_timestamp_is_refused() -> None:
    with pytest.raises(SignatureError, match="out of range"):
        Cosigner.generate("w").cosign(BODY, 0)
