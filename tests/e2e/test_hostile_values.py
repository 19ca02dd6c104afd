"""No hostile value gets a 5xx from any route: every refusal is a 4xx in the contract's shape.

A property test (hypothesis) over every operation of the app's own OpenAPI
document, on SQLite and on PostgreSQL: each example sends one request to every
operation, with a valid token of the kind the route serves, and fills each
path, query, header and body parameter with either a valid value (so the
request reaches deeper code) or a hostile one of these classes: NUL and other
control characters, lone surrogates and bytes that are not UTF-8, integers
beyond 64 bits, dates that overflow in UTC, NaN and Infinity, nesting
thousands deep, very long strings and values of the wrong type.

A 4xx must be a StatusMessage (the token endpoint answers RFC 6749's error
object instead); a 503 only the documented NOT_YET_CONSISTENT. Finding 8 of
issue 7 found each of these classes giving a 500 somewhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ebox.adapters.runtime import Ledger
from ebox.api.client_assertion import ASSERTION_TYPE
from ebox.domain.proofs.canonical import b64url
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from tests.auth_helpers import (
    ClientKey,
    api_client,
    app_settings,
    assertion_for,
    auditor_token,
    bearer,
    client_token,
    person_token_for,
    register_test_client,
)
from tests.builders import CITIZEN, SENDER_KBO, make_world
from tests.contract import validate
from tests.e2e.test_publication_api import PDF, message_to_publish

EXAMPLES = 30
"""Examples per database, each one request to every operation (57 today): about 10 s each."""

# --------------------------------------------------------------------------- hostile values

DEEP = "[" * 5000 + "]" * 5000
CONTROL = ["\x00", "a\x00b", "\x01", "\x1b[31m", "\x7f", "\x85", "\r\n", "\u2028"]
SURROGATES = ["\ud800", "x\udfffy"]
HUGE_INTEGERS = [2**63, 2**64, 2**70, -(2**70), 10**400]
DATES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0000-01-01",
    "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:00+25:00",
    "1899-12-31T23:59:59Z",
    "2026-W01",
]
NOT_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "nan", "-0", "0x10"]
WRONG_TYPES = ["", " ", "true", "null", "[]", "{}", "-1", "0", "1.5", DEEP[:20]]
LONG = ["x" * 101, "é" * 1000, "9" * 5000, "a " * 4000]

hostile_text = st.one_of(
    st.sampled_from(CONTROL + SURROGATES),
    st.sampled_from(DATES + NOT_NUMBERS),
    st.sampled_from(WRONG_TYPES + LONG),
    st.sampled_from(HUGE_INTEGERS).map(str),
    st.text(st.characters(codec=None, categories=("Cc", "Cs", "Cf", "Zs", "L", "N")), max_size=40),
    st.just(DEEP),
)
"""Hostile values as text: what a path, query or header parameter carries."""

# Percent-encoded bytes that are not UTF-8 (an overlong NUL, a lone surrogate, junk).
URL_VALUE_LENGTH = 3000
RAW_URL_BYTES = ["%FF%FE", "%C0%80", "%ED%A0%80", "%00", "%", "%zz"]


def url_encoded(value: str) -> str:
    return quote(value, safe="", errors="surrogatepass")


def encodable(value: str) -> str:
    """What httpx can put in a form field or a file name (it refuses lone surrogates)."""
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


url_value = st.one_of(
    hostile_text.map(lambda v: url_encoded(v)[:URL_VALUE_LENGTH]), st.sampled_from(RAW_URL_BYTES)
)
"""Percent-encoded, cut (possibly inside an escape) so that a URL stays under httpx's 64 kB."""

PRINTABLE = re.compile(r"[\x20-\x7e]*")
header_value = st.one_of(
    st.sampled_from(
        [v for v in DATES + NOT_NUMBERS + WRONG_TYPES + LONG if PRINTABLE.fullmatch(v)]
        + [str(n) for n in HUGE_INTEGERS]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
)
"""Header values: what HTTP can carry at all (printable ASCII)."""

json_leaf = st.one_of(
    hostile_text,
    st.sampled_from(HUGE_INTEGERS),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, -0.0]),
    st.booleans(),
    st.none(),
    st.just(json.loads("[" * 200 + "]" * 200)),
)
hostile_json = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(hostile_text, children, max_size=3),
    ),
    max_leaves=8,
)
"""Hostile JSON values (json.dumps writes NaN and Infinity, as a careless client does)."""

RAW_BODIES = [DEEP, "NaN", "{", '{"items": NaN}', "[1e400]", str(2**70), "\x00", ""]

