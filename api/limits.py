"""Refuse oversized requests before their body is read (413, StatusMessage).

Per-file limits are checked again after parsing; this guard stops a client from
making the server spool gigabytes to disk first.
"""

from __future__ import annotations

import json
from typing import Any

from ebox.api.contract import MAX_ATTACHMENTS
from ebox.api.errors import status_message

MULTIPART_OVERHEAD = 1024 * 1024


class BodySizeLimit:
    def __init__(self, app: Any, max_upload_bytes: int, environment: str) -> None:
        self.app = app
        self.limit = max_upload_bytes * MAX_ATTACHMENTS + MULTIPART_OVERHEAD
        self.environment = environment

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.limit:
                body = json.dumps(
                    status_message(
                        "PAYLOAD_TOO_LARGE",
                        f"request body exceeds {self.limit} bytes",
                        self.environment,
                    )
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
