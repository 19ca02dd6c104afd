"""Notification preferences: ``GET``/``PUT /ebox/{citizen,enterprise}/v2/ebox/preferences``.

An extension of the eBox API (the contract has no such route): the person
says where they are told of a new letter and in which language. The owner of
a citizen eBox, or a mandate holder of an enterprise eBox, with their own
token; a partner app may read them but not change them (403). Setting them is
the use case `EboxLedger.set_contact`, the one the portal's settings page and
`ebox admin mailbox` use too; a refused address or language is a 400
StatusMessage.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ebox.api.consultation import Reading
from ebox.api.errors import ApiError
from ebox.api.mounting import mount_per_domain
from ebox.api.schemas import error_responses

router = APIRouter()
"""Mounted under /ebox/citizen/v2 and /ebox/enterprise/v2 by `register` (ebox.api.mounting)."""


class Preferences(BaseModel):
    """Where and how the owner is told of new letters, reminders and expiry alerts."""

    email: str | None = Field(None, description="Contact address (null: no mail is sent)")
    language: Literal["nl", "fr", "de", "en"] | None = Field(
        None, description="Language of the mails (null: English)"
    )
    digest: bool = Field(
        False, description="New letters told in one mail a day instead of one mail per letter"
    )


def _json(c: Reading) -> JSONResponse:
    mailbox = c.ledger.app.mailbox(c.access.mailbox.ebox_type, c.access.mailbox.id_value)
    return JSONResponse(
        {
            "email": mailbox.email,
            "language": mailbox.language,
            "digest": bool(getattr(mailbox, "digest", False)),
        }
    )


@router.get(
    "/ebox/preferences",
    name="getPreferences_{domain}",
    response_model=Preferences,
    summary="Extension: the eBox's notification preferences (address, language, digest).",
    responses=error_responses(400, 401, 403, 404, 503),
)
def get_preferences(c: Reading) -> JSONResponse:
    return _json(c)


@router.put(
    "/ebox/preferences",
    name="putPreferences_{domain}",
    response_model=Preferences,
    summary="Extension: set the eBox's notification preferences (address, language, digest).",
    responses=error_responses(400, 401, 403, 404, 503),
)
def put_preferences(c: Reading, body: Preferences) -> JSONResponse:
    if c.access.channel.startswith("partner:"):
        raise ApiError(
            403, "FORBIDDEN", "a partner app may not change the eBox's notification preferences"
        )
    set_preferences(c, body)
    response = _json(c)
    response.headers.update(c.written())
    return response


def set_preferences(c: Reading, body: Preferences) -> None:
    """The use case, for this eBox (the portal calls `EboxLedger.set_contact` directly)."""
    mailbox = c.access.mailbox
    c.ledger.app.set_contact(
        mailbox.ebox_type, mailbox.id_value, body.email, body.language, body.digest
    )


def register(app: FastAPI) -> None:
    mount_per_domain(app, router, "/ebox/{domain}/v2", "Preferences ({domain})")
