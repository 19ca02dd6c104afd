"""Signed notes interoperate with the Go reference implementation, byte for byte.

Golden vectors: golang.org/x/mod/sumdb/note, file note_test.go (TestSign,
TestOpen, TestNewVerifier, TestNewSigner): the PeterNeumann and EnochRoot keys
and signatures. Ed25519 is deterministic (RFC 8032), so signing the same text
with the same key must reproduce the Go output exactly.
"""

from __future__ import annotations

import base64

import pytest

from ebox.domain.proofs.errors import (
    KeyFormatError,
    KeyIdMismatchError,
    NoteError,
    SignatureError,
    UnverifiedNoteError,
)
from ebox.domain.proofs.note import NoteSigner, NoteVerifier, key_id

# --- golang.org/x/mod/sumdb/note note_test.go --------------------------------
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
SIGNED = TEXT + "\n" + PETER_SIG
# ------------------------------------------------------------------------------


def _insert_bytes(line: str, at: int, extra: str) -> str:
    """Go slices strings by UTF-8 byte; do the same (the em dash is 3 bytes)."""
    raw = line.encode("utf-8")
    return (raw[:at] + extra.encode("utf-8") + raw[at:]).decode("utf-8")


class TestGoVectors:
    def test_signing_reproduces_the_go_note_byte_for_byte(self) -> None:
        signer = NoteSigner.from_skey(PETER_SKEY)
        assert signer.sign(TEXT) == SIGNED

    def test_keys_round_trip_through_their_string_forms(self) -> None:
        signer = NoteSigner.from_skey(PETER_SKEY)
        assert signer.vkey == PETER_VKEY
        assert signer.skey == PETER_SKEY
        assert signer.key_id.hex() == "c74f20a3"
        assert NoteVerifier(PETER_VKEY).vkey == PETER_VKEY
        assert NoteVerifier.from_public_key("PeterNeumann", signer.public_key).vkey == PETER_VKEY

    def test_key_id_is_the_c2sp_hash_of_name_type_and_key(self) -> None:
        verifier = NoteVerifier(PETER_VKEY)
        assert key_id("PeterNeumann", verifier.public_key) == bytes.fromhex("c74f20a3")

    def test_verifying_returns_the_text(self) -> None:
        assert NoteVerifier(PETER_VKEY).verify(SIGNED) == TEXT

    def test_signatures_by_unknown_keys_are_ignored(self) -> None:
        both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
        assert NoteVerifier(PETER_VKEY).verify(both) == TEXT
        assert NoteVerifier(ENOCH_VKEY).verify(both) == TEXT

    def test_a_note_without_a_trusted_signature_is_refused(self) -> None:
        with pytest.raises(UnverifiedNoteError):
            NoteVerifier(ENOCH_VKEY).verify(SIGNED)

    def test_repeated_signatures_are_accepted(self) -> None:
        note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG
        assert NoteVerifier(PETER_VKEY).verify(note) == TEXT

    def test_an_altered_signature_by_the_trusted_key_is_refused(self) -> None:
        # TestOpen "Invalid signature": four base64 characters inserted at byte 60.
        with pytest.raises(SignatureError):
            NoteVerifier(PETER_VKEY).verify(TEXT + "\n" + _insert_bytes(PETER_SIG, 60, "ABCD"))

    def test_an_altered_signature_by_an_unknown_key_is_ignored(self) -> None:
        note = TEXT + "\n" + PETER_SIG + _insert_bytes(ENOCH_SIG, 60, "ABCD")
        assert NoteVerifier(PETER_VKEY).verify(note) == TEXT

    def test_too_many_signatures_are_refused(self) -> None:
        with pytest.raises(NoteError):
            NoteVerifier(PETER_VKEY).verify(TEXT + "\n" + PETER_SIG * 101)

    @pytest.mark.parametrize(
        "note",
        [
            TEXT,
            TEXT + "\n",
            TEXT + "\n" + PETER_SIG[:-1],
            "\x01" + TEXT + "\n" + PETER_SIG,
            # Go uses the invalid UTF-8 byte 0xff; a Python str carries it as a
            # lone surrogate, which cannot be encoded as UTF-8 either.
            "\udcff" + TEXT + "\n" + PETER_SIG,
            TEXT + "\n" + "\u2014 Bad Name " + PETER_SIG.split(" ")[2].rstrip("\n"),
            TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        ],
        ids=[
            "no-signatures",
            "blank-only",
            "no-final-newline",
            "control",
            "bad-utf8",
            "bad-name",
            "trailing-line",
        ],
    )
    def test_malformed_notes_are_refused(self, note: str) -> None:
        with pytest.raises(NoteError):
            NoteVerifier(PETER_VKEY).verify(note)

    def test_every_mangled_verifier_key_is_refused(self) -> None:
        # TestNewVerifier: every proper substring and every single-byte increment.
        for mangled in _manglings(PETER_VKEY):
            with pytest.raises(KeyFormatError):
                NoteVerifier(mangled)
        with pytest.raises(KeyFormatError):  # wrong key length, adjusted key id
            NoteVerifier(
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
            )
        with pytest.raises(KeyFormatError):  # unknown algorithm, adjusted key id
            NoteVerifier("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")

    def test_every_mangled_signer_key_is_refused(self) -> None:
        # TestNewSigner.
        for mangled in _manglings(PETER_SKEY):
            with pytest.raises(KeyFormatError):
                NoteSigner.from_skey(mangled)


