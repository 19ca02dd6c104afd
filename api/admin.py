"""`/admin/v1`: onboarding over HTTP, for an operator's tools (scope `ebox:admin`).

The same operations as `ebox admin ...`, through the same use cases
(`EboxLedger` for every ledger event, ebox.adapters.onboarding for keys and
times, the client registry for OAuth clients). Every route first checks who
asks: an access token of an `admin` client holding `ebox:admin` (401 without
a valid token, 403 for anyone else). A mailbox is named in the body, never in
the path: a national register number in a URL ends up in every access and
proxy log. Refusals are StatusMessages: 400 bad
input (a wrong check digit names the rule), 404 an unknown sender, mailbox,
partner or client, 409 what already exists or is already so.

The first admin client is made on the command line (`ebox admin client add
admin NAME --key-out FILE`): an API cannot hand out its own first key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI

from ebox.adapters.clients import (
    ADMIN,
    ALLOWED_SCOPES,
    ClientError,
    UnknownClient,
    disable_client,
    get_client,
)
from ebox.adapters.mailbox_file import BadMailboxFile, mailbox_row
from ebox.adapters.onboarding import add_client, read_ed25519_public_key, read_moment
from ebox.api import admin_schemas as s
from ebox.api.deps import CurrentPrincipal, LedgerDep, Principal, require_kind, require_scope
from ebox.api.errors import ApiError
from ebox.api.schemas import error_responses
from ebox.domain.errors import NoDigitalUser, SigningKeyRevoked, UnknownSigningKey
from ebox.domain.ids import checked_ebox_id, checked_kbo_number, checked_national_register_number
from ebox.domain.mailbox import Mailbox

PREFIX = "/admin/v1"


def get_admin(principal: CurrentPrincipal) -> Principal:
    """The admin client calling (scope ebox:admin, kind admin); 403 for anyone else."""
    require_scope(principal, ADMIN)
    require_kind(principal, "admin")
    return principal


Admin = Annotated[Principal, Depends(get_admin)]
WRITE = error_responses(400, 401, 403, 404, 409)

router = APIRouter(prefix=PREFIX, tags=["Administration"], responses=WRITE)


# --------------------------------------------------------------------------- senders


@router.post("/senders", status_code=201, response_model=s.SenderAnswer)
def add_sender(body: s.NewSender, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    """Register a sender organisation (KBO number, check digits checked)."""
    number = checked_kbo_number(body.kboNumber)
    return {"kboNumber": number, "senderId": ledger.app.register_sender(number, body.names)}


@router.post("/senders/{kbo}/keys", status_code=201, response_model=s.SigningKeyAnswer)
def add_signing_key(kbo: str, body: s.NewSigningKey, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    """Add an Ed25519 signing key to a sender; answers its key id."""
    kbo = checked_kbo_number(kbo)
    raw = read_ed25519_public_key(body.publicKey)
    start = read_moment(body.validFrom, "validFrom")
    end = read_moment(body.validUntil, "validUntil")
    return {"kboNumber": kbo, "keyId": ledger.app.add_signing_key(kbo, raw, start, end)}


@router.post("/senders/{kbo}/keys/{key_id}/revocation", response_model=s.SigningKeyAnswer)
def revoke_signing_key(
    kbo: str, key_id: str, body: s.Revocation, ledger: LedgerDep, _: Admin
) -> dict[str, Any]:
    """Revoke a sender's signing key: letters it signs are refused from now on."""
    kbo = checked_kbo_number(kbo)
    try:
        ledger.app.revoke_signing_key(kbo, key_id, body.reason)
    except UnknownSigningKey as error:
        raise ApiError(404, "NOT_FOUND", error.message) from None
    except SigningKeyRevoked as error:
        raise ApiError(409, "CONFLICT", error.message) from None
    return {"kboNumber": kbo, "keyId": key_id, "revoked": True}