# --------------------------------------------------------------------------- the world


@dataclass
class Site:
    """The app under attack, with a delivered letter to aim valid values at."""

    http: TestClient
    tokens: dict[str, dict[str, str]]
    message_id: str
    spec: dict[str, Any]
    client: ClientKey
    """The sender's OAuth client: assertions signed by it reach the jti check."""

    def valid(self, name: str) -> str | None:
        """A valid value of a parameter, so a request gets past its first check."""
        return {
            "messageId": self.message_id,
            "attachmentId": "1",
            "messageTypeId": "TAX",
            "senderApplicationId": "mybox-publisher",
            "senderOrganizationId": SENDER_KBO,
            "imageId": "logo",
            "page": "1",
            "pageSize": "10",
            "lastSequenceNbr": "0",
            "index": "0",
            "first": "1",
            "second": "1",
            "receivedAfter": "2020-01-01",
            "startTime": "2020-01-01T00:00:00Z",
            "qlang": "nl",
            "X-Ebox-Id": CITIZEN.id_value,
        }.get(name)


@pytest.fixture
def site(ledger: Ledger, ledger_home: Path) -> Iterator[Site]:
    make_world(ledger)
    # Rate limits high enough that every token request reaches the checks behind them.
    limits = app_settings(
        max_upload_bytes=64 * 1024, oauth_address_burst=10_000, oauth_client_burst=10_000
    )
    with api_client(ledger, ledger_home, limits) as http:
        http.app.state.consistency_timeout = 1.0  # type: ignore[attr-defined]
        client = register_test_client(ledger, "sender", SENDER_KBO)
        sender = client_token(http, client)
        body = {"messageToPublish": json.dumps(message_to_publish())}
        published = http.post(
            "/ebox/citizen/v2/publishMessage",
            data=body,
            files={"upfile1": ("aanslag.pdf", PDF, "application/pdf")},
            headers=bearer(sender),
        )
        assert published.status_code == 201, published.text
        DeliveryWorker(ledger).run_until_idle()
        ViewRunner(ledger).run_until_idle()
        tokens = {
            "sender": bearer(sender),
            "person": bearer(person_token_for(http, CITIZEN.id_value)),
            "auditor": bearer(auditor_token(http, ledger)),
            "anonymous": {},
        }
        spec = http.get("/openapi.json").json()
        yield Site(http, tokens, published.json()["messageId"], spec, client)


def token_kind(path: str) -> str:
    """The kind of principal each route serves (see the README's scopes)."""
    if re.search(r"/v2/(publishMessage|linkEboxMessage|searchMessageStatus)$", path):
        return "sender"
    if "/v2/" in path:
        return "person"
    if path.endswith("/document/events") or path == "/ledger/entries":
        return "auditor"
    if path.startswith("/evidence/"):
        return "sender"
    return "anonymous"


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


# --------------------------------------------------------------------------- requests


