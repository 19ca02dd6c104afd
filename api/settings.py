"""One validated settings object for the API process (full-stack-fastapi-template style)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

MAX_UPLOAD_BYTES_DEFAULT = 20 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    public_url: str = "http://127.0.0.1:8000"
    token_ttl_seconds: int = 3600
    max_upload_bytes: int = MAX_UPLOAD_BYTES_DEFAULT
    require_signature: bool = False
    oidc_issuer: str | None = None
    oidc_jwks_file: str | None = None
    max_lag: int = 10_000
    """Events a follower may lag behind before /health says degraded (EBOX_MAX_LAG)."""
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            environment=env.get("EBOX_ENVIRONMENT", "development"),
            public_url=env.get("EBOX_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            token_ttl_seconds=int(env.get("EBOX_TOKEN_TTL", "3600")),
            max_upload_bytes=int(env.get("EBOX_MAX_UPLOAD_BYTES", str(MAX_UPLOAD_BYTES_DEFAULT))),
            require_signature=env.get("EBOX_REQUIRE_SIGNATURE", "false").lower()
            in ("1", "true", "yes"),
            oidc_issuer=env.get("EBOX_OIDC_ISSUER") or None,
            oidc_jwks_file=env.get("EBOX_OIDC_JWKS_FILE") or None,
            max_lag=int(env.get("EBOX_MAX_LAG", "10000")),
        )
