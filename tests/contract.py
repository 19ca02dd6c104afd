"""The eBox contract, loaded from the reference file itself (never a copy written by hand).

Responses in the HTTP tests are validated against the definitions of
../shared/reference/ebox-api/ebox-rest-2.1.yaml (Swagger 2.0, whose definitions
are JSON Schema draft 4) and the event API of ebox-enterprise-event-api-1.1.1.yaml.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[1]


def reference_dir() -> Path:
    shared = os.environ.get("EBOX_SHARED_DIR")
    base = Path(shared) if shared else REPO.parent / "shared"
    folder = base / "reference" / "ebox-api"
    if not folder.is_dir():
        raise FileNotFoundError(f"the eBox contract is not at {folder}")
    return folder


@functools.cache
def load(name: str = "ebox-rest-2.1.yaml") -> dict[str, Any]:
    with (reference_dir() / name).open() as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def _validator(name: str, document: str) -> jsonschema.Draft4Validator:
    definitions = load(document)["definitions"]
    schema = {"$ref": f"#/definitions/{name}", "definitions": definitions}
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def validate(name: str, instance: Any, document: str = "ebox-rest-2.1.yaml") -> None:
    """Raise jsonschema.ValidationError unless `instance` is a valid contract `name`."""
    _validator(name, document).validate(instance)


def response_schema(
    operation_id: str, status: int, document: str = "ebox-rest-2.1.yaml"
) -> dict[str, Any] | None:
    for item in load(document)["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                response = operation["responses"].get(status) or operation["responses"].get(
                    str(status)
                )
                if response is None:
                    raise AssertionError(f"{operation_id} has no {status} response in the contract")
                return response.get("schema")
    raise KeyError(operation_id)


def validate_response(
    operation_id: str, status: int, body: Any, document: str = "ebox-rest-2.1.yaml"
) -> None:
    """Validate a body against what the contract says `operation_id` answers with `status`."""
    schema = response_schema(operation_id, status, document)
    if schema is None:
        return
    definitions = load(document)["definitions"]
    jsonschema.Draft4Validator(
        {**schema, "definitions": definitions}, format_checker=jsonschema.FormatChecker()
    ).validate(body)
