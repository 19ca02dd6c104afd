"""The client side of bench/http_publish.py: senders publishing over HTTP, and the lag watch.

Each client is a thread with its own keep-alive `httpx.Client` per server and its
own bearer token (one token per OAuth client for the whole run: the token
endpoint is rate-limited per client). A client takes the next letter from a
shared queue, builds the `publishMessage` multipart as a real sender does (the
`messageToPublish` JSON with the attachment's SHA-256 and the `senderSignature`
over the submission envelope, signed with the sender's Ed25519 key at that
moment, then the PDF part) with its own `Idempotency-Key`, and sends it to the
next server in turn (round-robin when there are several). Only the request
itself is timed, from the call to the whole answer; the signing is the
sender's own work, outside the latency but inside the run's wall time, for the
ledger and the baseline alike.

`LagWatch` polls the ledger's database while letters are published: a letter
counts as done when its row in the inbox view is delivered (`receipt_date`
set) and the sealer's position has passed the `X-Ebox-Position` of its 201
(its Sent event is a Merkle leaf). The lag is the time from the client
receiving the 201 to the poll that saw both; the poll period bounds its
resolution.
"""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from ebox.adapters.tables import inbox_messages, tracking
from ebox.cli.demo import DemoSender
from ebox.domain.proofs.canonical import rfc3339
from ebox.domain.proofs.encryption import sha256_hex
from ebox.domain.proofs.envelope import DocumentDigest, SubmissionEnvelope, sign_envelope
from ebox.domain.publication import Recipient

PUBLISH_PATH = "/ebox/enterprise/v2/publishMessage"
APPLICATION = "mybox-publisher"
DOCUMENT_NAME = "brief.pdf"
LAG_POLL_SECONDS = 0.025
LAG_CHUNK = 500


@dataclass(frozen=True)
class Letter:
    """One letter to publish, prepared before the clock starts (the PDF is built once)."""

    recipient: Recipient
    message_type: str
    registered: bool
    subjects: dict[str, str]
    pdf: bytes


@dataclass(frozen=True)
class Sender:
    """A bench client: the organisation's signing key and its bearer token(s)."""

    organisation: DemoSender
    token: str


@dataclass
class Outcome:
    latency_s: float
    status: int
    done_at: float
    message_id: str | None = None
    position: int | None = None
    error: str | None = None


@dataclass
class LoadResult:
    clients: int
    wall_s: float
    outcomes: list[Outcome] = field(default_factory=list)
    client_cpu_s: float = 0.0

    @property
    def accepted(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 201]

    @property
    def letters_per_s(self) -> float:
        return len(self.accepted) / self.wall_s if self.wall_s > 0 else 0.0

    def errors(self) -> dict[str, int]:
        """Each refusal or failure as `status body`, counted."""
        counted: dict[str, int] = {}
        for o in self.outcomes:
            if o.status != 201:
                key = f"{o.status} {o.error or ''}".strip()
                counted[key] = counted.get(key, 0) + 1
        return counted


def b64url_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def publish_request(
    letter: Letter, sender: DemoSender, idempotency_key: str, sign: bool = True
) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """The multipart `publishMessage` of `letter`, signed by `sender` now (as cli/demo.py)."""
    body: dict[str, Any] = {
        "recipient": {
            "eboxType": letter.recipient.ebox_type,
            "eboxIdValue": letter.recipient.id_value,
        },
        "subject": letter.subjects,
        "messageTypeId": letter.message_type,
        "senderOrganizationId": sender.kbo,
        "senderApplicationId": APPLICATION,
        "attachments": [
            {
                "httpPartName": "upfile1",
                "mainContent": True,
                "digest": {"digestMethod": "sha_256", "digestValue": b64url_sha256(letter.pdf)},
            }
        ],
        "bodyMainContent": False,
        "replyAuthorized": False,
        "registeredMail": letter.registered,
    }
    if sign:
        submitted = rfc3339(datetime.now(UTC))
        envelope = SubmissionEnvelope(
            sender=sender.kbo,
            application=APPLICATION,
            recipients=[letter.recipient.address],
            message_type=letter.message_type,
            subjects=letter.subjects,
            documents=[DocumentDigest(DOCUMENT_NAME, "application/pdf", sha256_hex(letter.pdf))],
            registered=letter.registered,
            submitted_at=submitted,
            idempotency_key=idempotency_key,
            extra={"reply_authorized": False, "body_main_content": False},
        )
        body["senderSignature"] = {
            "keyId": sender.key_id,
            "signature": sign_envelope(envelope, sender.key),
            "submissionTime": submitted,
        }
    data = {"messageToPublish": json.dumps(body)}
    files = {"upfile1": (DOCUMENT_NAME, letter.pdf, "application/pdf")}
    return data, files


