"""Benchmark of the whole-ledger audit: events/s, against raw SHA-256, and peak memory.

It builds synthetic but valid ledgers (section 1) of two sizes, default
250,000 and 1,000,000 events, audits each from its export files exactly as
`ebox audit --export` does (same code path: ``read_export`` and
``LedgerAuditor``), with and without sender signature checks, and measures in
the same run the raw speed of SHA-256 over the same bytes (each exported line
hashed once: the floor of any audit). It also audits the same events written
with each canonical object in its JCS form (sorted members), the export format
proposed for `ebox ledger export`, with which the audit hashes each event's
bytes as written instead of re-encoding them. And it builds a small real
ledger database through the application (`ebox demo`) and times the database
audit.

Every measurement runs in a fresh child process, so that its peak memory
(``VmHWM``) is its own; memory is reported as the peak above the child's
resident size after imports, and per aggregate, since the audit keeps one
chain head per aggregate (O(aggregates)) and nothing per event.

Run from the repository root::

    .venv/bin/python bench/audit.py                    # 250k and 1M events, plus a DB audit
    .venv/bin/python bench/audit.py --quick            # 20k and 80k events, quick check
    .venv/bin/python bench/audit.py --events 2000000 --small 500000 --db-letters 2000

Options: ``--events N`` and ``--small N`` (the two export sizes), ``--db-letters
N`` (letters of the real SQLite ledger, 0 to skip), ``--workdir DIR`` (where the
files go; default a temporary directory, removed at the end unless ``--keep``).
The goal checked: at least 30,000 events/s without signature checks. The last
line is JSON with every figure. On a shared machine every figure drops, the
SHA-256 baseline's too: the load average is printed.

Section 1, the synthetic ledger: same formats as `ebox ledger export`,
`ebox ledger checkpoints` and `ebox ledger envelopes`, made without a database.
Every event is a real canonical event with a correct hash and chain, every
Sent carries a real Ed25519 signature over its own envelope, and a checkpoint
signed with a test ledger key is written every 1,000 leaves. The mix mimics
a day of the ledger: a sender and its key, mailboxes (opened, key added), then
letters published in batches of 500 (Sent), delivered (Delivered each), 60 %
read, 30 % archived: about 2.9 events per letter, so one aggregate for about
three events. Events are written from templates of their JCS text, so building
costs a hash and a string format per event and a signature per letter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from ebox.domain.proofs.canonical import ZERO_HASH, b64url, canonical_json, rfc3339
from ebox.domain.proofs.checkpoint import Checkpoint, sign_checkpoint
from ebox.domain.proofs.merkle import Frontier, leaf_hash
from ebox.domain.proofs.note import NoteSigner

GOAL_EVENTS_PER_SECOND = 30_000

# --- 1. the synthetic ledger ----------------------------------------------------------------

ORIGIN = "bench.ebox.example/ledger"
CHECKPOINT_EVERY = 1000
BATCH = 500
SENDER_KBO = "0308357159"


@dataclass
class Files:
    export: Path
    checkpoints: Path
    envelopes: Path
    vkey: str
    events: int
    aggregates: int


class _Writer:
    """Appends canonical events (JCS text) as export rows, sealing and checkpointing as it goes."""

    def __init__(self, files: Files, signer: NoteSigner, start: datetime) -> None:
        self.files = files
        self.signer = signer
        self.frontier = Frontier.empty()
        self.out = files.export.open("w", encoding="utf-8")
        self.out_jcs = files.export.with_name("export-jcs.jsonl").open("w", encoding="utf-8")
        self.checkpoints = files.checkpoints.open("w", encoding="utf-8")
        self.envelopes = files.envelopes.open("w", encoding="utf-8")
        self.clock = start
        self.heads: dict[str, tuple[int, str]] = {}

    def tick(self) -> str:
        self.clock += timedelta(microseconds=137)
        return rfc3339(self.clock)

    def event(self, aggregate_id: str, aggregate_type: str, kind: str, data_jcs: str) -> None:
        version, prev = self.heads.get(aggregate_id, (0, ZERO_HASH))
        version += 1
        timestamp = self.tick()
        head = f'{{"aggregate_id":"{aggregate_id}","aggregate_type":"{aggregate_type}"'
        jcs = (  # members sorted: the JCS form, which is what gets hashed
            f'{head},"data":{data_jcs},"prev_hash":"{prev}","timestamp":"{timestamp}",'
            f'"type":"{kind}","version":{version}}}'
        )
        exported = (  # members in the order `ebox ledger export` writes them
            f'{head},"version":{version},"type":"{kind}","timestamp":"{timestamp}",'
            f'"prev_hash":"{prev}","data":{data_jcs}}}'
        )
        digest = hashlib.sha256(jcs.encode("utf-8")).digest()
        event_hash = digest.hex()
        index = self.frontier.size
        self.out.write(
            f'{{"leaf_index":{index},"event_hash":"{event_hash}","canonical":{exported}}}\n'
        )
        self.out_jcs.write(
            f'{{"leaf_index":{index},"event_hash":"{event_hash}","canonical":{jcs}}}\n'
        )
        self.frontier.append(leaf_hash(digest))
        self.heads[aggregate_id] = (version, event_hash)
        self.files.events += 1
        if self.frontier.size % CHECKPOINT_EVERY == 0:
            self.checkpoint()

    def checkpoint(self) -> None:
        checkpoint = Checkpoint(ORIGIN, self.frontier.size, self.frontier.root(), self.clock)
        note = sign_checkpoint(checkpoint, self.signer)
        self.checkpoints.write(json.dumps({"size": checkpoint.size, "note": note}) + "\n")

    def close(self) -> None:
        if self.frontier.size % CHECKPOINT_EVERY:
            self.checkpoint()
        self.files.aggregates = len(self.heads)
        for handle in (self.out, self.out_jcs, self.checkpoints, self.envelopes):
            handle.close()


def _jcs(value: object) -> str:
    return canonical_json(value).decode("utf-8")


def build(directory: Path, events: int, seed: int = 7) -> Files:
    """Write an export of at least `events` events (and its checkpoints and envelopes)."""
    rng = random.Random(seed)
    signer = NoteSigner(ORIGIN, bytes(rng.getrandbits(8) for _ in range(32)))
    directory.mkdir(parents=True, exist_ok=True)
    files = Files(
        directory / "export.jsonl",
        directory / "checkpoints.jsonl",
        directory / "envelopes.jsonl",
        signer.vkey,
        0,
        0,
    )
    w = _Writer(files, signer, datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    sender_key = SigningKey(bytes(rng.getrandbits(8) for _ in range(32)))
    public = bytes(sender_key.verify_key)
    key_id = hashlib.sha256(public).hexdigest()
    sender = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:ebox:sender:{SENDER_KBO}"))
    w.event(
        sender,
        "SenderOrganization",
        "Registered",
        _jcs({"kbo_number": SENDER_KBO, "names": {"nl": "FOD Financiën", "fr": "SPF Finances"}}),
    )
    w.event(
        sender,
        "SenderOrganization",
        "ApplicationRegistered",
        _jcs({"application_id": "mybox-publisher", "names": {"en": "gateway"}}),
    )
    w.event(
        sender,
        "SenderOrganization",
        "MessageTypeRegistered",
        _jcs(
            {
                "message_type_id": "TAX",
                "names": {"nl": "Aanslag"},
                "registered_mail": True,
                "validity_amount": 2,
                "validity_unit": "YEAR",
            }
        ),
    )
    w.event(
        sender,
        "SenderOrganization",
        "SigningKeyAdded",
        _jcs(
            {
                "key_id": key_id,
                "public_key": b64url(public),
                "valid_from": rfc3339(w.clock),
                "valid_until": None,
            }
        ),
    )

    mailboxes = [_mailbox(w, rng, n) for n in range(max(50, events // 50))]
    for batch in _batches(w, rng, mailboxes, sender_key, key_id):
        if files.events >= events:
            break
        del batch
    w.close()
    return files


def _mailbox(w: _Writer, rng: random.Random, number: int) -> tuple[str, str, str]:
    address = f"citizen:{rng.randrange(10**10, 10**11)}"
    mailbox = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    fingerprint = hashlib.sha256(number.to_bytes(8, "big")).hexdigest()
    ebox_type, id_value = address.split(":")
    w.event(mailbox, "Mailbox", "Opened", _jcs({"ebox_type": ebox_type, "id_value": id_value}))
    w.event(
        mailbox,
        "Mailbox",
        "EncryptionKeyAdded",
        _jcs({"fingerprint": fingerprint, "public_key": b64url(fingerprint.encode()[:32])}),
    )
    return mailbox, address, fingerprint


def _batches(
    w: _Writer,
    rng: random.Random,
    mailboxes: list[tuple[str, str, str]],
    key: SigningKey,
    key_id: str,
) -> Iterator[int]:
    number = 0
    while True:
        letters = []
        for _ in range(BATCH):
            number += 1
            mailbox, address, fingerprint = mailboxes[rng.randrange(len(mailboxes))]
            message = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            letters.append((message, mailbox, address))
            w.event(
                message,
                "Message",
                "Sent",
                _sent(w, rng, number, mailbox, address, fingerprint, key, key_id),
            )
        for message, mailbox, _ in letters:
            w.event(message, "Message", "Delivered", f'{{"mailbox_id":"{mailbox}"}}')
        for message, mailbox, _ in letters:
            if rng.random() < 0.6:
                w.event(
                    message,
                    "Message",
                    "Read",
                    f'{{"channel":"portal","document":"letter.pdf","reader":"owner:{mailbox}"}}',
                )
        for message, _, _ in letters:
            if rng.random() < 0.3:
                w.event(message, "Message", "Archived", '{"by":"owner"}')
        yield number


_ENVELOPE = (
    '{{"application":"mybox-publisher","documents":[{{"media_type":"application/pdf",'
    '"name":"letter.pdf","sha256":"{letter}"}},{{"media_type":"application/xml","name":"annex.xml",'
    '"sha256":"{annex}"}}],"format":"ebox-envelope/v1","idempotency_key":"bench-{number}",'
    '"message_type":"TAX","recipients":["{address}"],"registered":true,"sender":"{sender}",'
    '"subjects":{{"fr":"Votre avertissement-extrait de rôle 2026","nl":"Uw aanslagbiljet 2026"}},'
    '"submitted_at":"{submitted}"}}'
)
_SENT = (
    '{{"application":"mybox-publisher","client_id":"sender:{sender}","details":{{}},"documents":['
    '{{"attachment_id":"1","ciphertext_sha256":"{letter_c}","kind":"attachment","language":"nl",'
    '"main_content":true,"media_type":"application/pdf","name":"letter.pdf","sha256":"{letter}",'
    '"signed":false,"size":{size},"title":null}},{{"attachment_id":"2","ciphertext_sha256":"{annex_c}",'
    '"kind":"attachment","language":null,"main_content":false,"media_type":"application/xml",'
    '"name":"annex.xml","sha256":"{annex}","signed":false,"size":812,"title":null}}],'
    '"envelope_sha256":"{envelope_sha256}","expires_at":"{expires}","mailbox_id":"{mailbox}",'
    '"message_type":"TAX","origin":"signed","publication_id":"{publication}",'
    '"recipient":"{address}","registered":true,"sender":"{sender}","signature":"{signature}",'
    '"signing_key_id":"{key_id}","subjects":{{"fr":"Votre avertissement-extrait de rôle 2026",'
    '"nl":"Uw aanslagbiljet 2026"}},"submitted_at":"{submitted}","wrapped_for":["{fingerprint}"]}}'
)
"""A Sent event's data and its envelope, as JCS text (sorted members, UTF-8, no spaces)."""


