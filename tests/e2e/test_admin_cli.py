"""`ebox admin client disable`, run as an operator would, against a served ledger.

The operator disables the demo's sender client while it holds a live token:
the API refuses that token at the next request, and new tokens too.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from ebox.adapters.runtime import open_ledger
from ebox.api.app import create_app
from ebox.api.oauth import make_client_assertion, token_endpoint
from tests.auth_helpers import app_settings, bearer, request_token
from tests.e2e.test_evidence_cli import ebox, ok

PROTECTED = "/ebox/enterprise/v2/referenceData/senderOrganizations"


def test_an_operator_disables_a_client_and_its_live_token_stops_at_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok(ebox(home, "demo", "--letters", "1", "--seed", "7"))
    credentials = json.loads((home / "demo-credentials.json").read_text())
    sender = credentials["sender_organization"]
    ledger = open_ledger(f"sqlite:///{home / 'ebox.sqlite'}", home=home)
    settings = app_settings()
    try:
        app = create_app(ledger, settings)
        app.state.home = home
        with TestClient(app) as http:
            assertion = make_client_assertion(
                sender["private_key_pem"].encode(), sender["client_id"], token_endpoint(settings)
            )
            token = request_token(http, assertion).json()["access_token"]
            assert http.get(PROTECTED, headers=bearer(token)).status_code == 200

            done = json.loads(
                ok(ebox(home, "admin", "client", "disable", sender["client_id"], "--json"))
            )
            assert done == {"client_id": sender["client_id"], "disabled": True}

            assert http.get(PROTECTED, headers=bearer(token)).status_code == 401
            again = make_client_assertion(
                sender["private_key_pem"].encode(), sender["client_id"], token_endpoint(settings)
            )
            assert request_token(http, again).status_code == 401
    finally:
        ledger.close()
    unknown = ebox(home, "admin", "client", "disable", "sender-nobody")
    assert unknown.returncode == 2 and "sender-nobody" in unknown.stderr
