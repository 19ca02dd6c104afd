"""Portal sessions: server-side, behind one random cookie; CSRF tokens; idle timeout.

The cookie (``ebox_portal``) holds only a random session id (256 bits); what it
stands for stays on the server (`SessionStore`), so signing out, or the idle
timeout, ends the session for good: a copied cookie opens nothing afterwards.
The cookie is HttpOnly, SameSite=Lax, Path=/, and Secure when the public URL is
https (behind a TLS proxy).

A session exists before sign-in (it carries the language chosen, the CSRF
token of the sign-in form and the pending OIDC state); signing in replaces it
by a new one (a new id: no session fixation) that names the person.

Every POST form carries the session's CSRF token in the field ``csrf``
(`csrf_field` in templates); `check_csrf` refuses a form without the right one
(403), compared in constant time. SameSite=Lax already keeps other sites'
POSTs from carrying the cookie; the token is the second, explicit, line.

The store is per process (a dict under a lock). A deployment of several API
replicas serves the portal with sticky sessions at the proxy, or moves this
store to the database (the interface is `SessionStore`: get, create, replace,
end).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

COOKIE = "ebox_portal"
CSRF_FIELD = "csrf"


@dataclass
class PendingSignIn:
    """An authorization request in flight: what the callback must find again (RFC 7636)."""

    state: str
    nonce: str
    code_verifier: str
    next_path: str = "/inbox"


@dataclass
class PortalSession:
    session_id: str = field(repr=False)
    csrf: str = field(repr=False)
    created: float
    last_seen: float
    nrn: str | None = field(default=None, repr=False)
    """The person signed in (national register number); None before sign-in."""
    language: str | None = None
    """The language chosen with ?lang=, remembered for the next pages."""
    acting_for: tuple[str, str] | None = None
    """(ebox type, id value) of an eBox read by mandate; None: the person's own eBox."""
    pending: PendingSignIn | None = field(default=None, repr=False)

    @property
    def signed_in(self) -> bool:
        return self.nrn is not None


def _token() -> str:
    return secrets.token_urlsafe(32)


class SessionStore:
    """The sessions of this process, each ended by sign-out or after `idle_timeout` unused."""

    def __init__(self, idle_timeout: float) -> None:
        self.idle_timeout = idle_timeout
        self._sessions: dict[str, PortalSession] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str | None, now: float | None = None) -> PortalSession | None:
        """The live session of this id (touched: its idle time starts again), or None."""
        if not session_id:
            return None
        now = time.time() if now is None else now
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self.idle_timeout:
                del self._sessions[session_id]
                return None
            session.last_seen = now
            return session

    def create(self, now: float | None = None, **values: object) -> PortalSession:
        now = time.time() if now is None else now
        session = PortalSession(_token(), _token(), now, now, **values)  # type: ignore[arg-type]
        with self._lock:
            self._purge(now)
            self._sessions[session.session_id] = session
        return session

    def replace(self, old: PortalSession, nrn: str) -> PortalSession:
        """Sign in: a new session (new id, new CSRF token) for `nrn`; the old one ends."""
        self.end(old)
        return self.create(nrn=nrn, language=old.language)

    def end(self, session: PortalSession) -> None:
        with self._lock:
            self._sessions.pop(session.session_id, None)

    def _purge(self, now: float) -> None:
        expired = [
            key for key, s in self._sessions.items() if now - s.last_seen > self.idle_timeout
        ]
        for key in expired:
            del self._sessions[key]


def csrf_matches(session: PortalSession, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf.encode(), str(sent).encode())
