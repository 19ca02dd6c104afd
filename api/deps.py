"""Who may do what: FastAPI dependencies and the authorisation rules routes call.

Dependency aliases (full-stack-fastapi-template style)::

    def route(principal: CurrentPrincipal, ledger: LedgerDep, settings: SettingsDep,
              ebox_id: EboxIdHeader = None): ...

Scopes
------
``ebox:publication``
    Publish letters and follow their status. Held by *sender* clients only, and a
    sender publishes only as its own KBO number (`sender_kbo`) and sees only its
    own letters (`require_sender_of`).
``ebox:consultation``
    Read an eBox: list, open, archive messages. Held by *persons* (tokens of the
    OIDC provider, see ebox.api.oidc) and requested by partner clients; reading
    always happens for a person (`mailbox_access`).
``ebox:audit``
    Read the ledger's proofs, checkpoints and export. Held by *auditor* clients.
    An auditor never reads an eBox: the proofs need no content.

A kind never holds a scope outside its own (enforced at registration, at the
token endpoint, and again when a token is verified).

Reading an eBox (`mailbox_access`)
----------------------------------
- A person reads their own citizen eBox (``citizen:NRN``).
- A person holding a mandate (the mailbox's ``mandates`` has ``citizen:NRN``) may
  read that enterprise's or that other citizen's eBox, named with the header
  ``X-Ebox-Id: <eboxIdValue>`` (KBO or NRN), an extension of the contract whose
  routes otherwise name no mailbox: without it a person reads their own eBox,
  and an enterprise eBox always needs it.
- A partner app reads as the person using it: the person's token has
  ``azp = <partner id>``, and the eBox read must give that partner consent
  *now* (revoking consent cuts the partner off at the next request). A partner's
  own client-credentials token reads no eBox: a reading is always some
  person's (the ``reader`` recorded in the ledger), and a partner alone is no
  person. Partner clients exist for partner-level calls that name no eBox.
- Senders and auditors read no eBox.

The answer is a `MailboxAccess`: the mailbox, the reader (``citizen:NRN``) and
the channel: ``portal``, ``partner:<id>`` or ``mandate:citizen:<NRN>`` (a mandate
holder reading through a partner app gets ``partner:<id>``; the reader still
names them).

Refusals are StatusMessages: 401 with ``WWW-Authenticate: Bearer`` for a missing
or invalid token, 403 for a valid token that may not do this. A message of
another sender, or outside the mailbox read, answers 404: its existence is not
revealed.

A refused token gets one text and one fixed challenge (`bearer_challenge`),
whatever the reason: nothing of the token (its issuer, audience, any claim)
is ever written into an answer, so a header cannot be broken by what a caller
put in a token (RFC 7230 header values are Latin-1), and the answer lists no
trusted issuer and tells an expired token from a forged one to no one. The
reason is logged as a WARNING with the request id (ebox.api.request_id).

A client's access token (sender, partner, auditor) is good only while its
client is registered and enabled: each request looks the client up by its
primary key (`client_standing`), so disabling a client refuses its live
tokens at once, on every replica, and narrowing its scopes narrows them.
Person tokens come from the identity provider and name no client of ours.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ebox.adapters.clients import ADMIN, AUDIT, CONSULTATION, PUBLICATION, client_standing
from ebox.adapters.home import data_dir
from ebox.adapters.runtime import Ledger
from ebox.api.errors import ApiError
from ebox.api.metrics import refused_token
from ebox.api.mounting import EboxDomain
from ebox.api.oidc import OidcConfigurationError, PersonTokenVerifier
from ebox.api.request_id import current_request_id
from ebox.api.settings import Settings
from ebox.api.tokens import (
    ClientNotInGoodStanding,
    Principal,
    TokenError,
    TokenService,
    WrongIssuer,
    unverified_claims,
)
from ebox.domain.errors import NoDigitalUser
from ebox.domain.mailbox import EBOX_TYPES, Mailbox

__all__ = [
    "ADMIN",
    "AUDIT",
    "CONSULTATION",
    "PUBLICATION",
    "SCOPES",
    "CurrentPrincipal",
    "EboxDomain",
    "EboxIdHeader",
    "EventReader",
    "LedgerDep",
    "MailboxAccess",
    "MailboxInScope",
    "Principal",
    "SenderKbo",
    "SettingsDep",
    "mailbox_access",
    "require_kind",
    "require_message_in",
    "require_scope",
    "require_sender_of",
    "sender_kbo",
]

log = logging.getLogger("ebox.api.auth")

SCOPES = {
    PUBLICATION: "publish letters as the client's own sender organisation and follow their status",
    CONSULTATION: (
        "read an eBox as a person: one's own, or one held by mandate or consented to a partner"
    ),
    AUDIT: "read the ledger's proofs, checkpoints and export",
    ADMIN: "onboard senders, their keys, mailboxes, partners and clients (/admin/v1)",
}
REALM = "ebox"

# --------------------------------------------------------------------------- plumbing


@dataclass(frozen=True)
class Auth:
    tokens: TokenService
    persons: PersonTokenVerifier


_auth_lock = threading.Lock()


def home_of(app: FastAPI) -> Path:
    """The data directory holding the token keys: app.state.home, the ledger's, or $EBOX_HOME."""
    home = getattr(app.state, "home", None) or getattr(app.state.ledger, "home", None)
    return Path(home) if home is not None else data_dir()


