"""The reference data of eBox REST 2.1: sender organisations, their applications, message types.

Routes, under ``/ebox/citizen/v2`` and ``/ebox/enterprise/v2`` alike (one
catalogue serves both):

- GET /referenceData/messageTypes: getAllMessagesTypes
- GET /referenceData/messageTypes/{messageTypeId}: getMessageTypeById
- GET /referenceData/senderApplications: findAllSenderApplications
- GET /referenceData/senderApplications/{senderApplicationId}: getSenderApplicationById
- GET /referenceData/senderApplications/{id}/images/{imageId}/content:
  getImageForSenderApplication
- GET /referenceData/senderOrganizations: findAllSenderOrganizations
- GET /referenceData/senderOrganizations/{senderOrganizationId}: getSenderOrganizationById
- GET /referenceData/senderOrganizations/{id}/images/{imageId}/content:
  getImageForSenderOrganization

The listings take the contract's ``page`` (from 1) and ``pageSize`` (1 to 100,
default 25) and nothing else: the contract defines no other filter on them.
They are sorted by identifier.

Who may read: any authenticated principal, whatever its kind or scopes. The
catalogue is what every letter's metadata points at (a citizen's portal names
the sender of a letter, a partner app shows its logo, a sender checks the
message types it may use), it holds no personal data, and a 401 still keeps
anonymous crawlers out, as the contract's 401 answers require.

Images: the ledger keeps no logos yet (the domain records no image), so the
image operations answer 404 ``IMAGE_NOT_FOUND`` (after a 404 for an unknown
organisation or application) and no ``*Logos`` array is ever shown.

Names are what the sender registered (a TranslatedString, possibly with
``en``); an organisation's short name is its registered name (no long name is
kept); validity periods are shown in the contract's lower-case units.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from ebox.api.consistency import MinPositionHeader, consistency_timeout, wait_for_view
from ebox.api.contract import MAX_PAGE_SIZE
from ebox.api.deps import CurrentPrincipal, LedgerDep
from ebox.api.errors import ApiError
from ebox.api.mounting import mount_per_domain
from ebox.api.schemas import (
    MessageType,
    MessageTypes,
    SenderApplication,
    SenderApplications,
    SenderOrganization,
    SenderOrganizations,
    contract_answer,
    error_responses,
)
from ebox.api.validation import KboNumber, MessageTypeId, ReferenceId, SenderApplicationId
from ebox.domain.limits import LIMITS
from ebox.projections.catalogue import (
    MessageTypeInfo,
    ReferenceCatalogue,
    SenderApplicationInfo,
    SenderOrganizationInfo,
)
from ebox.projections.runner import Page

Page_ = Annotated[int, Query(ge=1, le=LIMITS.page, description="The index of the page, from 1")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page, 1 to 100")]


def catalogue(
    request: Request,
    principal: CurrentPrincipal,
    ledger: LedgerDep,
    min_position: MinPositionHeader = None,
) -> ReferenceCatalogue:
    """The reference data, for any authenticated caller (see the module docstring)."""
    del principal  # authenticated is enough
    wait_for_view(ledger, "inbox", min_position, consistency_timeout(request))
    return ReferenceCatalogue.of(ledger)


Catalogue = Annotated[ReferenceCatalogue, Depends(catalogue)]


def message_type_json(info: MessageTypeInfo) -> dict[str, Any]:
    return {
        "messageTypeId": info.message_type_id,
        "messageTypeName": dict(info.names),
        "validityPeriod": {
            "validityPeriodNumber": info.validity_amount,
            "validityPeriodUnit": info.validity_unit.lower(),
        },
        "senderOrganizationIds": list(info.sender_organization_ids),
        "senderApplicationIds": list(info.sender_application_ids),
    }


def sender_application_json(info: SenderApplicationInfo) -> dict[str, Any]:
    return {
        "applicationId": info.application_id,
        "applicationName": dict(info.names),
        "senderOrganizationIds": list(info.sender_organization_ids),
        "messageTypeIds": list(info.message_type_ids),
    }


def sender_organization_json(info: SenderOrganizationInfo) -> dict[str, Any]:
    return {
        "organizationId": info.organization_id,
        "organizationShortName": dict(info.names),
        "senderApplicationIds": list(info.application_ids),
        "messageTypeIds": list(info.message_type_ids),
    }


def no_image() -> ApiError:
    return ApiError(404, "IMAGE_NOT_FOUND", "no image: this registry keeps no logos yet")


router = APIRouter(prefix="/referenceData")
"""Mounted under /ebox/citizen/v2 and /ebox/enterprise/v2 by `register` (ebox.api.mounting)."""

errors = error_responses(400, 401, 404, 503)


image_responses: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The image's bytes (the contract's); none are kept yet",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    **errors,
}


# The identifier of each kind, as its path names and bounds it: a dependency, so that one
# listing-and-lookup code serves the three kinds (validated with the route's other inputs).
def message_type_key(messageTypeId: MessageTypeId) -> str:
    return messageTypeId


def sender_application_key(senderApplicationId: SenderApplicationId) -> str:
    return senderApplicationId


def sender_organization_key(senderOrganizationId: KboNumber) -> str:
    return senderOrganizationId


# A dependency too: the image id is checked, and listed in /openapi.json, after its owner's.
def image_key(imageId: ReferenceId) -> str:
    return imageId


ImageKey = Annotated[str, Depends(image_key)]


@dataclass(frozen=True)
class Kind:
    """One kind of reference data: its paths, operation names, schemas and catalogue reads."""

    path: str  # "/messageTypes"; one item is under path/{key}
    key: Callable[..., str]  # the path's identifier (a dependency above)
    operations: tuple[str, str]  # listing, one item (the contract's operationIds)
    models: tuple[type[BaseModel], type[BaseModel]]
    summaries: tuple[str, str]
    listing: Callable[[ReferenceCatalogue, int, int], Page[Any]]
    lookup: Callable[[ReferenceCatalogue, str], Any]
    render: Callable[[Any], dict[str, Any]]
    image: tuple[str, str] | None = None  # its logo's operation and summary, if it has one

    @property
    def key_name(self) -> str:
        return next(iter(inspect.signature(self.key).parameters))


KINDS = (
    Kind(
        "/messageTypes",
        message_type_key,
        ("getAllMessagesTypes", "getMessageTypeById"),
        (MessageTypes, MessageType),
        ("The message types, one page.", "One message type."),
        ReferenceCatalogue.message_types,
        ReferenceCatalogue.message_type,
        message_type_json,
    ),
    Kind(
        "/senderApplications",
        sender_application_key,
        ("findAllSenderApplications", "getSenderApplicationById"),
        (SenderApplications, SenderApplication),
        ("The sender applications, one page.", "One sender application."),
        ReferenceCatalogue.sender_applications,
        ReferenceCatalogue.sender_application,
        sender_application_json,
        (
            "getImageForSenderApplication",
            "An application's logo: none are kept yet, so always 404.",
        ),
    ),
    Kind(
        "/senderOrganizations",
        sender_organization_key,
        ("findAllSenderOrganizations", "getSenderOrganizationById"),
        (SenderOrganizations, SenderOrganization),
        ("The sender organisations, one page.", "One sender organisation (by KBO number)."),
        ReferenceCatalogue.sender_organizations,
        ReferenceCatalogue.sender_organization,
        sender_organization_json,
        (
            "getImageForSenderOrganization",
            "An organisation's logo: none are kept yet, so always 404.",
        ),
    ),
)


def routes_of(kind: Kind) -> None:
    """The listing, the lookup and (if the kind has logos) the image route of one kind."""
    Key = Annotated[str, Depends(kind.key)]
    item_path = f"{kind.path}/{{{kind.key_name}}}"
    (listing_model, item_model), (listing_summary, item_summary) = kind.models, kind.summaries

    @router.get(
        kind.path,
        name=f"{kind.operations[0]}_{{domain}}",
        response_model=listing_model,
        summary=listing_summary,
        responses=contract_answer(listing_model.__name__, errors),
    )
    def listing(view: Catalogue, page: Page_ = 1, pageSize: PageSize = 25) -> JSONResponse:
        found = kind.listing(view, page, pageSize)
        items = [kind.render(item) for item in found.items]
        return JSONResponse({"items": items, "totalItems": found.total_items})

    @router.get(
        item_path,
        name=f"{kind.operations[1]}_{{domain}}",
        response_model=item_model,
        summary=item_summary,
        responses=contract_answer(item_model.__name__, errors),
    )
    def item(view: Catalogue, key: Key) -> JSONResponse:
        return JSONResponse(kind.render(kind.lookup(view, key)))

    if kind.image is None:
        return

    @router.get(
        f"{item_path}/images/{{imageId}}/content",
        name=f"{kind.image[0]}_{{domain}}",
        summary=kind.image[1],
        response_class=Response,
        responses=image_responses,
    )
    def image(view: Catalogue, key: Key, image: ImageKey) -> Response:
        del image  # bounded, and never found
        kind.lookup(view, key)  # an unknown organisation or application is 404 first
        raise no_image()


for _kind in KINDS:
    routes_of(_kind)


def register(app: FastAPI) -> None:
    mount_per_domain(app, router, "/ebox/{domain}/v2", "Reference data ({domain})")
