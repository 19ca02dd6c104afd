"""Checkpoints follow C2SP tlog-checkpoint, with one optional ``time`` extension line."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ebox.domain.proofs.checkpoint import (
    Checkpoint,
    open_checkpoint,
    sign_checkpoint,
)
from ebox.domain.proofs.errors import (
    CheckpointFormatError,
    OriginMismatchError,
    SignatureError,
    UnverifiedNoteError,
)
from ebox.domain.proofs.merkle import EMPTY_ROOT
from ebox.domain.proofs.note import NoteSigner

ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()
SEALED_AT = datetime(2026, 11, 27, 20, 57, 18, 123456, tzinfo=UTC)

# The example body of the C2SP tlog-checkpoint specification.
SPEC_EXAMPLE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return NoteSigner("ebox.example/ledger", bytes(range(100, 132)))


class TestBody:
    def test_the_body_is_origin_size_and_root(self) -> None:
        checkpoint = Checkpoint("ebox.example/ledger", 5, ROOT, None)
        assert checkpoint.body() == f"ebox.example/ledger\n5\n{ROOT_B64}\n"

    def test_the_time_line_is_rfc3339_utc_with_microseconds(self) -> None:
        checkpoint = Checkpoint("ebox.example/ledger", 5, ROOT, SEALED_AT)
        assert checkpoint.body() == (
            f"ebox.example/ledger\n5\n{ROOT_B64}\ntime 2026-11-27T20:57:18.123456Z\n"
        )

    def test_times_are_normalised_to_utc(self) -> None:
        brussels = SEALED_AT.astimezone(timezone(timedelta(hours=1)))
        checkpoint = Checkpoint("ebox.example/ledger", 5, ROOT, brussels)
        assert checkpoint.time == SEALED_AT
        assert checkpoint.time is not None and checkpoint.time.tzinfo == UTC
        assert "time 2026-11-27T20:57:18.123456Z\n" in checkpoint.body()

    def test_whole_seconds_still_get_six_digits(self) -> None:
        checkpoint = Checkpoint("o", 0, EMPTY_ROOT, SEALED_AT.replace(microsecond=0))
        assert checkpoint.body().endswith("time 2026-11-27T20:57:18.000000Z\n")

    def test_the_empty_tree_has_size_zero(self) -> None:
        checkpoint = Checkpoint("o", 0, EMPTY_ROOT)
        assert checkpoint.body().split("\n")[1] == "0"


class TestParse:
    def test_the_spec_example_parses(self) -> None:
        checkpoint = Checkpoint.parse(SPEC_EXAMPLE)
        assert checkpoint.origin == "example.com/behind-the-sofa"
        assert checkpoint.size == 20852163
        assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
        assert checkpoint.time is None
        assert checkpoint.body() == SPEC_EXAMPLE

    @pytest.mark.parametrize(
        "checkpoint",
        [
            Checkpoint("ebox.example/ledger", 0, EMPTY_ROOT),
            Checkpoint("ebox.example/ledger", 2**64 - 1, ROOT, SEALED_AT),
            Checkpoint("ebox.example/ledger", 7, ROOT, SEALED_AT, ("other extension",)),
            Checkpoint("ebox.example/ledger", 7, ROOT, None, ("x", "y z")),
        ],
    )
    def test_parse_inverts_body(self, checkpoint: Checkpoint) -> None:
        assert Checkpoint.parse(checkpoint.body()) == checkpoint

    def test_unknown_extension_lines_are_preserved_in_order(self) -> None:
        text = SPEC_EXAMPLE + "time 2026-11-27T20:57:18.123456Z\nfoo bar\nbaz\n"
        checkpoint = Checkpoint.parse(text)
        assert checkpoint.time == SEALED_AT
        assert checkpoint.extensions == ("foo bar", "baz")
        assert checkpoint.body() == text

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param(f"o\n5\n{ROOT_B64}", id="no-final-newline"),
            pytest.param("o\n5\n", id="two-lines"),
            pytest.param(f"\n5\n{ROOT_B64}\n", id="empty-origin"),
            pytest.param(f"o\n05\n{ROOT_B64}\n", id="leading-zero"),
            pytest.param(f"o\n+5\n{ROOT_B64}\n", id="plus-sign"),
            pytest.param(f"o\n-1\n{ROOT_B64}\n", id="negative"),
            pytest.param(f"o\n 5\n{ROOT_B64}\n", id="space"),
            pytest.param(f"o\n1_000\n{ROOT_B64}\n", id="underscore"),
            pytest.param(f"o\n\u0665\n{ROOT_B64}\n", id="arabic-digit"),
            pytest.param(f"o\n{2**64}\n{ROOT_B64}\n", id="beyond-uint64"),
            pytest.param("o\n5\nAAEC\n", id="short-root"),
            pytest.param(f"o\n5\n{ROOT_B64[:-1]}\n", id="unpadded-root"),
            pytest.param(f"o\n5\n{ROOT_B64[:-2]}B=\n", id="non-canonical-root"),
            pytest.param(f"o\n5\n{ROOT_B64}\n\n", id="empty-extension"),
            pytest.param(f"o\n5\n{ROOT_B64}\ntime 2026-11-27T20:57:18Z\n", id="time-no-micros"),
            pytest.param(
                f"o\n5\n{ROOT_B64}\ntime 2026-11-27T20:57:18.123456+00:00\n", id="time-offset"
            ),
            pytest.param(f"o\n5\n{ROOT_B64}\ntime 2026-13-27T20:57:18.123456Z\n", id="month-13"),
            pytest.param(
                f"o\n5\n{ROOT_B64}\nfoo\ntime 2026-11-27T20:57:18.123456Z\n", id="time-not-first"
            ),
            pytest.param(
                f"o\n5\n{ROOT_B64}\ntime 2026-11-27T20:57:18.123456Z\n"
                "time 2026-11-27T20:57:18.123456Z\n",
                id="time-twice",
            ),
        ],
    )
    def test_malformed_bodies_are_refused(self, text: str) -> None:
        with pytest.raises(CheckpointFormatError):
            Checkpoint.parse(text)

    def test_construction_validates_too(self) -> None:
        with pytest.raises(CheckpointFormatError):
            Checkpoint("", 1, ROOT)
        with pytest.raises(CheckpointFormatError):
            Checkpoint("o\nx", 1, ROOT)
        with pytest.raises(CheckpointFormatError):
            Checkpoint("o", -1, ROOT)
        with pytest.raises(CheckpointFormatError):
            Checkpoint("o", 1, ROOT[:31])
        with pytest.raises(CheckpointFormatError):
            Checkpoint("o", 1, ROOT, datetime(2026, 1, 1))  # naive


class TestSignedCheckpoints:
    def test_sign_then_open_round_trips(self, signer: NoteSigner) -> None:
        checkpoint = Checkpoint("ebox.example/ledger", 1000, ROOT, SEALED_AT)
        note = sign_checkpoint(checkpoint, signer)
        assert note.startswith(checkpoint.body() + "\n\u2014 ebox.example/ledger ")
        assert open_checkpoint(note, signer.verifier()) == checkpoint
        pinned = open_checkpoint(note, signer.verifier(), origin="ebox.example/ledger")
        assert pinned == checkpoint

    def test_the_origin_can_be_pinned(self, signer: NoteSigner) -> None:
        note = sign_checkpoint(Checkpoint("other.example/log", 1, ROOT), signer)
        with pytest.raises(OriginMismatchError) as caught:
            open_checkpoint(note, signer.verifier(), origin="ebox.example/ledger")
        assert caught.value.expected == "ebox.example/ledger"
        assert caught.value.actual == "other.example/log"

    def test_a_tampered_size_is_refused(self, signer: NoteSigner) -> None:
        note = sign_checkpoint(Checkpoint("ebox.example/ledger", 1000, ROOT), signer)
        with pytest.raises(SignatureError):
            open_checkpoint(note.replace("\n1000\n", "\n1001\n"), signer.verifier())

    def test_a_checkpoint_from_another_key_is_refused(self, signer: NoteSigner) -> None:
        other = NoteSigner("ebox.example/ledger", bytes(32))
        note = sign_checkpoint(Checkpoint("ebox.example/ledger", 1, ROOT), other)
        with pytest.raises(UnverifiedNoteError):
            open_checkpoint(note, signer.verifier())

    def test_the_signature_is_checked_before_the_body_is_parsed(self, signer: NoteSigner) -> None:
        # A malformed body under a foreign key must read as "not signed", not as
        # a format problem: unauthenticated text is never interpreted.
        other = NoteSigner("x", bytes(32))
        with pytest.raises(UnverifiedNoteError):
            open_checkpoint(other.sign("not a checkpoint\n"), signer.verifier())

    def test_a_signed_but_malformed_body_is_refused(self, signer: NoteSigner) -> None:
        with pytest.raises(CheckpointFormatError):
            open_checkpoint(signer.sign("o\n01\nAAAA\n"), signer.verifier())