def _manglings(key: str) -> list[str]:
    raw = key.encode("ascii")
    out = [
        raw[i:j].decode("ascii")
        for i in range(len(raw) + 1)
        for j in range(i + 1, len(raw) + 1)
        if (i, j) != (0, len(raw))
    ]
    for i in range(len(raw)):
        changed = bytearray(raw)
        changed[i] += 1
        out.append(changed.decode("ascii"))
    return out


class TestRoundTrips:
    def test_a_generated_key_signs_and_verifies(self) -> None:
        signer = NoteSigner.generate("ebox.example/ledger")
        note = signer.sign("hello\n")
        assert signer.verifier().verify(note) == "hello\n"
        assert NoteSigner.from_skey(signer.skey).vkey == signer.vkey

    def test_a_text_with_blank_lines_is_split_at_the_last_one(self) -> None:
        signer = NoteSigner.generate("ebox.example/ledger")
        text = "first\n\nsecond\n"
        assert signer.verifier().verify(signer.sign(text)) == text

    def test_signature_lines_from_several_keys_can_be_stacked(self) -> None:
        log = NoteSigner.generate("ebox.example/ledger")
        witness = NoteSigner.generate("witness.example")
        note = log.sign("tree\n") + witness.signature_line("tree\n")
        assert log.verifier().verify(note) == "tree\n"
        assert witness.verifier().verify(note) == "tree\n"


class TestRefusals:
    @pytest.fixture
    def signer(self) -> NoteSigner:
        return NoteSigner(name="ebox.example/ledger", seed=bytes(range(32)))

    def test_a_different_key_with_the_same_name_does_not_count(self, signer: NoteSigner) -> None:
        impostor = NoteSigner("ebox.example/ledger", bytes(32))
        with pytest.raises(UnverifiedNoteError):
            signer.verifier().verify(impostor.sign("text\n"))

    def test_an_altered_text_is_refused(self, signer: NoteSigner) -> None:
        note = signer.sign("size 10\n").replace("size 10", "size 11")
        with pytest.raises(SignatureError):
            signer.verifier().verify(note)

    def test_an_altered_signature_is_refused(self, signer: NoteSigner) -> None:
        note = signer.sign("text\n")
        prefix, encoded = note.rstrip("\n").rsplit(" ", 1)
        raw = bytearray(base64.b64decode(encoded))
        raw[10] ^= 1
        with pytest.raises(SignatureError):
            signer.verifier().verify(f"{prefix} {base64.b64encode(bytes(raw)).decode()}\n")

    def test_a_truncated_signature_is_refused(self, signer: NoteSigner) -> None:
        note = signer.sign("text\n")
        prefix, encoded = note.rstrip("\n").rsplit(" ", 1)
        short = base64.b64encode(base64.b64decode(encoded)[:-1]).decode()
        with pytest.raises(SignatureError):
            signer.verifier().verify(f"{prefix} {short}\n")

    @pytest.mark.parametrize("bad", ["!!!!", "AAAA", "YWJjZA", "YWJjZB==", "YWJj ZA=="])
    def test_bad_base64_in_a_signature_line_is_refused(self, signer: NoteSigner, bad: str) -> None:
        with pytest.raises(NoteError):
            signer.verifier().verify(f"text\n\n\u2014 ebox.example/ledger {bad}\n")

    def test_text_must_end_with_a_newline(self, signer: NoteSigner) -> None:
        with pytest.raises(NoteError):
            signer.sign("no newline")

    def test_text_must_not_contain_control_characters(self, signer: NoteSigner) -> None:
        with pytest.raises(NoteError):
            signer.sign("tab\there\n")

    @pytest.mark.parametrize("name", ["", "has space", "a+b", "tab\tname"])
    def test_invalid_key_names_are_refused(self, name: str) -> None:
        with pytest.raises(KeyFormatError):
            NoteSigner(name, bytes(32))

    def test_a_seed_must_be_32_bytes(self) -> None:
        with pytest.raises(KeyFormatError):
            NoteSigner("ebox.example/ledger", bytes(31))

    def test_a_vkey_with_a_wrong_key_id_reports_both(self) -> None:
        with pytest.raises(KeyIdMismatchError) as caught:
            NoteVerifier(PETER_VKEY.replace("c74f20a3", "c74f20a4"))
        assert (caught.value.expected, caught.value.actual) == ("c74f20a3", "c74f20a4")

    def test_key_ids_are_lowercase_hex(self) -> None:
        with pytest.raises(KeyFormatError):
            NoteVerifier(PETER_VKEY.replace("c74f20a3", "C74F20A3"))