def _sent(
    w: _Writer,
    rng: random.Random,
    number: int,
    mailbox: str,
    address: str,
    fingerprint: str,
    key: SigningKey,
    key_id: str,
) -> str:
    letter = hashlib.sha256(b"letter %d" % number).hexdigest()
    annex = hashlib.sha256(b"annex %d" % number).hexdigest()
    submitted = rfc3339(w.clock)
    envelope = _ENVELOPE.format(
        letter=letter,
        annex=annex,
        number=number,
        address=address,
        sender=SENDER_KBO,
        submitted=submitted,
    )
    raw = envelope.encode("utf-8")
    envelope_sha256 = hashlib.sha256(raw).hexdigest()
    w.envelopes.write(f'{{"sha256":"{envelope_sha256}","envelope":"{b64url(raw)}"}}\n')
    return _SENT.format(
        sender=SENDER_KBO,
        letter=letter,
        letter_c=hashlib.sha256(letter.encode()).hexdigest(),
        annex=annex,
        annex_c=hashlib.sha256(annex.encode()).hexdigest(),
        size=40_000 + number % 977,
        envelope_sha256=envelope_sha256,
        expires=rfc3339(w.clock + timedelta(days=730)),
        mailbox=mailbox,
        publication=uuid.UUID(int=rng.getrandbits(128), version=4),
        address=address,
        signature=b64url(key.sign(raw).signature),
        key_id=key_id,
        fingerprint=fingerprint,
        submitted=submitted,
    )


