"""`ebox sign`: a sender signs its messageToPublish before sending it (the origin proof).

The envelope is built by the very code the API uses to read a publication
(`publication_of` then `SubmissionEnvelope.of`), from the same JSON and the same
files with the same names and media types, so what is signed here is what the
ledger checks: no second description of the envelope to drift from the first.
The printed JSON is the messageToPublish with `senderSignature` added; send it
with the same files and the same `Idempotency-Key` (docs/OPERATIONS.md and the
README show the whole publication with curl).

Offline: no database, no data directory, no setting.
"""

from __future__ import annotations

import json
import mimetypes
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

SIGN_HELP = "Sign a messageToPublish with the sender's Ed25519 key (prints it signed)."


def _refused(message: str) -> typer.Exit:
    """One plain line on stderr and exit status 2: an everyday mistake, no traceback."""
    print(f"ebox sign: {message}", file=sys.stderr)
    return typer.Exit(2)


def _signing_key(path: Path) -> bytes:
    """The 32-byte Ed25519 seed of a PEM private key (openssl genpkey -algorithm ed25519)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        data = path.read_bytes()
    except OSError as error:
        raise _refused(f"cannot read {path}: {error.strerror}") from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise _refused(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _refused(f"{path} is not an Ed25519 key")
    return key.private_bytes_raw()


def _part(spec: str, position: int) -> tuple[str, str, str, bytes]:
    """`upfile1=path[;type=media/type]` -> part name, file name, media type, content."""
    name, sep, rest = spec.partition("=")
    if not sep:
        name, rest = f"upfile{position}", spec
    path_text, _, media = rest.partition(";type=")
    path = Path(path_text)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise _refused(f"cannot read {path}: {error.strerror}") from None
    media_type = media or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return name, path.name, media_type, content


def sign(
    message: Annotated[Path, typer.Argument(help="The messageToPublish JSON file.")],
    key: Annotated[Path, typer.Option("--key", help="The sender's Ed25519 private key (PEM).")],
    key_id: Annotated[
        str, typer.Option("--key-id", help="The key id the ledger gave the public key.")
    ],
    file: Annotated[
        list[str] | None,
        typer.Option(
            "--file",
            help="PART=PATH[;type=MEDIA] for each uploaded part, as curl -F sends it "
            "(PATH alone: upfile1, upfile2... in order).",
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="The Idempotency-Key you will send.")
    ] = None,
) -> None:
    """Print the messageToPublish with `senderSignature` (keyId, signature, submissionTime)."""
    from nacl.signing import SigningKey

    from ebox.api.errors import ApiError
    from ebox.api.publication_request import UploadedPart, publication_of
    from ebox.domain.proofs.canonical import rfc3339
    from ebox.domain.proofs.envelope import SubmissionEnvelope, sign_envelope

    try:
        body = json.loads(message.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise _refused(f"{message}: not a readable JSON file ({error})") from None
    if not isinstance(body, dict):
        raise _refused(f"{message}: a messageToPublish is a JSON object")
    seed = _signing_key(key)
    submitted = datetime.now(UTC)
    body.pop("senderSignature", None)
    body["senderSignature"] = {
        "keyId": key_id,
        "signature": "-",
        "submissionTime": rfc3339(submitted),
    }
    parts = {}
    for position, spec in enumerate(file or [], start=1):
        name, filename, media_type, content = _part(spec, position)
        parts[name] = UploadedPart(name, filename, media_type, content)
    try:
        publication = publication_of(
            json.dumps(body),
            parts,
            sender_kbo=str(body.get("senderOrganizationId", "")),
            client_id="-",
            idempotency_key=idempotency_key,
        )
    except ApiError as error:
        raise _refused(f"the publication would be refused: {error.message}") from None
    envelope = SubmissionEnvelope.of(publication)
    body["senderSignature"]["signature"] = sign_envelope(envelope, SigningKey(seed))
    print(json.dumps(body, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.command("sign", help=SIGN_HELP)(sign)
