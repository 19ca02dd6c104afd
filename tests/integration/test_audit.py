"""`ebox audit` catches every change made to a ledger behind the application's back.

A small ledger is built through the application and sealed with many
checkpoints; then raw SQL changes one byte of a stored event, deletes one,
swaps two, inserts a forged one, or replaces a checkpoint. The audit must fail
and name the first bad event (aggregate, version, leaf) and what happened to
it, on SQLite and on PostgreSQL. The same is shown for an export file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.transparency import TransparencyLog
from ebox.cli.audit_source import DatabaseAuditSource
from ebox.domain.proofs.canonical import b64url, canonical_json
from ebox.domain.proofs.checkpoint import Checkpoint, sign_checkpoint
from ebox.domain.proofs.note import NoteSigner, NoteVerifier
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.sealer import Sealer
from ebox.verifier.audit import AuditResult, LedgerAuditor
from ebox.verifier.errors import (
    CheckpointForged,
    CheckpointMismatch,
    EventInserted,
    EventMissing,
    EventModified,
    EventReordered,
)
from ebox.verifier.export import EnvelopeFile, read_checkpoints, read_export
from tests.builders import CITIZEN, make_world

LETTERS = 5


@dataclass
class Sealed:
    ledger: Ledger
    messages: list[str]  # all delivered; the first two read, the first archived

    @property
    def log(self) -> TransparencyLog:
        return TransparencyLog(self.ledger)


def build(ledger: Ledger) -> Sealed:
    world = make_world(ledger)
    app = ledger.app
    outcomes = app.publish_many([world.letter(idempotency_key=f"k{i}") for i in range(LETTERS)])
    messages = [str(o.message_id) for o in outcomes]
    DeliveryWorker(ledger).run_until_idle()
    for message_id in messages[:2]:
        app.open_document(message_id, "letter.pdf", reader=CITIZEN.address, channel="portal")
    app.archive(messages[0], by="owner")
    sealer = Sealer(ledger, checkpoint_every=4, checkpoint_seconds=3600)
    sealer.run_until_idle()
    sealer.checkpoint_now()
    return Sealed(ledger, messages)


@pytest.fixture
def sealed(ledger: Ledger) -> Sealed:
    return build(ledger)


def audit(ledger: Ledger) -> AuditResult:
    source = DatabaseAuditSource(ledger, chunk=7)
    return LedgerAuditor(
        NoteVerifier(TransparencyLog(ledger).vkey()),
        source.checkpoints(),
        envelopes=source.envelope,
        witness=source,
        source="test database",
    ).run(source.entries())


# --- raw SQL, behind the application's back ----------------------------------------------------


@dataclass
class Row:
    id: int
    aggregate_id: str
    version: int
    topic: str
    state: bytes
    stored_originator: Any  # the originator_id value as the driver returned it


def rows(ledger: Ledger) -> list[Row]:
    with ledger.db.read() as session:
        found = session.execute(
            text(
                "SELECT id, originator_id, originator_version, topic, state "
                "FROM ebox_events ORDER BY id"
            )
        ).all()
    return [Row(int(i), _uuid(o), int(v), str(t), bytes(s), o) for i, o, v, t, s in found]


def _uuid(value: Any) -> str:
    if isinstance(value, bytes):
        return str(UUID(bytes=value)) if len(value) == 16 else str(UUID(value.decode()))
    return str(UUID(str(value)))


def event(ledger: Ledger, message_id: str, version: int) -> Row:
    return next(r for r in rows(ledger) if r.aggregate_id == message_id and r.version == version)


def execute(ledger: Ledger, sql: str, **params: Any) -> None:
    with ledger.db.write() as session:
        session.execute(text(sql), params)


# --- the database audit ----------------------------------------------------------------------


def test_an_untouched_ledger_passes_the_audit(sealed: Sealed) -> None:
    result = audit(sealed.ledger)
    assert result.ok, result.failure
    assert result.events == result.leaves == len(rows(sealed.ledger))
    assert (
        result.checkpoints >= 5
        and result.latest is not None
        and result.latest.size == result.leaves
    )
    assert result.signatures_verified == LETTERS
    assert result.aggregates == 2 + 1 + LETTERS  # two mailboxes, the sender, the letters


def test_one_changed_byte_in_a_stored_event_is_named(sealed: Sealed) -> None:
    read = event(sealed.ledger, sealed.messages[1], 3)
    assert b"portal" in read.state
    execute(
        sealed.ledger,
        "UPDATE ebox_events SET state = :s WHERE id = :i",
        s=read.state.replace(b"portal", b"portaL"),
        i=read.id,
    )

    failure = audit(sealed.ledger).failure
    assert isinstance(failure, EventModified)
    assert failure.event is not None
    assert (failure.event.aggregate_id, failure.event.version) == (sealed.messages[1], 3)
    assert failure.event.leaf_index == sealed.log.leaf_of(sealed.messages[1], 3)
    assert "no longer hashes to the hash recorded when it was sealed" in failure.reason


def test_a_byte_that_makes_an_event_unreadable_is_named_by_its_leaf(sealed: Sealed) -> None:
    sent = event(sealed.ledger, sealed.messages[2], 1)
    execute(
        sealed.ledger,
        "UPDATE ebox_events SET state = :s WHERE id = :i",
        s=b"\xff" + sent.state[1:],
        i=sent.id,
    )

    failure = audit(sealed.ledger).failure
    assert isinstance(failure, EventModified) and "cannot be decoded" in failure.reason
    assert failure.event is not None
    assert (failure.event.aggregate_id, failure.event.version) == (sealed.messages[2], 1)


def test_a_deleted_event_is_named_as_missing(sealed: Sealed) -> None:
    read = event(sealed.ledger, sealed.messages[0], 3)
    execute(sealed.ledger, "DELETE FROM ebox_events WHERE id = :i", i=read.id)

    failure = audit(sealed.ledger).failure
    assert isinstance(failure, EventMissing), failure
    assert failure.event is not None
    assert (failure.event.aggregate_id, failure.event.version) == (sealed.messages[0], 3)
    assert failure.event.leaf_index == sealed.log.leaf_of(sealed.messages[0], 3)


def test_two_swapped_events_are_named_as_reordered(sealed: Sealed) -> None:
    first, second = (
        event(sealed.ledger, sealed.messages[3], 2),
        event(sealed.ledger, sealed.messages[4], 2),
    )
    for old, new in ((first.id, -1), (second.id, first.id), (-1, second.id)):
        execute(sealed.ledger, "UPDATE ebox_events SET id = :new WHERE id = :old", new=new, old=old)

    failure = audit(sealed.ledger).failure
    assert isinstance(failure, EventReordered), failure
    assert failure.event is not None
    moved_to = sealed.log.leaf_of(sealed.messages[3], 2)
    assert (failure.event.aggregate_id, failure.event.version) == (sealed.messages[4], 2)
    assert failure.event.leaf_index == moved_to
    assert f"sealed at leaf {sealed.log.leaf_of(sealed.messages[4], 2)}" in failure.reason


def test_a_forged_event_inserted_into_the_past_is_named(sealed: Sealed) -> None:
    """A Read copied from another letter, slipped in before everything else."""
    unread, model = (
        event(sealed.ledger, sealed.messages[3], 2),
        event(sealed.ledger, sealed.messages[1], 3),
    )
    execute(
        sealed.ledger,
        "INSERT INTO ebox_events (id, originator_id, originator_version, topic, state) "
        "VALUES (0, :o, 3, :t, :s)",
        o=unread.stored_originator,
        t=model.topic,
        s=model.state,
    )

    failure = audit(sealed.ledger).failure
    assert isinstance(failure, EventInserted), failure
    assert failure.event is not None
    assert (failure.event.aggregate_id, failure.event.version, failure.event.type) == (
        sealed.messages[3],
        3,
        "Read",
    )
    assert failure.event.position == "notification id 0"


def test_a_replaced_checkpoint_is_named_as_forged(sealed: Sealed) -> None:
    size, note = sealed.log.checkpoints()[1]
    origin = note.split("\n", 1)[0]
    forged = sign_checkpoint(
        Checkpoint(origin, size, b"\x00" * 32, datetime.now(UTC)), NoteSigner(origin, b"\x05" * 32)
    )
    execute(sealed.ledger, "UPDATE checkpoints SET note = :n WHERE size = :s", n=forged, s=size)

    failure = audit(sealed.ledger).failure
    assert isinstance(failure, CheckpointForged), failure
    assert failure.event is not None and failure.event.position == f"checkpoint of size {size}"


def test_events_not_yet_sealed_are_checked_and_said_to_be_unsigned(sealed: Sealed) -> None:
    sealed.ledger.app.unarchive(sealed.messages[0], by="owner")
    result = audit(sealed.ledger)
    assert result.ok, result.failure
    assert result.unsealed == 1
    assert any("not sealed into the Merkle log yet" in note for note in result.notes)


# --- the export audit (SQLite) ----------------------------------------------------------------


@pytest.fixture
def exported(sqlite_url: str, ledger_home: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    opened = open_ledger(sqlite_url, home=ledger_home)
    try:
        built = build(opened)
        log = built.log
        with (tmp_path / "export.jsonl").open("w", encoding="utf-8") as out:
            for row in log.entries():
                out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        with (tmp_path / "checkpoints.jsonl").open("w", encoding="utf-8") as out:
            for size, note in log.checkpoints():
                out.write(json.dumps({"size": size, "note": note}) + "\n")
        with (tmp_path / "envelopes.jsonl").open("w", encoding="utf-8") as out:
            for row in log.entries():
                if row["canonical"]["type"] == "Sent":
                    digest = row["canonical"]["data"]["envelope_sha256"]
                    raw = opened.app.stores.blobs.get(digest)
                    out.write(json.dumps({"sha256": digest, "envelope": b64url(raw)}) + "\n")
        yield tmp_path, log.vkey()
    finally:
        opened.close()


def audit_export(directory: Path, vkey: str, envelopes: bool = False) -> AuditResult:
    return LedgerAuditor(
        NoteVerifier(vkey),
        read_checkpoints(directory / "checkpoints.jsonl"),
        envelopes=EnvelopeFile(directory / "envelopes.jsonl") if envelopes else None,
        source="test export",
    ).run(read_export(directory / "export.jsonl"))


def edit_lines(directory: Path, change: Any) -> None:
    path = directory / "export.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(change(lines)), encoding="utf-8")


def test_an_export_audit_checks_keys_and_with_the_envelopes_the_signatures(
    exported: tuple[Path, str],
) -> None:
    directory, vkey = exported
    without = audit_export(directory, vkey)
    assert without.ok and without.keys_only == LETTERS and without.signatures_verified == 0
    with_envelopes = audit_export(directory, vkey, envelopes=True)
    assert with_envelopes.ok and with_envelopes.signatures_verified == LETTERS


def test_a_changed_line_of_an_export_is_named(exported: tuple[Path, str]) -> None:
    directory, vkey = exported

    def change_a_byte(lines: list[str]) -> list[str]:
        index = next(i for i, line in enumerate(lines) if '"type":"Read"' in line)
        lines[index] = lines[index].replace('"portal"', '"portaL"')
        return lines

    edit_lines(directory, change_a_byte)
    failure = audit_export(directory, vkey).failure
    assert (
        isinstance(failure, EventModified)
        and failure.event is not None
        and failure.event.type == "Read"
    )


def test_a_dropped_line_of_an_export_is_named_as_missing(exported: tuple[Path, str]) -> None:
    directory, vkey = exported
    edit_lines(directory, lambda lines: lines[:10] + lines[11:])
    failure = audit_export(directory, vkey).failure
    assert (
        isinstance(failure, EventMissing)
        and failure.event is not None
        and failure.event.leaf_index == 10
    )


def test_swapped_lines_of_an_export_are_named_as_reordered(exported: tuple[Path, str]) -> None:
    directory, vkey = exported
    edit_lines(directory, lambda lines: [*lines[:10], lines[11], lines[10], *lines[12:]])
    failure = audit_export(directory, vkey).failure
    assert (
        isinstance(failure, EventReordered)
        and failure.event is not None
        and failure.event.leaf_index == 10
    )


def test_a_rewritten_event_with_a_recomputed_hash_still_fails_at_the_signed_root(
    exported: tuple[Path, str],
) -> None:
    """An aggregate's last event rewritten, hash recomputed: no chain shows it, the root does."""
    directory, vkey = exported

    def rewrite(lines: list[str]) -> list[str]:
        index = next(i for i, line in enumerate(lines) if '"type":"Archived"' in line)
        row = json.loads(lines[index])
        row["canonical"]["data"]["by"] = "someone else"
        row["event_hash"] = hashlib.sha256(canonical_json(row["canonical"])).hexdigest()
        lines[index] = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
        return lines

    edit_lines(directory, rewrite)
    failure = audit_export(directory, vkey).failure
    assert isinstance(failure, CheckpointMismatch), failure
    assert "is correctly signed, but the events give root" in failure.reason