def run_load(
    bases: Sequence[str],
    senders: Sequence[Sender],
    letters: Sequence[Letter],
    warmup_per_client: int,
    on_accepted: Any = None,
) -> LoadResult:
    """Publish `letters` with one thread per sender; `on_accepted(outcome)` sees each 201.

    Each client first publishes `warmup_per_client` letters of its own (not
    timed, not counted: connections opened, code paths warm); then all start
    together and the wall time runs from that start to the last answer.
    """
    work: queue.SimpleQueue[Letter] = queue.SimpleQueue()
    for letter in letters:
        work.put(letter)
    start_line = threading.Barrier(len(senders) + 1)
    results: list[list[Outcome]] = [[] for _ in senders]
    failures: list[BaseException] = []

    def client(index: int, sender: Sender) -> None:
        https = [httpx.Client(base_url=base, timeout=60) for base in bases]
        turn = index
        try:
            for number in range(warmup_per_client):
                warm = letters[(index * warmup_per_client + number) % len(letters)]
                send(https[turn % len(https)], sender, warm)
                turn += 1
            start_line.wait()
            while True:
                try:
                    letter = work.get_nowait()
                except queue.Empty:
                    return
                outcome = send(https[turn % len(https)], sender, letter)
                turn += 1
                results[index].append(outcome)
                if outcome.status == 201 and on_accepted is not None:
                    on_accepted(outcome)
        except BaseException as error:
            failures.append(error)
            start_line.abort()
        finally:
            for http in https:
                http.close()

    threads = [
        threading.Thread(target=client, args=(i, s), daemon=True) for i, s in enumerate(senders)
    ]
    for thread in threads:
        thread.start()
    start_line.wait()
    cpu_start, started = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_start
    if failures:
        raise RuntimeError(f"a client failed: {failures[0]!r}") from failures[0]
    result = LoadResult(len(senders), wall, client_cpu_s=cpu)
    for outcomes in results:
        result.outcomes.extend(outcomes)
    return result


def send(http: httpx.Client, sender: Sender, letter: Letter) -> Outcome:
    key = f"bench-{uuid.uuid4().hex}"
    data, files = publish_request(letter, sender.organisation, key)
    headers = {"Authorization": f"Bearer {sender.token}", "Idempotency-Key": key}
    started = time.perf_counter()
    try:
        response = http.post(PUBLISH_PATH, data=data, files=files, headers=headers)
    except httpx.HTTPError as error:  # a dropped connection is a finding, not the end of the run
        done = time.perf_counter()
        return Outcome(done - started, 0, done, error=f"{type(error).__name__}: {error}"[:300])
    done = time.perf_counter()
    if response.status_code != 201:
        return Outcome(done - started, response.status_code, done, error=response.text[:300])
    position = response.headers.get("X-Ebox-Position")
    return Outcome(
        done - started,
        201,
        done,
        message_id=str(response.json()["messageId"]),
        position=int(position) if position else None,
    )


class LagWatch:
    """Polls the ledger database for each accepted letter: in the inbox view and sealed."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, poolclass=NullPool)
        self.pending: dict[str, Outcome] = {}
        self.lags: list[float] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.polls = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def expect(self, outcome: Outcome) -> None:
        with self.lock:
            self.pending[outcome.message_id or ""] = outcome

    def start(self) -> None:
        self.thread.start()

    def finish(self, timeout_s: float) -> int:
        """Wait (bounded) until every expected letter is done; the count still pending."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if not self.pending:
                    break
            time.sleep(0.05)
        self.stopping.set()
        self.thread.join(timeout=10)
        self.engine.dispose()
        with self.lock:
            return len(self.pending)

    def _run(self) -> None:
        with self.engine.connect() as connection:
            while not self.stopping.is_set():
                self._poll(connection)
                self.stopping.wait(LAG_POLL_SECONDS)

    def _poll(self, connection: Any) -> None:
        with self.lock:
            waiting = list(self.pending.items())
        if not waiting:
            return
        self.polls += 1
        sealed = connection.execute(
            select(tracking.c.position).where(tracking.c.name == "sealer")
        ).scalar()
        candidates = [
            message_id
            for message_id, o in waiting
            if sealed is not None and o.position is not None and o.position <= sealed
        ]
        in_inbox: set[str] = set()
        for start in range(0, len(candidates), LAG_CHUNK):
            chunk = candidates[start : start + LAG_CHUNK]
            rows = connection.execute(
                select(inbox_messages.c.message_id).where(
                    inbox_messages.c.message_id.in_(chunk),
                    inbox_messages.c.receipt_date.is_not(None),
                )
            )
            in_inbox.update(row[0] for row in rows)
        connection.rollback()  # a fresh snapshot at the next poll
        seen = time.perf_counter()
        if in_inbox:
            with self.lock:
                for message_id in in_inbox:
                    outcome = self.pending.pop(message_id, None)
                    if outcome is not None:
                        self.lags.append(seen - outcome.done_at)
