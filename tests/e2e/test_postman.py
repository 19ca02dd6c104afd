"""The official Postman collection, run by newman against a real `ebox serve`.

`../shared/reference/ebox-api/publication-examples.postman_collection.json` is
the eBox team's own set of publication examples: five publishMessage requests
(a JPEG, a PDF for a citizen, a body only, a text file with business data, and
a body with six files of six types). A client nobody here wrote must get 201
for each, with answers that the contract file validates.

The collection runs unchanged but for what it leaves to its user: the endpoint
variable (given with `--env-var`), the bearer token (its `pasteYourTokenHere`
placeholder becomes a variable) and the files' paths. Its sender, application,
message types and mailboxes are onboarded first through the domain's use cases,
as `ebox demo` does.

Newman comes from npm: `scripts/install-newman` (run by `scripts/test`, and by
this test when newman is missing) installs it into `.ci/node`. Without node the
test is skipped, except under `CI=true`, where it fails.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from ebox.adapters.runtime import open_ledger
from ebox.projections.delivery import DeliveryWorker
from tests.auth_helpers import ClientKey, register_test_client, served_token
from tests.contract import REPO, reference_dir, validate_response
from tests.served import Server, served

COLLECTION = "publication-examples.postman_collection.json"
TOKEN_PLACEHOLDER = "pasteYourTokenHere"
TOKEN_VARIABLE = "eboxBearerToken"
ENDPOINT_VARIABLE = "EndpointEnterpriseMessageRegistryV2"
NEWMAN_TIMEOUT = 300  # seconds: liveness only

# What the collection publishes as and to (read from its messageToPublish parts).
SENDER = "0220916609"
APPLICATION = "document:management:consult:ws-eboxrestentreprise:0220916609"
MESSAGE_TYPES = ("TEST_PILOT_5_ENTERPRISE", "TEST_PILOT_5_CITIZEN")
MAILBOXES = (("enterprise", "0852093431"), ("enterprise", "0534530277"), ("citizen", "94022722580"))


# --------------------------------------------------------------------------- newman


NEWMAN = REPO / ".ci" / "node" / "node_modules" / ".bin" / "newman"
INSTALL_TIMEOUT = 600  # seconds: liveness only


def require_newman() -> list[str]:
    """newman from .ci/node, installed there with npm if need be; else skip or fail.

    Skipped only where node is absent, and never under CI=true.
    """
    in_ci = os.environ.get("CI", "").lower() == "true"
    if shutil.which("node") is None:
        if in_ci:
            pytest.fail("CI=true and node is missing: .ci/run installs nodejs and npm")
        pytest.skip("node is not installed: the Postman collection cannot run")
    if not NEWMAN.exists() and shutil.which("npm") is not None:
        subprocess.run(
            ["bash", str(REPO / "scripts" / "install-newman")],
            capture_output=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    if not NEWMAN.exists():
        pytest.fail(f"node is here but newman is not at {NEWMAN}: run scripts/install-newman")
    return [str(NEWMAN)]


# --------------------------------------------------------------------------- the files


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _jpeg(label: bytes) -> bytes:
    # SOI, a JFIF APP0 segment, a comment naming the file, EOI: the markers a reader checks.
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    comment = b"eBox test " + label
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + b"\xff\xd9"
    )


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"/>',
        )
    return buffer.getvalue()


def collection_files() -> dict[str, bytes]:
    """One small file per name the collection uploads, each with its format's signature."""
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    return {
        "JPGTestFile.jpg": _jpeg(b"jpg"),
        "JPEGTestFile.jpeg": _jpeg(b"jpeg"),
        "PNGTestFile.png": _png(),
        "TestFile1.pdf": pdf,
        "PDFTestFile.pdf": pdf,
        "TXTTestFile.txt": b"Testbestand voor eBox-publicatie.\n",
        "XLSXTestFile.xlsx": _xlsx(),
        "PPTTestFile.ppt": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
    }


# --------------------------------------------------------------------------- the collection


def official_collection() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((reference_dir() / COLLECTION).read_text())
    return loaded


def _file_parts(collection: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        part
        for item in collection["item"]
        for part in item["request"].get("body", {}).get("formdata", [])
        if part.get("type") == "file"
    ]