def test_a_forged_checkpoints_file_is_refused(exported: tuple[Path, str]) -> None:
    directory, vkey = exported
    path = directory / "checkpoints.jsonl"
    rows_ = [json.loads(line) for line in path.read_text().splitlines()]
    rows_[0]["note"] = rows_[0]["note"].replace("\n4\n", "\n5\n", 1)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows_))
    failure = audit_export(directory, vkey).failure
    assert isinstance(failure, CheckpointForged), failure


def _as_jcs(lines: list[str]) -> list[str]:
    """The export with each canonical object written in its JCS form (the proposed format)."""
    out = []
    for line in lines:
        row = json.loads(line)
        body = canonical_json(row["canonical"]).decode()
        out.append(
            f'{{"leaf_index":{row["leaf_index"]},"event_hash":"{row["event_hash"]}","canonical":{body}}}\n'
        )
    return out


def test_an_export_written_in_jcs_form_is_hashed_as_written_and_still_checked(
    exported: tuple[Path, str],
) -> None:
    directory, vkey = exported
    edit_lines(directory, _as_jcs)
    entries = list(read_export(directory / "export.jsonl"))
    assert all(e.written is not None for e in entries)  # no re-encoding: one SHA-256 per event
    assert audit_export(directory, vkey, envelopes=True).ok