def resolved(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            schema = next((s for s in schema[key] if s.get("type") != "null"), schema[key][0])
    return schema


def instance(draw: Any, spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """A value of the shape `schema` describes, with hostile values at some leaves."""
    schema = resolved(spec, schema)
    if depth > 4 or draw(st.integers(0, 4)) == 0:
        return draw(hostile_json)
    if schema.get("type") == "object" or "properties" in schema:
        return {
            name: instance(draw, spec, sub, depth + 1)
            for name, sub in schema.get("properties", {}).items()
            if draw(st.integers(0, 5)) > 0
        }
    if schema.get("type") == "array":
        count = draw(st.integers(0, 2))
        return [instance(draw, spec, schema.get("items", {}), depth + 1) for _ in range(count)]
    return draw(hostile_json)


def message_to_publish_text(draw: Any) -> str:
    """A valid messageToPublish with hostile values at a few places, or a hostile text."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(RAW_BODIES))
    body: dict[str, Any] = message_to_publish()
    optional = {
        "originalMessageId": None,
        "expirationDate": None,
        "bodyContent": {"nl": "tekst"},
        "forTheAttentionOf": {"id": CITIZEN.id_value},
        "businessDataList": [{"key": "k", "values": [{"nl": "v"}]}],
        "paymentData": {
            "paymentDataId": "p",
            "amount": 1.5,
            "vatAmount": 0,
            "currency": "EUR",
            "dueDate": "2030-01-31T00:00:00Z",
            "iban": "BE68539007547034",
        },
        "senderSignature": {"keyId": "k", "signature": "s", "submissionTime": "x"},
    }
    body.update({k: v for k, v in optional.items() if draw(st.booleans())})
    for _ in range(draw(st.integers(1, 3))):
        target = body
        while True:
            key = draw(st.sampled_from(sorted(target)))
            if isinstance(target[key], dict) and target[key] and draw(st.booleans()):
                target = target[key]
                continue
            target[key] = draw(hostile_json)
            break
    return json.dumps(body)


def client_assertion(draw: Any, site: Site) -> str:
    """Hostile text, a forged JWT with hostile claims, or the client's own with a hostile jti."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return encodable(draw(hostile_text))
    if kind == 1:
        claims = {name: draw(hostile_json) for name in ("iss", "sub", "aud", "exp", "jti")}
        if draw(st.booleans()):
            claims["sub"] = claims["iss"]
        header = {"alg": "EdDSA", "typ": "JWT"}
        parts = [json.dumps(header), encodable(json.dumps(claims)), "not a signature" * 4]
        return ".".join(b64url(part.encode()) for part in parts)
    return assertion_for(site.http, site.client, jti=encodable(draw(hostile_text)) or "j")


def request_of(draw: Any, site: Site, method: str, path: str, operation: dict[str, Any]) -> Any:
    url, query, headers = path, [], dict(site.tokens[token_kind(path)])
    for parameter in operation.get("parameters", []):
        name, where = parameter["name"], parameter["in"]
        valid = site.valid(name)
        choice = draw(st.integers(0, 3))
        if where == "path":
            value = url_encoded(valid) if valid and choice == 0 else draw(url_value)
            url = url.replace(f"{{{name}}}", value or "x")
        elif where == "query":
            if choice == 0 and not parameter.get("required"):
                continue
            value = url_encoded(valid) if valid and choice == 1 else draw(url_value)
            query.append(f"{name}={value}")
        elif where == "header" and choice > 1:
            headers[name] = draw(header_value)
    if query:
        url += "?" + "&".join(query)
    content = (operation.get("requestBody") or {}).get("content", {})
    options: dict[str, Any] = {"headers": headers}
    if "multipart/form-data" in content:
        filename = draw(st.one_of(st.just("aanslag.pdf"), hostile_text))
        media_type = draw(st.one_of(st.just("application/pdf"), header_value))
        options["data"] = {"messageToPublish": encodable(message_to_publish_text(draw))}
        options["files"] = {"upfile1": (encodable(filename), PDF, media_type)}
    elif "application/x-www-form-urlencoded" in content:
        usual = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "scope": "ebox:publication",
        }
        fields = {
            name: url_encoded(value) if draw(st.integers(0, 7)) else draw(url_value)
            for name, value in usual.items()
        }
        fields["client_assertion"] = url_encoded(client_assertion(draw, site))
        form = "&".join(f"{name}={value}" for name, value in fields.items())
        options["content"] = form.encode("ascii")
        options["headers"] = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    elif content:
        media_type = sorted(content)[-1]
        schema = content[media_type].get("schema", {})
        if draw(st.integers(0, 4)) == 0:
            text = draw(st.sampled_from(RAW_BODIES))
        else:
            text = json.dumps(instance(draw, site.spec, schema))
        options["content"] = text.encode("utf-8", errors="surrogatepass")
        options["headers"] = {**headers, "Content-Type": media_type}
    return url, options


def check(site: Site, method: str, path: str, url: str, options: dict[str, Any]) -> None:
    shown = f"{method} {url[:300]} {str(options)[:500]}"
    request = site.http.build_request(method, url, **options)
    try:
        response = site.http.send(request)
    except Exception as error:  # the server raised: it would have answered 500
        raise AssertionError(
            f"server error ({type(error).__name__}: {error}) for {shown}"
        ) from error
    status = response.status_code
    if status == 503:
        assert response.json()["code"] == "NOT_YET_CONSISTENT", shown
        return
    assert status < 500, f"{status} {response.text[:300]} for {shown}"
    if 400 <= status < 500:
        body = response.json()
        if path == "/oauth/token":
            assert isinstance(body.get("error"), str), f"{body} for {shown}"
        else:
            validate("StatusMessage", body)


# --------------------------------------------------------------------------- the property


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    # No shrinking: every request is reported as it was sent, and shrinking a request
    # to each of 57 operations takes minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_no_hostile_value_gets_a_server_error_from_any_route(site: Site, data: Any) -> None:
    every = operations(site.spec)
    assert len(every) >= 50, "the app's OpenAPI document lost its operations"
    for method, path, operation in every:
        url, options = request_of(data.draw, site, method, path, operation)
        check(site, method, path, url, options)
