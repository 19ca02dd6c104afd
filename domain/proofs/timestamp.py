"""RFC 3161 time-stamp tokens over checkpoints: the request, the reply, the token's checks.

What is stamped is a checkpoint's *body*: the signed text of the note up to and
including its last body line's newline, without any signature line, so that
witness cosignatures added to the note later do not change what was stamped.
The message imprint is SHA-256 of that body.

Both sides use this module: the timestamper checks a reply before it stores the
token (``ebox.adapters.tsa``), and the offline verifier checks the stored token
again (``ebox.verifier.trusted_time``), trusting nothing the ledger says. The
CMS signature and the TSA's certificate chain are checked with pyHanko and its
certificate validator (asn1crypto underneath): no code of ours parses DER.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from asn1crypto import cms, core, tsp, x509

from ebox.domain.proofs.errors import ProofError

SHA256 = "sha256"
T = TypeVar("T")

# pyHanko logs each refusal with its traceback; the refusal is ours to say, in one line.
logging.getLogger("pyhanko").addHandler(logging.NullHandler())


class TimestampError(ProofError):
    """A time-stamp reply or token that does not prove what it should; the text says why."""


class TimestampRefused(TimestampError):
    """The TSA answered, but did not grant a token (status, failure info)."""


class ImprintMismatch(TimestampError):
    """The token stamps something else: another checkpoint, or another hash."""


class TokenBroken(TimestampError):
    """The token's CMS signature does not hold: the token or its TSTInfo was changed."""


class UntrustedTsa(TimestampError):
    """The TSA's certificate does not chain to the trust anchors given."""


def checkpoint_body(note: str) -> str:
    """The checkpoint's signed text: every line before the blank line that starts signatures."""
    end = note.find("\n\n")
    if end < 0:
        raise TimestampError("the checkpoint note has no blank line before its signatures")
    return note[: end + 1]


def checkpoint_hash(note: str) -> bytes:
    """SHA-256 of the checkpoint's body: the message imprint of its time-stamp token."""
    return hashlib.sha256(checkpoint_body(note).encode("utf-8")).digest()


@dataclass(frozen=True)
class TimestampRequest:
    """One RFC 3161 TimeStampReq: SHA-256 imprint, a fresh 64-bit nonce, certReq true."""

    imprint: bytes
    nonce: int

    @classmethod
    def for_digest(cls, imprint: bytes) -> TimestampRequest:
        return cls(imprint=imprint, nonce=secrets.randbits(63) | 1 << 62)

    def der(self) -> bytes:
        return tsp.TimeStampReq(
            {
                "version": "v1",
                "message_imprint": _imprint(self.imprint),
                "nonce": self.nonce,
                "cert_req": True,
            }
        ).dump()


@dataclass(frozen=True)
class StampedTime:
    """What a checked token proves: `imprint` existed no later than `gen_time`, said `tsa`."""

    gen_time: datetime
    tsa: str
    """The subject of the certificate that signed the token (human-readable)."""
    imprint: bytes
    trusted: bool
    """Whether the TSA's chain was validated against trust anchors (False: integrity only)."""


def token_of_reply(reply: bytes, request: TimestampRequest) -> bytes:
    """The DER TimeStampToken of a TimeStampResp that grants `request`; raise why not.

    The status must be granted (or granted with modifications), and the token
    must carry the request's imprint and nonce.
    """
    try:
        response = _TimeStampResp.load(reply)
        status = response["status"]["status"].native
        failure = response["status"]["fail_info"].native
    except (ValueError, TypeError, KeyError) as error:
        raise TimestampError(f"the reply is not a TimeStampResp ({error})") from None
    if status not in ("granted", "granted_with_mods"):
        why = ", ".join(sorted(failure)) if failure else "no reason given"
        raise TimestampRefused(f"the TSA did not grant the stamp: {status} ({why})")
    try:
        token = response["time_stamp_token"]
    except (ValueError, TypeError, KeyError):
        token = None
    if not isinstance(token, cms.ContentInfo):
        raise TimestampError("the reply grants a stamp but carries no token")
    der = token.dump()
    info = tst_info(der)
    if info["nonce"].native != request.nonce:
        raise TimestampError("the token's nonce is not the request's (a replayed reply?)")
    _check_imprint(info, request.imprint)
    return der