def test_a_non_canonical_spelling_with_a_matching_hash_is_caught_either_way(
    exported: tuple[Path, str],
) -> None:
    """Spaces added and the hash taken over the spaced text: the signed root catches a covered
    event; past the last checkpoint, where no signature anchors it, re-encoding catches it."""
    directory, vkey = exported

    def respell(index: int) -> Any:
        def change(lines: list[str]) -> list[str]:
            lines = _as_jcs(lines)
            row = json.loads(lines[index])
            body = json.dumps(row["canonical"], sort_keys=True, ensure_ascii=False)  # with spaces
            digest = hashlib.sha256(body.encode()).hexdigest()
            lines[index] = (
                f'{{"leaf_index":{row["leaf_index"]},"event_hash":"{digest}","canonical":{body}}}\n'
            )
            return lines

        return change

    checkpoints = [
        json.loads(line) for line in (directory / "checkpoints.jsonl").read_text().splitlines()
    ]
    original = (directory / "export.jsonl").read_text(encoding="utf-8")
    last = len(original.splitlines()) - 1
    edit_lines(directory, respell(last))
    failure = audit_export(directory, vkey).failure
    assert isinstance(failure, CheckpointMismatch), failure  # the last leaf is covered

    (directory / "export.jsonl").write_text(original, encoding="utf-8")
    (directory / "checkpoints.jsonl").write_text(
        "".join(json.dumps(c) + "\n" for c in checkpoints if c["size"] <= last)
    )
    edit_lines(directory, respell(last))
    failure = audit_export(directory, vkey).failure
    assert isinstance(failure, EventModified), failure
    assert "not written in its canonical form" in failure.reason