def auth_of(app: FastAPI) -> Auth:
    """The app's token verifiers, built once (keys are created on first use)."""
    auth: Auth | None = getattr(app.state, "auth", None)
    if auth is None:
        with _auth_lock:
            auth = getattr(app.state, "auth", None)
            if auth is None:
                settings: Settings = app.state.settings
                home = home_of(app)
                auth = Auth(
                    TokenService.for_settings(settings, home),
                    PersonTokenVerifier.for_settings(settings, home),
                )
                app.state.auth = auth
    return auth


async def get_ledger(request: Request) -> Ledger:
    """Async because it only reads app state: a sync dependency costs a thread-pool hop."""
    return request.app.state.ledger  # type: ignore[no-any-return]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An access token of POST /oauth/token (clients) or of the OIDC provider (persons).",
)


# The one answer to every refused bearer token (RFC 6750 §3): fixed texts, no token content.
INVALID_TOKEN_MESSAGE = "the access token is invalid or has expired"
MISSING_TOKEN_MESSAGE = "a bearer access token is required"


def bearer_challenge(error: str | None = None) -> str:
    """The WWW-Authenticate value: built from constants only (RFC 6750 §3)."""
    if error is None:
        return f'Bearer realm="{REALM}"'
    if error != "invalid_token":
        raise ValueError(f"unknown bearer error code {error!r}")
    return (
        f'Bearer realm="{REALM}", error="invalid_token", '
        f'error_description="{INVALID_TOKEN_MESSAGE}"'
    )


def _unauthorized(error: str | None = None) -> ApiError:
    message = MISSING_TOKEN_MESSAGE if error is None else INVALID_TOKEN_MESSAGE
    return ApiError(
        401, "UNAUTHORIZED", message, headers={"WWW-Authenticate": bearer_challenge(error)}
    )


def remember_principal(request: Request, principal: Principal) -> None:
    """Keep a principal verified before the route (e.g. by the upload guard) for this request.

    `request.state` lives in the ASGI scope of this one request, so the route's
    `get_current_principal` answers it without verifying the token and reading
    the client's standing a second time.
    """
    request.state.principal = principal


async def get_current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's verified principal (`verify_principal`), verified once per request.

    Async so that a principal the upload guard verified costs no trip to the
    thread pool (a sync dependency always runs in one); the verification itself
    may read the database, so it runs there.
    """
    verified = getattr(request.state, "principal", None)
    if isinstance(verified, Principal):  # verified earlier in this request (upload guard)
        return verified
    return await run_in_threadpool(verify_principal, request, credentials)


def verify_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """Verify `Authorization: Bearer <token>`: an access token of ours or a person token."""
    if credentials is None or not credentials.credentials:
        log.info("no bearer token; request %s", current_request_id() or "-")
        refused_token("missing")
        raise _unauthorized()
    token = credentials.credentials
    try:
        auth = auth_of(request.app)
        issuer = unverified_claims(token).get("iss")
        if issuer == auth.tokens.issuer:
            return _in_good_standing(request.app.state.ledger, auth.tokens.verify(token))
        if issuer == auth.persons.issuer:
            return auth.persons.verify(token)
        raise WrongIssuer("the token's issuer is not trusted")
    except TokenError as error:
        # The reason for the operator, never the token nor a claim's value (error.reason
        # is a fixed word, error.message may quote the token's claims).
        log.warning(
            "bearer token refused: %s; address %s, request %s",
            error.reason,
            request.client.host if request.client else "-",
            current_request_id() or "-",
        )
        refused_token(error.reason)
        raise _unauthorized("invalid_token") from None
    except OidcConfigurationError as error:
        log.error("person tokens cannot be verified: %s", error)
        raise ApiError(503, "SERVICE_UNAVAILABLE", "person tokens cannot be verified now") from None


def _in_good_standing(ledger: Ledger, principal: Principal) -> Principal:
    """The principal of a client's token, if the client is still registered, same, enabled.

    Scopes are narrowed to what the client holds now.
    """
    standing = client_standing(ledger, principal.client_id)
    if (
        standing is None
        or standing.disabled
        or (standing.kind, standing.subject) != (principal.kind, principal.subject)
    ):
        raise ClientNotInGoodStanding("the token's client is disabled or no longer registered")
    return replace(principal, scopes=principal.scopes & standing.scopes)


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EboxIdHeader = Annotated[
    str | None,
    Header(
        alias="X-Ebox-Id",
        pattern=r"^[0-9]{10,11}$",
        description="Extension: the eboxIdValue (KBO or NRN) of an eBox read by mandate.",
    ),
]

# --------------------------------------------------------------------------- rules


def _forbidden(message: str, code: str = "FORBIDDEN") -> ApiError:
    return ApiError(403, code, message)


def require_scope(principal: Principal, scope: str) -> None:
    """403 (RFC 6750 insufficient_scope) unless the token holds `scope`."""
    if scope not in principal.scopes:
        raise ApiError(
            403,
            "INSUFFICIENT_SCOPE",
            f"this operation needs the scope {scope}",
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
                )
            },
        )


def require_kind(principal: Principal, *kinds: str) -> None:
    if principal.kind not in kinds:
        raise _forbidden(
            f"this operation is for {' or '.join(kinds)} principals, not {principal.kind}"
        )


def sender_kbo(principal: Principal, claimed: str | None = None) -> str:
    """The KBO number a sender client publishes as; 403 for anyone else or another KBO."""
    require_kind(principal, "sender")
    require_scope(principal, PUBLICATION)
    if claimed is not None and claimed != principal.subject:
        raise _forbidden(f"this client publishes only as sender {principal.subject}")
    return principal.subject


def require_sender_of(principal: Principal, message_sender: str) -> None:
    """A sender sees only its own letters: another sender's letter answers 404."""
    if sender_kbo(principal) != message_sender:
        raise ApiError(404, "NOT_FOUND", "no such message")


