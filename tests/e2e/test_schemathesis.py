"""Property-based runs against our served /openapi.json and the official contract file.

Schemathesis generates requests for every operation (valid and invalid ones,
with the path's ids sometimes replaced by real ones, so that content, attachments
and reference data are reached, not only 404s) and sends them through the real
app with real tokens.

- Over /openapi.json: no 5xx, every status is one our document lists for the
  operation, and every response matches our own document.
- Over ../shared/reference/ebox-api/ebox-rest-2.1.yaml, as a client generated
  from it would call us, under both base paths (its `basePath` is the template
  ``/ebox/$domain/v$``): no 5xx, every status is one the contract lists for the
  operation, and every body is valid against the contract's schemas. What still
  differs from the contract file is in README.md, "Contract deviations".
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from ebox.adapters.runtime import open_ledger
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from tests.auth_helpers import (
    app_settings,
    bearer,
    client_token,
    person_token_for,
    register_test_client,
    sender_token,
)
from tests.builders import CITIZEN, ENTERPRISE, SENDER_KBO, make_world
from tests.contract import load

SENDER_PATHS = ("publishMessage", "linkEboxMessage", "searchMessageStatus")
EXAMPLES = 12


@dataclass
class Served:
    app: FastAPI
    tokens: dict[str, str]
    letters: dict[str, list[str]]  # per eBox domain, the ids of delivered letters

    def headers(self, path: str, domain: str = "citizen") -> dict[str, str]:
        if path.startswith("/admin/"):
            return bearer(self.tokens["admin"])
        if any(p in path for p in SENDER_PATHS):
            return bearer(self.tokens["sender"])
        headers = bearer(self.tokens["person"])
        if domain == "enterprise":
            headers["X-Ebox-Id"] = ENTERPRISE.id_value  # the person holds its mandate
        return headers


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from ebox.adapters.schema import upgrade
    from ebox.api.app import create_app

    home = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{home / 'ebox.sqlite'}"
    upgrade(url)
    ledger = open_ledger(url, home=home)
    world = make_world(ledger)
    ledger.app.grant_mandate("enterprise", ENTERPRISE.id_value, f"citizen:{CITIZEN.id_value}")
    letters = {
        domain: [
            ledger.app.publish(world.letter(recipient, idempotency_key=f"{domain}-{n}"))
            for n in range(3)
        ]
        for domain, recipient in (("citizen", CITIZEN), ("enterprise", ENTERPRISE))
    }
    DeliveryWorker(ledger).run_until_idle()
    ViewRunner(ledger).run_until_idle()
    app = create_app(ledger, app_settings())
    app.state.home = home
    with TestClient(app) as http:
        tokens = {
            "sender": sender_token(http, ledger, SENDER_KBO),
            "person": person_token_for(http, CITIZEN.id_value),
            "admin": client_token(http, register_test_client(ledger, "admin", "fuzz")),
        }
    yield Served(app, tokens, letters)
    ledger.close()


def with_real_ids(message_ids: list[str]) -> Callable[[tuple[Any, int | None]], Any]:
    """Replace a generated case's path ids by real ones when `pick` says so."""

    def replaced(drawn: tuple[Any, int | None]) -> Any:
        case, pick = drawn
        if pick is not None and case.path_parameters:
            known = {
                "messageId": message_ids[pick % len(message_ids)],
                "attachmentId": str(1 + pick % 2),
                "messageTypeId": "TAX",
                "senderApplicationId": "mybox-publisher",
                "senderOrganizationId": SENDER_KBO,
            }
            case.path_parameters = {k: known.get(k, v) for k, v in case.path_parameters.items()}
        return case

    return replaced


def run_operation(
    operation: Any, headers: dict[str, str], checks: list[Any], message_ids: list[str]
) -> None:
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=st.tuples(cases, st.none() | st.integers(0, 5)).map(with_real_ids(message_ids)))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    check()


def operations_of(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def test_no_server_error_and_no_response_outside_our_schema(served: Served) -> None:
    """Every status is one our document lists for the operation (no undocumented 422 or
    other), and every body matches the schema it gives for that status."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", served.app)
    operations = operations_of(schema)
    assert len(operations) > 20
    for operation in operations:
        domain = "enterprise" if "/enterprise/" in operation.path else "citizen"
        run_operation(
            operation,
            served.headers(operation.path, domain),
            [not_a_server_error, status_code_conformance, response_schema_conformance],
            served.letters[domain],
        )


@pytest.mark.parametrize("domain", ["citizen", "enterprise"])
def test_the_official_contract_file_finds_no_server_error_and_no_stray_answer(
    served: Served, domain: str
) -> None:
    contract = copy.deepcopy(load("ebox-rest-2.1.yaml"))
    assert contract["basePath"] == "/ebox/$domain/v$"  # a template: we fill it in
    contract["basePath"] = f"/ebox/{domain}/v2"
    schema = schemathesis.openapi.from_dict(contract)
    schema.app = served.app
    operations = operations_of(schema)
    assert len(operations) == 20
    for operation in operations:
        run_operation(
            operation,
            served.headers(operation.path, domain),
            [not_a_server_error, status_code_conformance, response_schema_conformance],
            served.letters[domain],
        )


def test_the_served_schema_documents_our_extensions(served: Served) -> None:
    paths = served.app.openapi()["paths"]
    assert "/ebox/citizen/v2/publishMessage" in paths
    assert "/oauth/token" in paths
