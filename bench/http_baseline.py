"""The baseline of bench/http_publish.py: the least a publishMessage endpoint does.

A minimal FastAPI app as its users write it: the same multipart request
(`messageToPublish` and `upfile1`), a bearer token checked (an Ed25519 JWT
verified with pyjwt: signature, audience, expiry, scope), the JSON parsed and
one row inserted per request (the message, the document and its SHA-256) into
a database of the same kind as the ledger's, in one transaction. No
envelope, no chain, no encryption, no follower: what the ledger is compared
against, served the same way (uvicorn, one process, the h11 protocol that
`ebox serve` uses).

Run by bench/http_publish.py as ``python -m bench.http_baseline --db URL --port P
--public-key FILE``; it serves until SIGINT.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, Form, Header, HTTPException, UploadFile
from sqlalchemy import (
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
)

AUDIENCE = "ebox-http-bench-baseline"
SCOPE = "ebox:publication"

metadata = MetaData()
baseline_letters = Table(
    "baseline_letters",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("idempotency_key", String(200), nullable=True, unique=True),
    Column("client_id", String(200), nullable=False),
    Column("message", Text, nullable=False),
    Column("document_name", String(200), nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("document", LargeBinary, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


def create_baseline_app(url: str, public_key_pem: bytes) -> FastAPI:
    """The baseline app on the database at `url` (its table created if missing)."""
    engine = create_engine(url)
    if url.startswith("sqlite"):
        # The ledger's SQLite (eventsourcing-sqlalchemy) runs in WAL mode: so does this.
        @event.listens_for(engine, "connect")
        def _wal(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    metadata.create_all(engine)
    public_key = serialization.load_pem_public_key(public_key_pem)
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/ebox/enterprise/v2/publishMessage", status_code=201)
    def publish_message(
        messageToPublish: Annotated[str, Form()],
        upfile1: UploadFile,
        authorization: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> dict[str, str]:
        claims = _claims(authorization, public_key)
        json.loads(messageToPublish)
        content = upfile1.file.read()
        message_id = str(uuid.uuid4())
        with engine.begin() as connection:
            connection.execute(
                insert(baseline_letters).values(
                    message_id=message_id,
                    idempotency_key=idempotency_key,
                    client_id=claims["sub"],
                    message=messageToPublish,
                    document_name=upfile1.filename or "upfile1",
                    document_sha256=hashlib.sha256(content).hexdigest(),
                    document=content,
                    received_at=datetime.now(UTC),
                )
            )
        return {"messageId": message_id}

    return app


def _claims(authorization: str | None, public_key: Any) -> dict[str, Any]:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "a bearer token is required")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, public_key, algorithms=["EdDSA"], audience=AUDIENCE
        )
    except jwt.PyJWTError:
        raise HTTPException(401, "invalid token") from None
    if SCOPE not in str(claims.get("scope", "")).split():
        raise HTTPException(403, "insufficient scope")
    return claims


def mint_baseline_token(private_key_pem: bytes, client_id: str, ttl: int = 3600) -> str:
    """What the baseline's (imaginary) token endpoint would issue to `client_id`."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": client_id, "aud": AUDIENCE, "scope": SCOPE, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, key, algorithm="EdDSA")  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="The HTTP publication baseline server.")
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--public-key", required=True, help="PEM file of the token key")
    args = parser.parse_args(argv)
    with open(args.public_key, "rb") as handle:
        app = create_baseline_app(args.db, handle.read())
    # As `ebox serve` (ebox.api.server.run_server): uvicorn, one process, h11, no access log.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=args.port, http="h11", log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