# --- 2. measurements, each in a child process ---------------------------------------------------


def _memory_kib(field: str) -> int:
    """`VmRSS` (now) or `VmHWM` (peak) of this process image, KiB.

    Not ``ru_maxrss``: Linux carries it over from the parent across fork and
    exec, so a child would report the builder's peak instead of its own.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _measure_sha256(directory: Path) -> dict[str, Any]:
    """The floor: read the export line by line and SHA-256 each line once."""
    export = directory / "export.jsonl"
    started, cpu = time.perf_counter(), time.process_time()
    events = size = 0
    with export.open("rb") as handle:
        for line in handle:
            hashlib.sha256(line).digest()
            events += 1
            size += len(line)
    return {
        "events": events,
        "bytes": size,
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
    }


def _measure_export_audit(
    directory: Path, signatures: bool, name: str = "export.jsonl"
) -> dict[str, Any]:
    from ebox.domain.proofs.note import NoteVerifier
    from ebox.verifier.audit import LedgerAuditor
    from ebox.verifier.export import EnvelopeFile, read_checkpoints, read_export

    manifest = json.loads((directory / "manifest.json").read_text())
    auditor = LedgerAuditor(
        NoteVerifier(manifest["vkey"]),
        read_checkpoints(directory / "checkpoints.jsonl"),
        envelopes=EnvelopeFile(directory / "envelopes.jsonl") if signatures else None,
        verify_signatures=signatures,
        source="bench export",
    )
    cpu = time.process_time()
    result = auditor.run(read_export(directory / name))
    return _audit_figures(result, time.process_time() - cpu)


def _measure_db_audit(url: str, home: Path, signatures: bool) -> dict[str, Any]:
    os.environ["EBOX_HOME"] = str(home)
    from ebox.adapters.runtime import open_ledger
    from ebox.adapters.transparency import TransparencyLog
    from ebox.cli.audit_source import DatabaseAuditSource
    from ebox.domain.proofs.note import NoteVerifier
    from ebox.verifier.audit import LedgerAuditor

    ledger = open_ledger(url, home=home)
    try:
        source = DatabaseAuditSource(ledger)
        auditor = LedgerAuditor(
            NoteVerifier(TransparencyLog(ledger).vkey()),
            source.checkpoints(),
            envelopes=source.envelope,
            verify_signatures=signatures,
            witness=source,
            source="bench database",
        )
        cpu = time.process_time()
        result = auditor.run(source.entries())
        return _audit_figures(result, time.process_time() - cpu)
    finally:
        ledger.close()


def _audit_figures(result: Any, cpu: float) -> dict[str, Any]:
    if not result.ok:
        raise SystemExit(f"the audit failed on a valid ledger: {result.failure}")
    return {
        "events": result.events,
        "aggregates": result.aggregates,
        "checkpoints": result.checkpoints,
        "signatures": result.signatures_verified,
        "wall": result.elapsed,
        "cpu": cpu,
    }


def child(argv: Sequence[str]) -> None:
    """`bench/audit.py --child MODE ARGS...`: one measurement, printed as one JSON line."""
    mode, *rest = argv
    import ebox.verifier.audit
    import ebox.verifier.export

    if mode.startswith("db"):
        import ebox.cli.audit_source  # noqa: F401
    baseline = _memory_kib("VmRSS")
    if mode == "sha256":
        figures = _measure_sha256(Path(rest[0]))
    elif mode == "audit-jcs":
        figures = _measure_export_audit(Path(rest[0]), signatures=False, name="export-jcs.jsonl")
    elif mode in ("audit", "audit+signatures"):
        figures = _measure_export_audit(Path(rest[0]), signatures=mode.endswith("signatures"))
    elif mode in ("db", "db+signatures"):
        figures = _measure_db_audit(rest[0], Path(rest[1]), signatures=mode.endswith("signatures"))
    else:
        raise SystemExit(f"unknown mode {mode}")
    figures["rss_before_kib"] = baseline
    figures["rss_peak_kib"] = _memory_kib("VmHWM")
    print(json.dumps(figures))


def _run_child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"measurement {args[0]} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- 3. the run -----------------------------------------------------------------------------


@dataclass
class Row:
    ledger: str
    measure: str
    events: int
    aggregates: int
    wall_s: float
    events_per_s: float
    cpu_us_per_event: float
    peak_mib_above_start: float
    bytes_per_aggregate: float | None


def _row(ledger: str, measure: str, figures: dict[str, Any]) -> Row:
    extra = max(0, figures["rss_peak_kib"] - figures["rss_before_kib"]) * 1024
    aggregates = figures.get("aggregates", 0)
    return Row(
        ledger=ledger,
        measure=measure,
        events=figures["events"],
        aggregates=aggregates,
        wall_s=round(figures["wall"], 2),
        events_per_s=round(figures["events"] / figures["wall"]),
        cpu_us_per_event=round(figures["cpu"] / figures["events"] * 1e6, 1),
        peak_mib_above_start=round(extra / 2**20, 1),
        # only meaningful for an export: a database audit also holds SQLAlchemy's own caches
        bytes_per_aggregate=round(extra / aggregates)
        if aggregates and "export" in ledger
        else None,
    )


def _export(workdir: Path, events: int) -> Path:
    directory = workdir / f"export-{events}"
    manifest = directory / "manifest.json"
    if (
        manifest.exists()
        and json.loads(manifest.read_text()).get("requested") == events
        and (directory / "export-jcs.jsonl").exists()
    ):
        return directory
    started = time.perf_counter()
    files = build(directory, events)
    manifest.write_text(
        json.dumps(
            {
                "requested": events,
                "events": files.events,
                "aggregates": files.aggregates,
                "vkey": files.vkey,
            }
        )
    )
    print(
        f"  built {files.events:,} events ({files.aggregates:,} aggregates) in "
        f"{time.perf_counter() - started:.0f} s: {directory}",
        file=sys.stderr,
    )
    return directory


def _database(workdir: Path, letters: int) -> tuple[str, Path]:
    from ebox.adapters.runtime import open_ledger
    from ebox.cli.demo import run_demo

    home = workdir / "db-home"
    url = f"sqlite:///{home / 'ebox.sqlite'}"
    if not (home / "ebox.sqlite").exists():
        started = time.perf_counter()
        ledger = open_ledger(url, home=home)
        try:
            run_demo(ledger, letters, seed=7)
        finally:
            ledger.close()
        print(
            f"  built a {letters}-letter SQLite ledger in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    return url, home


def _print(rows: list[Row]) -> None:
    header = (
        "ledger",
        "measure",
        "events",
        "aggregates",
        "wall s",
        "events/s",
        "CPU us/event",
        "peak MiB",
        "bytes/aggregate",
    )
    table = [header] + [
        (
            r.ledger,
            r.measure,
            f"{r.events:,}",
            f"{r.aggregates:,}",
            f"{r.wall_s:.2f}",
            f"{r.events_per_s:,}",
            f"{r.cpu_us_per_event}",
            f"{r.peak_mib_above_start}",
            "" if r.bytes_per_aggregate is None else f"{r.bytes_per_aggregate:,}",
        )
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(line, widths, strict=True)))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark of `ebox audit` (see the docstring).")
    parser.add_argument("--events", type=int, default=1_000_000, help="the large export's size")
    parser.add_argument("--small", type=int, default=250_000, help="the small export's size")
    parser.add_argument(
        "--db-letters", type=int, default=1000, help="letters of the SQLite ledger (0: skip)"
    )
    parser.add_argument("--quick", action="store_true", help="20k and 80k events, 300 letters")
    parser.add_argument(
        "--workdir", type=Path, help="where to put the ledgers (default: temporary)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.small, args.db_letters = 80_000, 20_000, 300
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ebox-bench-audit-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; files in {workdir}",
        file=sys.stderr,
    )
    rows: list[Row] = []
    try:
        for size in (args.small, args.events):
            directory = _export(workdir, size)
            label = f"export {size:,}"
            sha = _run_child("sha256", str(directory))
            rows.append(_row(label, "SHA-256 of each line (floor)", sha))
            rows.append(_row(label, "audit, no signatures", _run_child("audit", str(directory))))
            rows.append(
                _row(
                    label, "same, canonical written as JCS", _run_child("audit-jcs", str(directory))
                )
            )
            rows.append(
                _row(label, "audit + signatures", _run_child("audit+signatures", str(directory)))
            )
        if args.db_letters:
            url, home = _database(workdir, args.db_letters)
            label = f"SQLite {args.db_letters} letters"
            rows.append(_row(label, "audit, no signatures", _run_child("db", url, str(home))))
            rows.append(
                _row(label, "audit + signatures", _run_child("db+signatures", url, str(home)))
            )
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    _print(rows)
    large = [r for r in rows if r.ledger == f"export {args.events:,}"]
    floor, plain = large[0], large[1]
    small_plain = next(
        r
        for r in rows
        if r.ledger == f"export {args.small:,}" and r.measure.startswith("audit, no")
    )
    print()
    print(f"audit / SHA-256 floor (large export): {plain.events_per_s / floor.events_per_s:.3f}")
    print(
        f"goal >= {GOAL_EVENTS_PER_SECOND:,} events/s without signatures: "
        f"{'met' if plain.events_per_s >= GOAL_EVENTS_PER_SECOND else 'NOT met'} "
        f"({plain.events_per_s:,} events/s)"
    )
    print(
        f"peak memory {small_plain.peak_mib_above_start} MiB at {small_plain.events:,} events "
        f"({small_plain.aggregates:,} aggregates), {plain.peak_mib_above_start} MiB at "
        f"{plain.events:,} events ({plain.aggregates:,} aggregates): O(aggregates), "
        f"~{plain.bytes_per_aggregate} bytes per aggregate, nothing kept per event"
    )
    print(f"load average after the run {os.getloadavg()[0]:.2f}")
    print(json.dumps({"bench": "audit", "results": [asdict(r) for r in rows]}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        sys.exit(main())
