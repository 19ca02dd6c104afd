"""Where the contract file and a real client expect something, the API answers it.

- `PATCH /ebox/messages` without a body is the contract's 400, not a 415;
- attachment content is the contract's application/octet-stream when the client
  asks for it (a client generated from the contract does), and the document's
  own type otherwise;
- every operation that can answer 403 says so in /openapi.json (the contract
  names no 403 anywhere: an authenticated caller without the right is refused
  with 403, as RFC 6750 says, and the served document tells it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ebox.adapters.runtime import Ledger
from tests.auth_helpers import (
    api_client,
    auditor_token,
    bearer,
    partner_client_token,
    person_token_for,
    sender_token,
)
from tests.builders import CITIZEN, OTHER_KBO, SENDER_KBO
from tests.e2e.test_consultation_api import (
    BASE,
    NEIGHBOUR,
    PDF,
    Box,
    build_world,
    contract_body,
)


@pytest.fixture
def box(ledger: Ledger, ledger_home: Path) -> Iterator[Box]:
    letters = build_world(ledger)
    with api_client(ledger, ledger_home) as http:
        yield Box(ledger, http, **letters)


def test_patch_without_a_body_is_400(box: Box) -> None:
    for headers in (box.citizen(), box.citizen(**{"Content-Length": "0"})):
        empty = box.http.patch(f"{BASE}/ebox/messages", headers=headers)
        assert contract_body(empty, "patchMessagesByEBoxId", 400)["code"] == "INVALID_REQUEST"
    anonymous = box.http.patch(f"{BASE}/ebox/messages")
    contract_body(anonymous, "patchMessagesByEBoxId", 401)  # who asks comes first
    assert box.event_types(box.tax) == ["Sent", "Delivered"]


def test_attachment_content_as_octet_stream_when_asked(box: Box) -> None:
    url = f"/ebox/messages/{box.tax}/attachments/1/content"
    octets = box.get(url, headers=box.citizen(Accept="application/octet-stream"))
    assert contract_body(octets, "getAttachmentContentById", 200) == PDF.decode("latin-1")
    assert octets.headers["content-type"] == "application/octet-stream"
    assert octets.content == PDF
    assert box.event_types(box.tax)[-1] == "Read"  # the same handover, whatever the label

    for accept in (None, "*/*", "application/pdf, application/octet-stream;q=0.5"):
        headers = box.citizen() if accept is None else box.citizen(Accept=accept)
        own = box.get(url, headers=headers)
        assert own.headers["content-type"] == "application/pdf", accept
        assert own.content == PDF
        assert "Accept" in own.headers["vary"]


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                yield path, method, operation


def _concrete(path: str, message_id: str) -> str:
    return (
        path.replace("{messageId}", message_id)
        .replace("{attachmentId}", "1")
        .replace("{imageId}", "1")
        .replace("{messageTypeId}", "TAX")
        .replace("{senderOrganizationId}", SENDER_KBO)
        .replace("{senderApplicationId}", "mybox-publisher")
    )


# Required by the event feed, asked by evidence (a disclosure); ignored elsewhere.
QUERY = {"lastSequenceNbr": "0", "pageSize": "10", "disclose": "true"}


def _valid_input(operation_id: str, message_id: str) -> dict[str, Any]:
    """A well-formed request body, so that the call reaches the check of who may make it."""
    ebox = {"eboxType": "citizen", "eboxIdValue": CITIZEN.id_value}
    if operation_id.startswith("postMessage"):
        return {"data": {"messageToPublish": "{}"}, "files": {"upfile1": ("a.pdf", PDF)}}
    if operation_id.startswith("linkMessage"):
        return {"json": {"messageId": message_id, "recipients": [ebox]}}
    if operation_id.startswith("getStatus"):
        return {"json": [{"messageId": message_id, "eboxId": ebox}]}
    if operation_id.startswith("patchMessages"):
        return {"json": {"items": []}}
    return {}


def test_every_operation_that_answers_403_documents_it(box: Box) -> None:
    """Call each operation as roles that may not use it; every 403 met is documented."""
    served = box.http.get("/openapi.json").json()
    wrong_roles = [
        bearer(auditor_token(box.http, box.ledger)),
        bearer(person_token_for(box.http, NEIGHBOUR)),  # no party to box.tax
        bearer(sender_token(box.http, box.ledger, OTHER_KBO)),  # not box.tax's sender
        bearer(partner_client_token(box.http, box.ledger, "doccle")),
    ]
    forbidden: list[str] = []
    undocumented: list[str] = []
    for path, method, operation in _operations(served):
        if path.startswith(("/oauth", "/.well-known", "/health")):
            continue
        for headers in wrong_roles:
            response = box.http.request(
                method.upper(),
                _concrete(path, box.tax),
                headers=headers,
                params=QUERY,
                **_valid_input(operation.get("operationId", ""), box.tax),
            )
            if response.status_code == 403:
                forbidden.append(f"{method} {path}")
                if "403" not in operation.get("responses", {}):
                    undocumented.append(f"{method} {path}")
                break
    # consultation, publication, the event feed, the ledger's entries, evidence
    assert len(forbidden) >= 30, forbidden
    assert undocumented == []