def localised(collection: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The collection with its token placeholder as a variable and its files in `folder`."""
    local = copy.deepcopy(collection)
    for entry in local["auth"]["bearer"]:
        if entry["key"] == "token":
            assert entry["value"] == TOKEN_PLACEHOLDER
            entry["value"] = "{{" + TOKEN_VARIABLE + "}}"
    for part in _file_parts(local):
        name = part["src"].replace("\\", "/").rsplit("/", 1)[-1]
        part["src"] = str(folder / name)
    return local


def _without_user_parts(collection: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(collection)
    for part in _file_parts(stripped):
        part.pop("src")
    stripped["auth"]["bearer"] = [e for e in stripped["auth"]["bearer"] if e["key"] != "token"]
    return stripped


# --------------------------------------------------------------------------- onboarding


def onboard(database_url: str, home: Path) -> ClientKey:
    """The collection's sender, application, message types and mailboxes, and a sender client."""
    ledger = open_ledger(database_url, home=home)
    try:
        app = ledger.app
        app.register_sender(SENDER, {"nl": "Testafzender", "fr": "Expéditeur de test"})
        app.register_application(SENDER, APPLICATION, {"en": "eBox REST publication"})
        for message_type in MESSAGE_TYPES:
            app.register_message_type(SENDER, message_type, {"nl": message_type}, "YEAR", 1)
        for ebox_type, id_value in MAILBOXES:
            app.open_mailbox(ebox_type, id_value)
        return register_test_client(ledger, "sender", SENDER)
    finally:
        ledger.close()


def sender_token_from(server: Server, client: ClientKey) -> str:
    """A bearer token from the server's own /oauth/token, with a client assertion."""
    return served_token(server.url, client.private_pem, client.client_id, kid=client.kid)


# --------------------------------------------------------------------------- the run


def run_newman(command: list[str], collection: Path, server: Server, token: str) -> dict[str, Any]:
    report = collection.with_name("newman-report.json")
    result = subprocess.run(
        [
            *command,
            "run",
            str(collection),
            "--env-var",
            f"{ENDPOINT_VARIABLE}={server.url}/ebox/enterprise/v2/",
            "--env-var",
            f"{TOKEN_VARIABLE}={token}",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--timeout-request",
            "60000",
        ],
        capture_output=True,
        text=True,
        timeout=NEWMAN_TIMEOUT,
        check=False,
    )
    assert report.exists(), f"newman wrote no report:\n{result.stdout}\n{result.stderr}"
    loaded: dict[str, Any] = json.loads(report.read_text())
    loaded["_cli"] = result.stdout + result.stderr
    return loaded


def response_body(execution: dict[str, Any]) -> Any:
    stream = execution["response"]["stream"]
    return json.loads(bytes(stream["data"]).decode("utf-8"))


def test_the_collection_is_changed_only_where_its_user_fills_it_in(tmp_path: Path) -> None:
    official = official_collection()
    local = localised(official, tmp_path)
    assert _without_user_parts(local) == _without_user_parts(official)
    assert {Path(p["src"]).name for p in _file_parts(local)} <= set(collection_files())


def test_newman_publishes_the_five_official_examples(sqlite_url: str, tmp_path: Path) -> None:
    command = require_newman()
    home = tmp_path / "home"
    files = tmp_path / "files"
    files.mkdir()
    for name, content in collection_files().items():
        (files / name).write_bytes(content)
    collection = tmp_path / COLLECTION
    collection.write_text(json.dumps(localised(official_collection(), files)))
    client = onboard(sqlite_url, home)

    with served(home, db=sqlite_url, workers=True) as server:
        report = run_newman(command, collection, server, sender_token_from(server, client))

    executions = report["run"]["executions"]
    answers = [(e["item"]["name"], e["response"]["code"]) for e in executions]
    assert [code for _, code in answers] == [201] * 5, (answers, report["_cli"])
    for execution in executions:
        body = response_body(execution)
        validate_response("postMessage", 201, body)
    assert report["run"]["failures"] == [], report["_cli"]

    # What was accepted is a letter in its mailbox, with the types newman uploaded.
    ledger = open_ledger(sqlite_url, home=home)
    try:
        DeliveryWorker(ledger).run_until_idle()
        published = [response_body(e)["messageId"] for e in executions]
        media_types = [
            [d["media_type"] for d in ledger.app.message(m).documents if d["kind"] == "attachment"]
            for m in published
        ]
        assert media_types[0] == ["image/jpeg"]
        assert "image/png" in media_types[4] and "image/jpeg" in media_types[4]
        assert all(ledger.app.message(m).delivered for m in published)
    finally:
        ledger.close()
