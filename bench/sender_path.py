"""One sender, one letter per request: ms per publishMessage through the FastAPI app.

A quick probe of the single-letter path (issue 8, the fast path), not the HTTP
benchmark (bench/http_publish.py): the real app (`create_app`) in process
through Starlette's TestClient, one client, no workers, a signed letter with
one small PDF and an `Idempotency-Key` per request, on SQLite (a temporary
file) and PostgreSQL (a fresh database, dropped at the end). It prints ms per
letter (mean and p50/p95) and the process's CPU per letter after a warm-up; run
it under `py-spy record` to see
where the CPU goes::

    .venv/bin/python bench/sender_path.py --letters 300
    .venv/bin/py-spy record -r 200 -f raw -o /tmp/profile.txt -- \
        .venv/bin/python bench/sender_path.py --letters 300 --only sqlite
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from nacl.signing import SigningKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.schema import upgrade
from ebox.api.app import create_app
from ebox.api.settings import Settings
from ebox.domain.proofs.canonical import rfc3339
from ebox.domain.proofs.envelope import DocumentDigest, SubmissionEnvelope, sign_envelope

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.auth_helpers import sender_token

SENDER = "0308357159"
CITIZEN = ("citizen", "58102882214")
PDF = b"%PDF-1.4\n% Aanslagbiljet 2026: te betalen EUR 1.234,56\n" + b"x" * 2000
POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def onboard(ledger: Ledger) -> tuple[SigningKey, str]:
    app = ledger.app
    app.register_sender(SENDER, {"nl": "FOD Financiën"})
    app.register_application(SENDER, "mybox-publisher", {"en": "gateway"})
    for number in range(5):  # a sender of some history: the replay grows with it
        app.register_message_type(SENDER, f"TYPE{number}", {"nl": "x"}, "YEAR", 1)
    app.register_message_type(SENDER, "TAX", {"nl": "Aanslag"}, "YEAR", 2, True)
    key = SigningKey.generate()
    key_id = app.add_signing_key(SENDER, bytes(key.verify_key))
    app.open_mailbox(*CITIZEN)
    return key, key_id


def message(key: SigningKey, key_id: str, idempotency_key: str) -> str:
    digest = hashlib.sha256(PDF).digest()
    body: dict[str, Any] = {
        "recipient": {"eboxType": CITIZEN[0], "eboxIdValue": CITIZEN[1]},
        "subject": {"nl": "Uw aanslagbiljet", "fr": "Votre avertissement"},
        "messageTypeId": "TAX",
        "senderOrganizationId": SENDER,
        "senderApplicationId": "mybox-publisher",
        "attachments": [
            {
                "httpPartName": "upfile1",
                "mainContent": True,
                "digest": {
                    "digestMethod": "sha_256",
                    "digestValue": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
                },
            }
        ],
        "bodyMainContent": False,
        "replyAuthorized": False,
        "registeredMail": True,
    }
    submitted = rfc3339(datetime.now(UTC))
    envelope = SubmissionEnvelope(
        sender=SENDER,
        application="mybox-publisher",
        recipients=[":".join(CITIZEN)],
        message_type="TAX",
        subjects=body["subject"],
        documents=[
            DocumentDigest("aanslag.pdf", "application/pdf", hashlib.sha256(PDF).hexdigest())
        ],
        registered=True,
        submitted_at=submitted,
        idempotency_key=idempotency_key,
        extra={"reply_authorized": False, "body_main_content": False},
    )
    body["senderSignature"] = {
        "keyId": key_id,
        "signature": sign_envelope(envelope, key),
        "submissionTime": submitted,
    }
    return json.dumps(body)


USE_CASE_CPU: list[float] = []


def measure_use_case() -> None:
    """Time the thread CPU of the handler's database part (before: _publish; after: _submit)."""
    from ebox.api import publication

    name = "_submit" if hasattr(publication, "_submit") else "_publish"
    use_case = getattr(publication, name)

    def timed(*args: Any) -> Any:
        started = time.thread_time()
        try:
            return use_case(*args)
        finally:
            USE_CASE_CPU.append((time.thread_time() - started) * 1000)

    setattr(publication, name, timed)


def run(url: str, home: Path, letters: int, warmup: int) -> tuple[list[float], float]:
    """Wall-clock ms of each letter, and the process's CPU ms per letter (client included)."""
    USE_CASE_CPU.clear()
    ledger = open_ledger(url, home)
    try:
        key, key_id = onboard(ledger)
        settings = Settings(environment="bench", public_url="https://ebox.test")
        with TestClient(create_app(ledger, settings)) as http:
            http.app.state.home = home  # type: ignore[attr-defined]
            token = sender_token(http, ledger, SENDER)
            headers = {"Authorization": f"Bearer {token}"}
            timings = []
            cpu_started = 0.0
            for number in range(warmup + letters):
                if number == warmup:
                    cpu_started = time.process_time()
                idempotency_key = f"bench-{number}"
                data = {"messageToPublish": message(key, key_id, idempotency_key)}
                files = {"upfile1": ("aanslag.pdf", PDF, "application/pdf")}
                started = time.perf_counter()
                response = http.post(
                    "/ebox/enterprise/v2/publishMessage",
                    data=data,
                    files=files,
                    headers={**headers, "Idempotency-Key": idempotency_key},
                )
                elapsed = time.perf_counter() - started
                assert response.status_code == 201, response.text
                if number >= warmup:
                    timings.append(elapsed * 1000)
            cpu_ms = (time.process_time() - cpu_started) * 1000 / letters
        return timings, cpu_ms
    finally:
        ledger.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"ebox_sender_path_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(name: str, measured: tuple[list[float], float]) -> None:
    timings, cpu_ms = measured
    use_case = statistics.mean(USE_CASE_CPU[-len(timings) :])
    ordered = sorted(timings)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(
        f"{name}: {len(timings)} letters, mean {statistics.mean(timings):.2f} ms/letter, "
        f"p50 {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms, "
        f"CPU {cpu_ms:.2f} ms/letter (both sides, PostgreSQL's own excluded), "
        f"of which the use case's thread {use_case:.2f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    measure_use_case()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as directory:
            home = Path(directory)
            url = f"sqlite:///{home / 'ebox.sqlite'}"
            report("sqlite", run(url, home, args.letters, args.warmup))
    if args.only != "sqlite":
        with tempfile.TemporaryDirectory() as directory, postgres_database() as url:
            report("postgresql", run(url, Path(directory), args.letters, args.warmup))


if __name__ == "__main__":
    main()