def tst_info(token: bytes) -> tsp.TSTInfo:
    """The TSTInfo a TimeStampToken (a CMS SignedData) encapsulates."""
    try:
        content = cms.ContentInfo.load(token)
        if content["content_type"].native != "signed_data":
            raise ValueError("not a SignedData")
        encapsulated = content["content"]["encap_content_info"]
        if encapsulated["content_type"].native != "tst_info":
            raise ValueError("does not encapsulate a TSTInfo")
        inner = encapsulated["content"]
        info = inner.parsed if isinstance(inner, core.ParsableOctetString) else None
        if not isinstance(info, tsp.TSTInfo):
            raise ValueError("does not encapsulate a TSTInfo")
        info.native  # noqa: B018 - parse it all now: a broken inner field fails here
    except (ValueError, TypeError, KeyError) as error:
        raise TokenBroken(f"the time-stamp token is not a TimeStampToken ({error})") from None
    return info


def check_token(
    token: bytes, imprint: bytes, anchors: Sequence[x509.Certificate] = ()
) -> StampedTime:
    """Check that `token` is a TSA's signature over `imprint`; what it proves, or raise why not.

    With `anchors`, the signing certificate must chain to one of them and be a
    time-stamping certificate (extendedKeyUsage timeStamping); without, the
    token's own certificate is taken as its anchor, which checks that nothing
    in the token changed but not who made it (`trusted` is then False).
    """
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    info = tst_info(token)
    _check_imprint(info, imprint)
    signed_data = cms.ContentInfo.load(token)["content"]
    signer = _signer_certificate(signed_data)
    gen_time = info["gen_time"].native.astimezone(UTC)
    roots = list(anchors) if anchors else [signer]
    context = ValidationContext(trust_roots=roots, allow_fetching=False, moment=gen_time)
    try:
        status = _run(validate_tst_signed_data(signed_data, context, lambda _algorithm: imprint))
    except Exception as error:  # pyHanko's many refusals: the signature does not hold
        raise TokenBroken(f"the time-stamp token's signature does not hold ({error})") from None
    if not status.get("intact"):
        raise TokenBroken("the time-stamp token's signature does not hold: the token was changed")
    subject = str(status["signing_cert"].subject.human_friendly)
    if not status.get("valid") or status.get("trust_problem_indic") is not None:
        if anchors:
            raise UntrustedTsa(
                f"the time-stamp token's TSA certificate ({subject}) does not validate "
                "against the TSA trust anchors given"
            )
        raise TokenBroken(f"the time-stamp token's own certificate ({subject}) does not sign it")
    return StampedTime(gen_time=gen_time, tsa=subject, imprint=imprint, trusted=bool(anchors))


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run pyHanko's coroutine to its end, also when called from inside an event loop
    (an async API handler): then on a thread of its own, with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def load_anchors(pem: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM (or DER) file of trust anchors."""
    from asn1crypto import pem as pem_codec

    if not pem_codec.detect(pem):
        blocks = [pem]
    else:
        blocks = [der for kind, _, der in pem_codec.unarmor(pem, multiple=True)]
    certificates = [x509.Certificate.load(der) for der in blocks]
    for certificate in certificates:
        certificate.native  # noqa: B018 - parse it all now: a bad file fails here, not later
    if not certificates:
        raise ValueError("no certificate in the file")
    return certificates


class _TimeStampResp(core.Sequence):
    """RFC 3161's TimeStampResp, whose token is OPTIONAL (absent when the stamp is refused);
    asn1crypto's own declares it required and cannot read a refusal."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def _imprint(digest: bytes) -> tsp.MessageImprint:
    return tsp.MessageImprint({"hash_algorithm": {"algorithm": SHA256}, "hashed_message": digest})


def _check_imprint(info: tsp.TSTInfo, imprint: bytes) -> None:
    algorithm = info["message_imprint"]["hash_algorithm"]["algorithm"].native
    stamped = info["message_imprint"]["hashed_message"].native
    if algorithm != SHA256 or stamped != imprint:
        raise ImprintMismatch(
            "the time-stamp token is for another checkpoint: its imprint "
            f"{algorithm}:{stamped.hex()[:16]}... is not SHA-256 of this checkpoint's body "
            f"({imprint.hex()[:16]}...)"
        )


def _signer_certificate(signed_data: cms.SignedData) -> x509.Certificate:
    """The certificate of the token's one signer, among those the token carries."""
    infos = signed_data["signer_infos"]
    if len(infos) != 1:
        raise TokenBroken(f"the time-stamp token has {len(infos)} signers, not one")
    sid = infos[0]["sid"]
    for choice in signed_data["certificates"] or []:
        cert = choice.chosen
        if not isinstance(cert, x509.Certificate):
            continue
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                cert.issuer == wanted["issuer"]
                and cert.serial_number == wanted["serial_number"].native
            ):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    raise TokenBroken("the time-stamp token does not carry its TSA's certificate (certReq)")
