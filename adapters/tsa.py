"""The RFC 3161 client: one checkpoint's hash in, one checked TimeStampToken out.

RFC 3161 over HTTP (section 3.4): POST the DER TimeStampReq as
``application/timestamp-query``, the answer is a DER TimeStampResp as
``application/timestamp-reply``. The reply is checked before anything is kept
(status granted, the request's imprint and nonce, the CMS signature, and the
TSA's chain against EBOX_TSA_CA_FILE when set): a TSA that answers badly is
an error here, not a token in the database.
"""

from __future__ import annotations

import base64
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import x509

from ebox.adapters.home import text_from_env
from ebox.domain.proofs.timestamp import (
    TimestampError,
    TimestampRequest,
    check_token,
    checkpoint_hash,
    load_anchors,
    token_of_reply,
)

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
DEFAULT_INTERVAL = 60.0
TIMEOUT = 30.0
MAX_REPLY = 1 << 20


class TsaUnavailable(RuntimeError):
    """The TSA could not be reached or answered with an HTTP error (retried next interval)."""


class TsaReplyRejected(RuntimeError):
    """The TSA answered, but not with a token that proves the checkpoint (not stored)."""


@dataclass(frozen=True)
class StampedCheckpoint:
    """A checked token for one checkpoint: what goes into `checkpoint_timestamps`."""

    size: int
    token: bytes
    gen_time: datetime
    tsa: str


def read_anchors(path: Path) -> tuple[x509.Certificate, ...]:
    """The trust anchors of EBOX_TSA_CA_FILE; a ValueError naming the variable if unusable."""
    try:
        return tuple(load_anchors(path.read_bytes()))
    except OSError as error:
        raise ValueError(f"EBOX_TSA_CA_FILE: cannot read {path} ({error.strerror})") from None
    except (ValueError, TypeError):
        raise ValueError(f"EBOX_TSA_CA_FILE: {path} holds no PEM (or DER) certificate") from None


@dataclass(frozen=True)
class TsaClient:
    url: str
    anchors: tuple[x509.Certificate, ...] = ()
    username: str | None = None
    password: str | None = None
    timeout: float = TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TsaClient | None:
        """The client EBOX_TSA_* describe; None when EBOX_TSA_URL is unset."""
        env = os.environ if env is None else env
        url = (env.get("EBOX_TSA_URL") or "").strip()
        if not url:
            return None
        ca_file = env.get("EBOX_TSA_CA_FILE")
        anchors = read_anchors(Path(ca_file)) if ca_file else ()
        return cls(
            url=url,
            anchors=anchors,
            username=env.get("EBOX_TSA_USERNAME") or None,
            password=text_from_env("EBOX_TSA_PASSWORD", env),
        )

    def stamp(self, size: int, note: str) -> StampedCheckpoint:
        """A checked time-stamp token over the checkpoint `note` of `size` leaves."""
        imprint = checkpoint_hash(note)
        request = TimestampRequest.for_digest(imprint)
        reply = self._post(request.der())
        try:
            token = token_of_reply(reply, request)
            stamped = check_token(token, imprint, self.anchors)
        except TimestampError as error:
            raise TsaReplyRejected(str(error)) from None
        return StampedCheckpoint(size=size, token=token, gen_time=stamped.gen_time, tsa=stamped.tsa)

    def _post(self, query: bytes) -> bytes:
        headers = {"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE}
        if self.username is not None:
            pair = f"{self.username}:{self.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        request = urllib.request.Request(self.url, data=query, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                kind = answer.headers.get_content_type()
                body = answer.read(MAX_REPLY + 1)
        except urllib.error.HTTPError as error:
            raise TsaUnavailable(f"the TSA answered HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TsaUnavailable(f"the TSA cannot be reached ({type(reason).__name__})") from None
        if kind != REPLY_TYPE:
            raise TsaReplyRejected(f"the TSA answered {kind}, not {REPLY_TYPE}")
        if len(body) > MAX_REPLY:
            raise TsaReplyRejected("the TSA's reply is larger than 1 MiB")
        return body
