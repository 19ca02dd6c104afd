"""Signing in to the portal at a configured identity provider: code flow, PKCE, ID token.

The provider is a small but real one, on its own port (`FakeProvider`): a
discovery document, an authorization endpoint that signs in one chosen person
at once, a token endpoint that checks the client's authentication
(client_secret_post or private_key_jwt) and the PKCE verifier, and its JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.browser import PortalDemo, portal_demo
from tests.served import free_port, served

pytestmark = pytest.mark.slow
CLIENT_ID = "ebox-portal-test"
SECRET = "the-client-secret"


@dataclass
class FakeProvider:
    url: str
    person: str
    key: rsa.RSAPrivateKey
    client_key: rsa.RSAPrivateKey
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    def client_authenticated(self, form: dict[str, str]) -> bool:
        if form.get("client_secret") == SECRET:
            return True
        assertion = form.get("client_assertion")
        if not assertion:
            return False
        try:
            claims = jwt.decode(
                assertion,
                self.client_key.public_key(),
                algorithms=["RS256"],
                audience=f"{self.url}/token",
            )
        except jwt.PyJWTError:
            return False
        return bool(claims["iss"] == claims["sub"] == CLIENT_ID)


def handler_for(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def answer(self, status: int, body: Any = None, location: str | None = None) -> None:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            data = json.dumps(body).encode() if body is not None else b""
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self.answer(
                    200,
                    {
                        "issuer": provider.url,
                        "authorization_endpoint": f"{provider.url}/authorize",
                        "token_endpoint": f"{provider.url}/token",
                        "jwks_uri": f"{provider.url}/jwks",
                    },
                )
            elif parts.path == "/jwks":
                self.answer(200, provider.jwks())
            elif parts.path == "/authorize":
                assert query["client_id"] == CLIENT_ID
                assert query["code_challenge_method"] == "S256"
                code = secrets.token_urlsafe(16)
                provider.codes[code] = query
                target = (
                    f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                )
                self.answer(302, location=target)
            else:
                self.answer(404)

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            asked = provider.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if not provider.client_authenticated(form):
                provider.refusals.append("client")
                self.answer(401, {"error": "invalid_client"})
            elif asked is None or asked["code_challenge"] != challenge:
                provider.refusals.append("grant")
                self.answer(400, {"error": "invalid_grant"})
            else:
                now = int(time.time())
                claims = {
                    "iss": provider.url,
                    "aud": CLIENT_ID,
                    "sub": provider.person,
                    "nonce": asked["nonce"],
                    "iat": now,
                    "exp": now + 300,
                }
                token = jwt.encode(claims, provider.key, algorithm="RS256", headers={"kid": "k1"})
                self.answer(200, {"id_token": token, "access_token": "x", "token_type": "Bearer"})

    return Handler


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalDemo]:
    with portal_demo(tmp_path_factory.mktemp("portal-oidc")) as served_demo:
        yield served_demo


@pytest.fixture(scope="module")
def provider(demo: PortalDemo) -> Iterator[FakeProvider]:
    port = free_port()
    fake = FakeProvider(
        f"http://127.0.0.1:{port}",
        demo.person,
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def client_key_file(provider: FakeProvider, folder: Path) -> Path:
    path = folder / "portal-client.pem"
    path.write_bytes(
        provider.client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("authentication", ["client_secret_post", "private_key_jwt"])
def test_a_person_signs_in_at_the_configured_provider(
    demo: PortalDemo, provider: FakeProvider, tmp_path: Path, authentication: str
) -> None:
    env = {"EBOX_PORTAL_OIDC_ISSUER": provider.url, "EBOX_PORTAL_OIDC_CLIENT_ID": CLIENT_ID}
    if authentication == "client_secret_post":
        env["EBOX_PORTAL_OIDC_CLIENT_SECRET"] = SECRET
    else:
        env["EBOX_PORTAL_OIDC_PRIVATE_KEY_FILE"] = str(client_key_file(provider, tmp_path))
    with served(demo.home, env=env) as server, httpx.Client(timeout=30) as http:
        start = http.get(f"{server.url}/sign-in")
        assert start.status_code == 303
        assert start.headers["location"].startswith(f"{provider.url}/authorize?")
        inbox = http.get(f"{server.url}/sign-in", follow_redirects=True)
        assert str(inbox.url) == f"{server.url}/inbox"
        assert inbox.status_code == 200 and "/letters/" in inbox.text

        # The embedded issuer's development page is not there when a provider is.
        assert http.get(f"{server.url}/embedded-oidc/authorize").status_code == 404


def test_a_portal_that_cannot_authenticate_at_the_provider_signs_no_one_in(
    demo: PortalDemo, provider: FakeProvider
) -> None:
    env = {
        "EBOX_PORTAL_OIDC_ISSUER": provider.url,
        "EBOX_PORTAL_OIDC_CLIENT_ID": CLIENT_ID,
        "EBOX_PORTAL_OIDC_CLIENT_SECRET": "not-the-secret",
    }
    with served(demo.home, env=env) as server, httpx.Client(timeout=30) as http:
        answer = http.get(f"{server.url}/sign-in", follow_redirects=True)
        assert answer.status_code == 403
        assert http.get(f"{server.url}/inbox").status_code == 303
    assert provider.refusals[-1] == "client"
