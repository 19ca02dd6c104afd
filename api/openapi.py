"""`/openapi.json` says what the API really answers: StatusMessage refusals, never FastAPI's 422.

FastAPI documents a 422 ``HTTPValidationError`` on every operation that takes
inputs, but ebox.api.errors answers a refused input with a 400 in the
contract's StatusMessage shape, and an unexpected failure with a 500 in that
shape too (its id is the operator's log line). The routes declare what is
theirs (their answer's `response_model`, their refusals through
`error_responses`); this module makes the document true of what every route
shares, as FastAPI's "Extending OpenAPI" recipe does (`app.openapi`
overridden, the document generated once):

- no 422, and no ``HTTPValidationError`` / ``ValidationError`` schemas;
- a 400 StatusMessage on every operation that takes a parameter or a body
  (the validation refusal), unless the route documents its own 400 (OAuth's
  token endpoint answers RFC 6749 errors there);
- a 413 StatusMessage on every operation that takes a body (ebox.api.limits);
- a 500 StatusMessage on every operation.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ebox.api.schemas import StatusMessage

VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

INVALID_INPUT = "Invalid data supplied: the StatusMessage names the refused input"
TOO_LARGE = "The body exceeds its limit (EBOX_MAX_REQUEST_BYTES, EBOX_MAX_UPLOAD_BYTES)"
INTERNAL_ERROR = (
    "Internal error: the StatusMessage's id names the operator's log line (with the "
    "request's X-Request-Id)"
)


def status_message_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StatusMessage"}}},
    }


def is_fastapi_validation(response: dict[str, Any] | None) -> bool:
    """FastAPI's own 422 (an HTTPValidationError), not one a route documents itself."""
    if response is None:
        return False
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def describe_refusals(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every operation's refusals as the error handlers answer them."""
    for item in document.get("paths", {}).values():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            validated = is_fastapi_validation(responses.get("422"))
            if validated:
                del responses["422"]  # a route's own 422 (a StatusMessage) stays
            takes_input = validated or operation.get("parameters") or operation.get("requestBody")
            if takes_input and "400" not in responses:
                responses["400"] = status_message_response(INVALID_INPUT)
            if operation.get("requestBody"):
                responses.setdefault("413", status_message_response(TOO_LARGE))
            responses.setdefault("500", status_message_response(INTERNAL_ERROR))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas.setdefault("StatusMessage", StatusMessage.model_json_schema())
    return document


def install(app: FastAPI) -> None:
    """Serve the described document at /openapi.json (generated once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_refusals(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    openapi_version=app.openapi_version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
