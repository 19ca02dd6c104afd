"""One validated settings object for the API process (full-stack-fastapi-template style)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

MAX_UPLOAD_BYTES_DEFAULT = 20 * 1024 * 1024
# Bodies of the JSON routes (linkEboxMessage's 10,000 recipients are about 0.6 MiB).
MAX_REQUEST_BYTES_DEFAULT = 2 * 1024 * 1024
# Transport: a client gets this long to send a request's head, and this long between
# two pieces of its body; an idle keep-alive connection is closed after the third.
HEADER_TIMEOUT_DEFAULT = 10.0
BODY_TIMEOUT_DEFAULT = 30.0
KEEP_ALIVE_TIMEOUT_DEFAULT = 5.0
MAX_CONCURRENCY_DEFAULT = 500


def _positive(env: dict[str, str] | os._Environ[str], name: str, default: float) -> float:
    value = float(env.get(name, str(default)))
    if not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    public_url: str = "http://127.0.0.1:8000"
    token_ttl_seconds: int = 3600
    max_upload_bytes: int = MAX_UPLOAD_BYTES_DEFAULT
    max_request_bytes: int = MAX_REQUEST_BYTES_DEFAULT
    header_timeout_seconds: float = HEADER_TIMEOUT_DEFAULT
    body_timeout_seconds: float = BODY_TIMEOUT_DEFAULT
    keep_alive_timeout_seconds: float = KEEP_ALIVE_TIMEOUT_DEFAULT
    max_concurrency: int = MAX_CONCURRENCY_DEFAULT
    require_signature: bool = False
    oidc_issuer: str | None = None
    oidc_jwks_file: str | None = None
    # POST /oauth/token, per process (see ebox.api.rate_limit): a burst, then so many a minute.
    # Per address: every request; per client: requests whose assertion's signature verifies.
    oauth_address_burst: int = 30
    oauth_address_per_minute: float = 60.0
    oauth_client_burst: int = 10
    oauth_client_per_minute: float = 30.0
    max_lag: int = 10_000
    """Events a follower may lag behind before /health says degraded (EBOX_MAX_LAG)."""
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        max_concurrency = int(env.get("EBOX_MAX_CONCURRENCY", str(MAX_CONCURRENCY_DEFAULT)))
        if max_concurrency < 1:
            raise ValueError("EBOX_MAX_CONCURRENCY must be at least 1")
        return cls(
            environment=env.get("EBOX_ENVIRONMENT", "development"),
            public_url=env.get("EBOX_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            token_ttl_seconds=int(env.get("EBOX_TOKEN_TTL", "3600")),
            max_upload_bytes=int(env.get("EBOX_MAX_UPLOAD_BYTES", str(MAX_UPLOAD_BYTES_DEFAULT))),
            max_request_bytes=int(
                env.get("EBOX_MAX_REQUEST_BYTES", str(MAX_REQUEST_BYTES_DEFAULT))
            ),
            header_timeout_seconds=_positive(env, "EBOX_HEADER_TIMEOUT", HEADER_TIMEOUT_DEFAULT),
            body_timeout_seconds=_positive(env, "EBOX_BODY_TIMEOUT", BODY_TIMEOUT_DEFAULT),
            keep_alive_timeout_seconds=_positive(
                env, "EBOX_KEEP_ALIVE_TIMEOUT", KEEP_ALIVE_TIMEOUT_DEFAULT
            ),
            max_concurrency=max_concurrency,
            require_signature=env.get("EBOX_REQUIRE_SIGNATURE", "false").lower()
            in ("1", "true", "yes"),
            oidc_issuer=env.get("EBOX_OIDC_ISSUER") or None,
            oidc_jwks_file=env.get("EBOX_OIDC_JWKS_FILE") or None,
            oauth_address_burst=int(env.get("EBOX_OAUTH_ADDRESS_BURST", "30")),
            oauth_address_per_minute=float(env.get("EBOX_OAUTH_ADDRESS_PER_MINUTE", "60")),
            oauth_client_burst=int(env.get("EBOX_OAUTH_CLIENT_BURST", "10")),
            oauth_client_per_minute=float(env.get("EBOX_OAUTH_CLIENT_PER_MINUTE", "30")),
            max_lag=int(env.get("EBOX_MAX_LAG", "10000")),
        )
