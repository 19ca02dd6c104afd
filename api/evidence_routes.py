"""GET /evidence/{messageId}: the evidence of notification, for its parties and auditors.

The sender of the letter, its recipient (or a mandate holder of that eBox) and
the audit scope may fetch it. A disclosure (data key and ciphertexts) lets
whoever holds the file read the letter, so only the two parties, who can read
it anyway, may ask for one. `Accept: application/pdf` gives the certificate.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Query
from fastapi.responses import Response

from ebox.adapters.certificate_seal import SealUnavailable
from ebox.adapters.evidence import EvidenceUnavailable, build_evidence
from ebox.adapters.runtime import Ledger
from ebox.adapters.transparency import NoCheckpoint, TransparencyLog
from ebox.api.certificates import issue_certificate
from ebox.api.deps import (
    AUDIT,
    CurrentPrincipal,
    EboxIdHeader,
    LedgerDep,
    SettingsDep,
    mailbox_access,
)
from ebox.api.ebox_routes import error_responses
from ebox.api.errors import ApiError
from ebox.api.settings import Settings
from ebox.api.tokens import Principal
from ebox.domain.errors import UnknownMessage


def _party(principal: Principal, ledger: Ledger, message_id: str, ebox_id: str | None) -> bool:
    """True for the sender or the recipient side; auditors pass without being a party."""
    message = ledger.app.message(message_id)
    if principal.kind == "sender":
        if principal.subject != message.sender:
            raise UnknownMessage(f"no message {message_id}")
        return True
    if principal.kind == "person":
        ebox_type = message.recipient.split(":", 1)[0]
        access = mailbox_access(principal, ebox_type, ledger, ebox_id)
        if str(access.mailbox.id) != message.mailbox_id:
            raise UnknownMessage(f"no message {message_id}")
        return True
    if AUDIT in principal.scopes:
        return False
    raise ApiError(403, "FORBIDDEN", "evidence is for the letter's parties and auditors")


router = APIRouter()


@router.get(
    "/evidence/{messageId}",
    tags=["Evidence"],
    summary="The ebox-evidence/v1 bundle (JSON) or its PDF certificate.",
    responses={
        200: {
            "description": "The bundle (JSON), or its certificate when Accept asks for a PDF",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **error_responses(401, 403, 404, 409),
    },
)
def evidence(
    messageId: str,
    principal: CurrentPrincipal,
    ledger: LedgerDep,
    settings: SettingsDep,
    ebox_id: EboxIdHeader = None,
    accept: Annotated[str | None, Header()] = None,
    disclose: Annotated[bool, Query()] = False,
) -> Response:
    pdf = bool(accept and "application/pdf" in accept)
    content = evidence_of(
        principal, ledger, settings, messageId, ebox_id, pdf=pdf, disclose=disclose
    )
    return Response(content, media_type="application/pdf" if pdf else "application/json")


def evidence_of(
    principal: Principal,
    ledger: Ledger,
    settings: Settings,
    message_id: str,
    ebox_id: str | None,
    *,
    pdf: bool,
    disclose: bool = False,
) -> bytes:
    """The bundle (JSON) or its sealed certificate, for a party or an auditor (the portal's too).

    The certificate's issuer and seal are the operator's settings.
    """
    party = _party(principal, ledger, message_id, ebox_id)
    if disclose and not party:
        raise ApiError(403, "FORBIDDEN", "only the letter's parties may ask for a disclosure")
    try:
        bundle = build_evidence(ledger, message_id, disclose=disclose)
    except (EvidenceUnavailable, NoCheckpoint) as error:
        raise ApiError(409, "NOT_YET_SEALED", str(error)) from None
    text = bundle.to_json()
    if pdf:
        return _pdf(text, TransparencyLog(ledger).vkey(), settings)
    return text.encode("utf-8")


def register(app: FastAPI) -> None:
    app.include_router(router)


def _pdf(text: str, vkey: str, settings: Settings) -> bytes:
    """The sealed certificate, in the mailbox's language (English beside it)."""
    from ebox.adapters.tsa import read_anchors
    from ebox.verifier.bundle import verify_bundle

    anchors = read_anchors(settings.tsa_ca_file) if settings.tsa_ca_file is not None else ()
    report = verify_bundle(text, vkey, anchors)
    try:
        identity = settings.sealing_identity()
    except SealUnavailable as error:  # names the setting and file, never the key
        raise ApiError(503, "SEAL_UNAVAILABLE", str(error)) from None
    return issue_certificate(report, text.encode("utf-8"), identity, settings.issuer)