@router.post("/senders/{kbo}/applications", status_code=201, response_model=s.ApplicationAnswer)
def add_application(
    kbo: str, body: s.NewApplication, ledger: LedgerDep, _: Admin
) -> dict[str, Any]:
    kbo = checked_kbo_number(kbo)
    ledger.app.register_application(kbo, body.applicationId, body.names)
    return {"kboNumber": kbo, "applicationId": body.applicationId}


@router.post("/senders/{kbo}/messageTypes", status_code=201, response_model=s.MessageTypeAnswer)
def add_message_type(
    kbo: str, body: s.NewMessageType, ledger: LedgerDep, _: Admin
) -> dict[str, Any]:
    """Register a message type with its validity (90d, 3m, 1y)."""
    kbo = checked_kbo_number(kbo)
    unit, amount = ledger.app.register_message_type_for(
        kbo, body.messageTypeId, body.names, body.validity, body.registeredMail
    )
    return {
        "kboNumber": kbo,
        "messageTypeId": body.messageTypeId,
        "validityUnit": unit,
        "validityAmount": amount,
        "registeredMail": body.registeredMail,
    }


@router.put(
    "/senders/{kbo}/messageTypes/{message_type_id}/sensitivity",
    response_model=s.SensitivityAnswer,
)
def set_message_type_sensitivity(
    kbo: str, message_type_id: str, body: s.Sensitivity, ledger: LedgerDep, _: Admin
) -> dict[str, Any]:
    """Mark a message type sensitive (its mails name no subject) or not: idempotent."""
    kbo = checked_kbo_number(kbo)
    ledger.app.set_message_type_sensitivity(kbo, message_type_id, body.sensitive)
    return {"kboNumber": kbo, "messageTypeId": message_type_id, "sensitive": body.sensitive}


# --------------------------------------------------------------------------- mailboxes


