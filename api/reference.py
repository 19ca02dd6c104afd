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

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

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


def _page(page: Page[Any], render: Any) -> JSONResponse:
    return JSONResponse(
        {"items": [render(item) for item in page.items], "totalItems": page.total_items}
    )


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


def described(definition: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": f"The contract's {definition}"}, **errors}


@router.get(
    "/messageTypes",
    name="getAllMessagesTypes_{domain}",
    response_model=MessageTypes,
    summary="The message types, one page.",
    responses=described("MessageTypes"),
)
def message_types(view: Catalogue, page: Page_ = 1, pageSize: PageSize = 25) -> JSONResponse:
    return _page(view.message_types(page, pageSize), message_type_json)


@router.get(
    "/messageTypes/{messageTypeId}",
    name="getMessageTypeById_{domain}",
    response_model=MessageType,
    summary="One message type.",
    responses=described("MessageType"),
)
def message_type(view: Catalogue, messageTypeId: MessageTypeId) -> JSONResponse:
    return JSONResponse(message_type_json(view.message_type(messageTypeId)))


@router.get(
    "/senderApplications",
    name="findAllSenderApplications_{domain}",
    response_model=SenderApplications,
    summary="The sender applications, one page.",
    responses=described("SenderApplications"),
)
def sender_applications(view: Catalogue, page: Page_ = 1, pageSize: PageSize = 25) -> JSONResponse:
    return _page(view.sender_applications(page, pageSize), sender_application_json)


@router.get(
    "/senderApplications/{senderApplicationId}",
    name="getSenderApplicationById_{domain}",
    response_model=SenderApplication,
    summary="One sender application.",
    responses=described("SenderApplication"),
)
def sender_application(view: Catalogue, senderApplicationId: SenderApplicationId) -> JSONResponse:
    return JSONResponse(sender_application_json(view.sender_application(senderApplicationId)))


@router.get(
    "/senderApplications/{senderApplicationId}/images/{imageId}/content",
    name="getImageForSenderApplication_{domain}",
    summary="An application's logo: none are kept yet, so always 404.",
    response_class=Response,
    responses=image_responses,
)
def sender_application_image(
    view: Catalogue, senderApplicationId: SenderApplicationId, imageId: ReferenceId
) -> JSONResponse:
    view.sender_application(senderApplicationId)  # an unknown application is 404 first
    raise no_image()


@router.get(
    "/senderOrganizations",
    name="findAllSenderOrganizations_{domain}",
    response_model=SenderOrganizations,
    summary="The sender organisations, one page.",
    responses=described("SenderOrganizations"),
)
def sender_organizations(view: Catalogue, page: Page_ = 1, pageSize: PageSize = 25) -> JSONResponse:
    return _page(view.sender_organizations(page, pageSize), sender_organization_json)


@router.get(
    "/senderOrganizations/{senderOrganizationId}",
    name="getSenderOrganizationById_{domain}",
    response_model=SenderOrganization,
    summary="One sender organisation (by KBO number).",
    responses=described("SenderOrganization"),
)
def sender_organization(view: Catalogue, senderOrganizationId: KboNumber) -> JSONResponse:
    return JSONResponse(sender_organization_json(view.sender_organization(senderOrganizationId)))


@router.get(
    "/senderOrganizations/{senderOrganizationId}/images/{imageId}/content",
    name="getImageForSenderOrganization_{domain}",
    summary="An organisation's logo: none are kept yet, so always 404.",
    response_class=Response,
    responses=image_responses,
)
def sender_organization_image(
    view: Catalogue, senderOrganizationId: KboNumber, imageId: ReferenceId
) -> JSONResponse:
    view.sender_organization(senderOrganizationId)  # an unknown organisation is 404 first
    raise no_image()


def register(app: FastAPI) -> None:
    mount_per_domain(app, router, "/ebox/{domain}/v2", "Reference data ({domain})")
