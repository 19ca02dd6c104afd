"""`/openapi.json` describes every answer of the consultation, publication, reference-data
and event routes, and every refusal as the error handlers answer it (a StatusMessage: a 400
for a refused input, never FastAPI's 422; a 500 on every operation).

Each route declares its answer's schema (ebox.api.schemas, mirroring the
contract's definitions); these tests ask every one of those routes over HTTP,
under both base paths, and validate what it answers against the schema the
app's own document gives for that operation and status. A route that answers
something its documentation does not describe fails here, and so does a route
whose 200 is documented without a schema.

The world is the consultation tests' (`box`: a tax letter with attachments,
payment data and business data, a pension certificate with a body, a fine).
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from tests.auth_helpers import auditor_token, bearer, person_token_for, sender_token
from tests.builders import CITIZEN, ENTERPRISE, SENDER_KBO
from tests.e2e.test_consultation_api import BASE, ENTERPRISE_BASE, NEIGHBOUR, Box, box
from tests.e2e.test_publication_api import message_to_publish, publish

__all__ = ["box"]  # the fixture, shared with the consultation tests

# Every operation of those routers that answers a JSON body, by its name without the domain.
JSON_OPERATIONS = (
    "getEBoxById",
    "getMessagesByEBoxId",
    "getMessageById",
    "getAttachmentByMessageId",
    "getAttachmentById",
    "getBodyContent",
    "getPaymentDataByMessageId",
    "getAllMessagesTypes",
    "getMessageTypeById",
    "findAllSenderApplications",
    "getSenderApplicationById",
    "findAllSenderOrganizations",
    "getSenderOrganizationById",
)

# The sender's operations: each answers 201 with a JSON body.
PUBLICATION_OPERATIONS = ("postMessage", "linkMessage", "getStatus")


def openapi(box: Box) -> dict[str, Any]:
    document: dict[str, Any] = box.http.get("/openapi.json").json()
    return document


def operation(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    for item in document["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return op
    raise KeyError(operation_id)


def documented_schema(document: dict[str, Any], operation_id: str, status: int) -> dict[str, Any]:
    """The JSON schema `/openapi.json` gives for this answer; fails when there is none."""
    response = operation(document, operation_id)["responses"].get(str(status))
    assert response is not None, f"{operation_id} documents no {status}"
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    assert schema, f"{operation_id} documents its {status} without a schema"
    return {**schema, "components": document["components"]}


def assert_documented(document: dict[str, Any], operation_id: str, answer: httpx.Response) -> Any:
    """The answer is valid against what the app documents for its operation and status."""
    assert answer.headers["content-type"].startswith("application/json"), answer.text
    body = answer.json()
    schema = documented_schema(document, operation_id, answer.status_code)
    jsonschema.Draft202012Validator(schema).validate(body)
    return body


def test_every_json_answer_of_these_routers_has_a_schema(box: Box) -> None:
    document = openapi(box)
    for domain in ("citizen", "enterprise"):
        for name in JSON_OPERATIONS:
            documented_schema(document, f"{name}_{domain}", 200)
        documented_schema(document, f"getEbox{domain.capitalize()}DocumentEvents", 200)
        for name in PUBLICATION_OPERATIONS:
            documented_schema(document, f"{name}_{domain}", 201)
        for name in ("getImageForSenderApplication", "getImageForSenderOrganization"):
            ok = operation(document, f"{name}_{domain}")["responses"]["200"]
            # The contract's image content is bytes, never the JSON default of FastAPI.
            assert ok["content"] == {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            }


@pytest.mark.parametrize("base", [BASE, ENTERPRISE_BASE], ids=["citizen", "enterprise"])
def test_the_reference_data_answers_what_it_documents(box: Box, base: str) -> None:
    document = openapi(box)
    domain = base.split("/")[2]
    headers = box.citizen()

    def check(name: str, path: str) -> Any:
        answer = box.http.get(base + "/referenceData" + path, headers=headers)
        assert answer.status_code == 200, answer.text
        return assert_documented(document, f"{name}_{domain}", answer)

    assert check("getAllMessagesTypes", "/messageTypes")["totalItems"] >= 3
    check("getMessageTypeById", "/messageTypes/TAX")
    assert check("findAllSenderApplications", "/senderApplications")["items"]
    check("getSenderApplicationById", "/senderApplications/mybox-publisher")
    assert check("findAllSenderOrganizations", "/senderOrganizations")["items"]
    check("getSenderOrganizationById", f"/senderOrganizations/{SENDER_KBO}")


@pytest.mark.parametrize("base", [BASE, ENTERPRISE_BASE], ids=["citizen", "enterprise"])
def test_the_consultation_answers_what_it_documents(box: Box, base: str) -> None:
    """Both base paths: a person's own eBox, and an enterprise's read by mandate."""
    document = openapi(box)
    domain = base.split("/")[2]
    headers = box.citizen()
    letter: str = box.tax
    with_body: str | None = box.pension
    if domain == "enterprise":
        holder = f"citizen:{CITIZEN.id_value}"
        box.ledger.app.grant_mandate("enterprise", ENTERPRISE.id_value, holder)
        headers = box.citizen(**{"X-Ebox-Id": ENTERPRISE.id_value})
        letter, with_body = box.enterprise, None

    def check(name: str, path: str) -> Any:
        answer = box.get(path, base=base, headers=headers)
        assert answer.status_code == 200, answer.text
        return assert_documented(document, f"{name}_{domain}", answer)

    assert check("getEBoxById", "/ebox")["numberOfMessages"] >= 1
    assert check("getMessagesByEBoxId", "/ebox/messages")["items"]
    message = check("getMessageById", f"/ebox/messages/{letter}")
    assert "paymentData" in message and "businessDataList" in message
    attachments = check("getAttachmentByMessageId", f"/ebox/messages/{letter}/attachments")
    first = attachments["items"][0]["attachmentId"]
    check("getAttachmentById", f"/ebox/messages/{letter}/attachments/{first}")
    check("getPaymentDataByMessageId", f"/ebox/messages/{letter}/paymentData")
    if with_body is not None:
        assert check("getBodyContent", f"/ebox/messages/{with_body}/body")
        assert "forTheAttentionOf" in check("getMessageById", f"/ebox/messages/{box.fine}")


@pytest.mark.parametrize("domain", ["citizen", "enterprise"])
def test_the_event_feed_answers_what_it_documents(box: Box, domain: str) -> None:
    document = openapi(box)
    token = auditor_token(box.http, box.ledger)
    answer = box.http.get(
        f"/ebox/{domain}/document/events",
        params={"lastSequenceNbr": 0, "pageSize": 10},
        headers=bearer(token),
    )
    assert answer.status_code == 200, answer.text
    page = assert_documented(document, f"getEbox{domain.capitalize()}DocumentEvents", answer)
    assert page["EboxEnterpriseDocumentEvents"]


def test_a_refusal_answers_the_documented_status_message(box: Box) -> None:
    document = openapi(box)
    neighbour = bearer(person_token_for(box.http, NEIGHBOUR))
    answer = box.http.get(f"{BASE}/ebox/messages/{box.tax}", headers=neighbour)
    assert answer.status_code == 404, answer.text
    assert_documented(document, "getMessageById_citizen", answer)
    unnamed = box.get("/ebox", base=ENTERPRISE_BASE)
    assert unnamed.status_code == 400, unnamed.text
    assert_documented(document, "getEBoxById_enterprise", unnamed)


@pytest.mark.parametrize("base", [BASE, ENTERPRISE_BASE], ids=["citizen", "enterprise"])
def test_the_publication_answers_what_they_document(box: Box, base: str) -> None:
    """publishMessage, then linkEboxMessage with a refused recipient, then searchMessageStatus."""
    document = openapi(box)
    domain = base.split("/")[2]
    token = sender_token(box.http, box.ledger, SENDER_KBO)
    published = publish(box.http, token, message_to_publish())
    assert published.status_code == 201, published.text
    message_id = assert_documented(document, f"postMessage_{domain}", published)["messageId"]

    unknown = {"eboxType": "citizen", "eboxIdValue": "85073003328"}
    linked = box.http.post(
        f"{base}/linkEboxMessage",
        json={
            "messageId": message_id,
            "recipients": [{"eboxType": "enterprise", "eboxIdValue": ENTERPRISE.id_value}, unknown],
        },
        headers=bearer(token),
    )
    assert linked.status_code == 201, linked.text
    link = assert_documented(document, f"linkMessage_{domain}", linked)
    assert link["nbSuccessLinks"] == 1 and link["errorCases"] == [unknown]

    DeliveryWorker(box.ledger).run_until_idle()
    ViewRunner(box.ledger).run_until_idle()
    asked = [
        {
            "messageId": message_id,
            "eboxId": {"eboxType": "citizen", "eboxIdValue": CITIZEN.id_value},
        }
    ]
    status = box.http.post(f"{base}/searchMessageStatus", json=asked, headers=bearer(token))
    assert status.status_code == 201, status.text
    (row,) = assert_documented(document, f"getStatus_{domain}", status)
    assert row["messageId"] == message_id and row["readStatus"] is False


@pytest.mark.parametrize("operation_path", ["linkEboxMessage", "searchMessageStatus"])
def test_a_token_without_the_publication_scope_is_told_so_first(
    box: Box, operation_path: str
) -> None:
    """The scope is checked before the kind: a person (ebox:consultation) lacks the scope,
    and an auditor too, whatever else they are; the refusal is the documented StatusMessage."""
    document = openapi(box)
    name = {"linkEboxMessage": "linkMessage", "searchMessageStatus": "getStatus"}[operation_path]
    body: Any = (
        {"messageId": box.tax, "recipients": [{"eboxType": "citizen", "eboxIdValue": NEIGHBOUR}]}
        if operation_path == "linkEboxMessage"
        else [
            {
                "messageId": box.tax,
                "eboxId": {"eboxType": "citizen", "eboxIdValue": CITIZEN.id_value},
            }
        ]
    )
    for headers in (box.citizen(), bearer(auditor_token(box.http, box.ledger))):
        refused = box.http.post(f"{BASE}/{operation_path}", json=body, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "INSUFFICIENT_SCOPE"
        assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
        assert_documented(document, f"{name}_citizen", refused)


# --------------------------------------------------------------------------- refusals

# The refusals in a shape of their own: the OAuth token endpoint's RFC 6749 §5.2 errors
# ({"error": ...}), and /health's 503, which is its report (degraded or unavailable).
OWN_SHAPES = {("/oauth/token", "post"): {"400", "401", "429"}, ("/health", "get"): {"503"}}
STATUS_MESSAGE = {"$ref": "#/components/schemas/StatusMessage"}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    ]


def test_no_operation_documents_fastapis_422_and_every_refusal_is_a_status_message(
    box: Box,
) -> None:
    """What the error handlers answer: a refused input is a 400 StatusMessage (never FastAPI's
    422 HTTPValidationError), and every operation may answer a 500 StatusMessage."""
    document = openapi(box)
    assert not {"HTTPValidationError", "ValidationError"} & set(document["components"]["schemas"])
    assert "HTTPValidationError" not in str(document)
    found = operations(document)
    assert len(found) > 50
    for path, method, op in found:
        responses = op["responses"]
        where = f"{method.upper()} {path}"
        assert "500" in responses, where
        if op.get("parameters") or op.get("requestBody"):
            assert "400" in responses, where
        for status, response in responses.items():
            if int(status) < 400 or status in OWN_SHAPES.get((path, method), set()):
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == STATUS_MESSAGE, f"{where} {status}: {schema}"
    # The one 422 left is a route's own: an Idempotency-Key reused for another request.
    with_422 = {op["operationId"] for _, _, op in found if "422" in op["responses"]}
    assert with_422 == {"postMessage_citizen", "postMessage_enterprise"}


def test_refused_inputs_answer_the_documented_400(box: Box) -> None:
    """FastAPI's own validation (a bound, a missing form field) and the ledger routes' too."""
    document = openapi(box)
    page = box.get("/ebox/messages", params={"pageSize": 0})
    assert page.status_code == 400, page.text
    assert assert_documented(document, "getMessagesByEBoxId_citizen", page)["code"] == (
        "INVALID_REQUEST"
    )
    token = sender_token(box.http, box.ledger, SENDER_KBO)
    unnamed = box.http.post(f"{BASE}/publishMessage", data={}, headers=bearer(token))
    assert unnamed.status_code == 400, unnamed.text
    assert_documented(document, "postMessage_citizen", unnamed)
    limit = box.http.get("/ledger/checkpoints", params={"limit": 0})
    assert limit.status_code == 400, limit.text
    assert_documented(document, operation_at(document, "/ledger/checkpoints"), limit)


def test_a_reused_idempotency_key_answers_the_documented_422(box: Box) -> None:
    document = openapi(box)
    token = sender_token(box.http, box.ledger, SENDER_KBO)
    first = publish(box.http, token, message_to_publish(), idempotency_key="models-1")
    assert first.status_code == 201, first.text
    other = publish(
        box.http,
        token,
        message_to_publish(subject={"nl": "iets anders"}),
        idempotency_key="models-1",
    )
    assert other.status_code == 422, other.text
    assert assert_documented(document, "postMessage_citizen", other)["code"] == (
        "IDEMPOTENCY_KEY_REUSED"
    )


def test_the_ledger_answers_what_it_documents(box: Box) -> None:
    document = openapi(box)
    listed = box.http.get("/ledger/checkpoints")
    assert listed.status_code == 200, listed.text
    assert_documented(document, operation_at(document, "/ledger/checkpoints"), listed)
    health = box.http.get("/health")
    assert_documented(document, operation_at(document, "/health"), health)


def operation_at(document: dict[str, Any], path: str, method: str = "get") -> str:
    return str(document["paths"][path][method]["operationId"])
