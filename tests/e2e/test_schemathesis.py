"""Property-based run against our own served OpenAPI: no 5xx, no response that breaks it.

Schemathesis generates requests for every operation of /openapi.json (valid and
invalid ones) and sends them through the real app with real tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from ebox.projections.runtime import open_ledger
from tests.auth_helpers import app_settings, bearer, person_token_for, sender_token
from tests.builders import CITIZEN, SENDER_KBO, make_world

SENDER_PATHS = ("publishMessage", "linkEboxMessage", "searchMessageStatus")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    from ebox.api.app import create_app
    from ebox.projections.schema import upgrade

    home = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{home / 'ebox.sqlite'}"
    upgrade(url)
    ledger = open_ledger(url, home=home)
    world = make_world(ledger)
    for number in range(3):
        ledger.app.publish(world.letter(idempotency_key=f"s{number}"))
    DeliveryWorker(ledger).run_until_idle()
    ViewRunner(ledger).run_until_idle()
    app = create_app(ledger, app_settings())
    app.state.home = home
    with TestClient(app) as http:
        tokens = {
            "sender": sender_token(http, ledger, SENDER_KBO),
            "person": person_token_for(http, CITIZEN.id_value),
        }
    yield app, tokens
    ledger.close()


def test_no_server_error_and_no_response_outside_our_schema(
    served: tuple[FastAPI, dict[str, str]],
) -> None:
    app, tokens = served
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 20

    for operation in operations:
        role = "sender" if any(p in operation.path for p in SENDER_PATHS) else "person"
        _property_test(operation, bearer(tokens[role]))()


def _property_test(operation: Any, headers: dict[str, str]) -> Any:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )

    return check


def test_the_served_schema_documents_our_extensions(served: tuple[FastAPI, dict[str, str]]) -> None:
    app, _ = served
    paths = app.openapi()["paths"]
    assert "/ebox/citizen/v2/publishMessage" in paths
    assert "/oauth/token" in paths