@dataclass(frozen=True)
class MailboxAccess:
    mailbox: Mailbox
    reader: str  # citizen:NRN of the person reading
    channel: str  # portal | partner:<id> | mandate:citizen:<NRN>

    @property
    def address(self) -> str:
        return self.mailbox.address


def mailbox_access(
    principal: Principal, ebox_type: str, ledger: Ledger, requested_ebox_id: str | None = None
) -> MailboxAccess:
    """The eBox this principal may read, per the rules of the module docstring."""
    if ebox_type not in EBOX_TYPES:
        raise ApiError(404, "NOT_FOUND", f"eBox type must be one of {EBOX_TYPES}")
    if principal.kind == "partner":
        raise _forbidden(
            "a partner app reads an eBox with the person's token (azp = its partner id), "
            "not with its own client credentials"
        )
    require_kind(principal, "person")
    require_scope(principal, CONSULTATION)
    reader = f"citizen:{principal.subject}"
    if ebox_type == "citizen" and requested_ebox_id in (None, principal.subject):
        try:
            mailbox = ledger.app.mailbox_for_reading("citizen", principal.subject)
        except NoDigitalUser:
            raise ApiError(404, "NO_DIGITAL_USER", "you have no eBox") from None
        channel = "portal"
    else:
        if requested_ebox_id is None:
            raise ApiError(
                400, "INVALID_REQUEST", "name the enterprise eBox with the X-Ebox-Id header"
            )
        refusal = _forbidden(
            f"{reader} holds no mandate for {ebox_type}:{requested_ebox_id}", "NO_MANDATE"
        )
        try:
            mailbox = ledger.app.mailbox_for_reading(ebox_type, requested_ebox_id)
        except NoDigitalUser:
            raise refusal from None  # whether an eBox exists is not revealed
        if reader not in mailbox.mandates:
            raise refusal
        channel = f"mandate:{reader}"
    if principal.partner_id is not None:
        if principal.partner_id not in mailbox.partners:
            raise _forbidden(
                f"{mailbox.address} gives partner {principal.partner_id} no consent", "NO_CONSENT"
            )
        channel = f"partner:{principal.partner_id}"
    return MailboxAccess(mailbox, reader, channel)


def require_message_in(access: MailboxAccess, message_mailbox_id: str) -> None:
    """A message outside the mailbox read answers 404 (pass `message.mailbox_id`)."""
    if str(message_mailbox_id) != str(access.mailbox.id):
        raise ApiError(404, "NOT_FOUND", "no such message")


# --------------------------------------------------------------------------- per request


def get_mailbox_in_scope(
    principal: CurrentPrincipal,
    ledger: LedgerDep,
    domain: EboxDomain,
    ebox_id: EboxIdHeader = None,
) -> MailboxAccess:
    """The eBox of the base path's type that this person may read (`mailbox_access`)."""
    return mailbox_access(principal, domain, ledger, ebox_id)


MailboxInScope = Annotated[MailboxAccess, Depends(get_mailbox_in_scope)]


async def get_sender(principal: CurrentPrincipal) -> str:
    """The KBO number of the sender client calling (scope ebox:publication); 403 otherwise.

    The scope is checked before the kind, as the publication routes (and the
    upload guard in front of publishMessage) always did: a token without
    ebox:publication is told so (INSUFFICIENT_SCOPE), whoever holds it.
    """
    require_scope(principal, PUBLICATION)
    return sender_kbo(principal)


SenderKbo = Annotated[str, Depends(get_sender)]


async def get_event_reader(principal: CurrentPrincipal) -> Principal:
    """A reader of the event API: an auditor (ebox:audit) or a partner client
    (ebox:consultation, its own token); anyone else 403 (see ebox.api.feed)."""
    if principal.kind == "auditor":
        require_scope(principal, AUDIT)
    elif principal.kind == "partner":
        require_scope(principal, CONSULTATION)
    else:
        raise _forbidden(
            "the event API is for partner applications (their client token) and auditors"
        )
    return principal


EventReader = Annotated[Principal, Depends(get_event_reader)]