@router.post("/mailboxes", status_code=201, response_model=s.MailboxAnswer)
def open_mailbox(body: s.NewMailbox, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    """Open an eBox (NRN or KBO number, check digits checked), with its key pair."""
    number = checked_ebox_id(body.eboxType, body.eboxIdValue)
    mailbox_id = ledger.app.open_mailbox(body.eboxType, number, body.email, body.language)
    return {"eboxType": body.eboxType, "eboxIdValue": number, "mailboxId": mailbox_id}


@router.post("/mailboxes/import", response_model=s.ImportAnswer)
def import_mailboxes(body: s.MailboxImport, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    """Open many eBoxes in one transaction: all checked first, those already open skipped."""
    rows = []
    for index, record in enumerate(body.mailboxes):
        try:
            rows.append(mailbox_row(index, record))
        except BadMailboxFile as error:
            raise ApiError(400, "INVALID_REQUEST", f"mailboxes[{index}]: {error.reason}") from None
    opened, already = ledger.app.open_mailboxes(rows)
    return {"rows": len(rows), "opened": opened, "alreadyOpen": already}


def _open_mailbox(ledger: LedgerDep, named: s.MailboxNamed) -> Mailbox:
    """The eBox the body names, open: 404 if never opened, 409 if closed."""
    mailbox = _mailbox(ledger, named)
    if mailbox.closed:
        raise ApiError(409, "CONFLICT", f"the eBox of {mailbox.address} is closed")
    return mailbox


def _mailbox(ledger: LedgerDep, named: s.MailboxNamed) -> Mailbox:
    """The eBox the body names: 404 if it was never opened (closed ones are found)."""
    number = checked_ebox_id(named.eboxType, named.eboxIdValue)
    try:
        return ledger.app.mailbox(named.eboxType, number)
    except NoDigitalUser:
        raise ApiError(404, "NOT_FOUND", f"{named.eboxType}:{number} has no eBox") from None


@router.post("/mailboxes/close", response_model=s.MailboxAnswer)
def close_mailbox(body: s.Closing, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    """Close an eBox: nothing is delivered to it any more (409 if already closed)."""
    mailbox = _open_mailbox(ledger, body)
    ledger.app.close_mailbox(mailbox.ebox_type, mailbox.id_value, body.reason)
    return {"eboxType": mailbox.ebox_type, "eboxIdValue": mailbox.id_value, "closed": True}


@router.post("/consents/grant", response_model=s.GrantAnswer)
def grant_consent(body: s.Consent, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    """Let a registered partner app read this eBox with its owner's token."""
    mailbox = _open_mailbox(ledger, body)
    ledger.app.partner(body.partnerId)
    ledger.app.grant_partner_consent(mailbox.ebox_type, mailbox.id_value, body.partnerId)
    return _grant(mailbox, True, partnerId=body.partnerId)


@router.post("/consents/revoke", response_model=s.GrantAnswer)
def revoke_consent(body: s.Consent, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    """Withdraw a partner app's consent: its next request for this eBox is refused."""
    mailbox = _mailbox(ledger, body)
    if body.partnerId not in mailbox.partners:
        raise ApiError(404, "NOT_FOUND", f"partner {body.partnerId} has no consent here")
    ledger.app.revoke_partner_consent(mailbox.ebox_type, mailbox.id_value, body.partnerId)
    return _grant(mailbox, False, partnerId=body.partnerId)


@router.post("/mandates/grant", response_model=s.GrantAnswer)
def grant_mandate(body: s.Mandate, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    """Let a person (national register number) read this eBox by mandate."""
    nrn = checked_national_register_number(body.holder)
    mailbox = _open_mailbox(ledger, body)
    ledger.app.grant_mandate(mailbox.ebox_type, mailbox.id_value, f"citizen:{nrn}")
    return _grant(mailbox, True, holder=nrn)


@router.post("/mandates/revoke", response_model=s.GrantAnswer)
def revoke_mandate(body: s.Mandate, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    nrn = checked_national_register_number(body.holder)
    mailbox = _mailbox(ledger, body)
    if f"citizen:{nrn}" not in mailbox.mandates:
        raise ApiError(404, "NOT_FOUND", f"citizen:{nrn} holds no mandate here")
    ledger.app.revoke_mandate(mailbox.ebox_type, mailbox.id_value, f"citizen:{nrn}")
    return _grant(mailbox, False, holder=nrn)


def _grant(mailbox: Mailbox, granted: bool, **who: str) -> dict[str, Any]:
    answer = {"eboxType": mailbox.ebox_type, "eboxIdValue": mailbox.id_value, "granted": granted}
    return answer | who


# --------------------------------------------------------------------------- partners, clients


@router.post("/partners", status_code=201, response_model=s.PartnerAnswer)
def add_partner(body: s.NewPartner, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    ledger.app.register_partner(body.partnerId, body.name)
    return {"partnerId": body.partnerId}


@router.post("/clients", status_code=201, response_model=s.ClientAnswer)
def add_oauth_client(body: s.NewClient, ledger: LedgerDep, _: Admin) -> dict[str, Any]:
    """Register an OAuth client for the public JWK given; the private key stays with the caller."""
    try:
        client_id = add_client(ledger, body.kind, body.subject, body.publicKey)
    except ClientError as error:
        raise ApiError(400, "INVALID_REQUEST", str(error)) from None
    return {
        "clientId": client_id,
        "kind": body.kind,
        "subject": body.subject,
        "scopes": sorted(ALLOWED_SCOPES[body.kind]),
    }


@router.post("/clients/{client_id}/disable", response_model=s.ClientAnswer)
def disable_oauth_client(client_id: str, ledger: LedgerDep, admin: Admin) -> dict[str, Any]:
    """Disable a client: no new token, its live tokens refused at once."""
    if client_id == admin.client_id:
        raise ApiError(409, "CONFLICT", "an admin client does not disable itself")
    try:
        disable_client(ledger, client_id)
        client = get_client(ledger, client_id)
    except UnknownClient:
        raise ApiError(404, "NOT_FOUND", f"no client {client_id}") from None
    return {
        "clientId": client.client_id,
        "kind": client.kind,
        "subject": client.subject,
        "scopes": sorted(client.scopes),
        "disabled": True,
    }


def register(app: FastAPI) -> None:
    app.include_router(router)
