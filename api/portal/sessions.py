"""Portal sessions: server-side, behind one random cookie; CSRF tokens; idle timeout.

The cookie (``ebox_portal``) holds only a random session id (256 bits); what it
stands for stays on the server (`Sessions`: the database), so signing out, or the idle
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

The interface is `Sessions` (get, create, replace, end, save, take_pending). The
app's store is `ebox.adapters.portal_sessions.SqlSessionStore`: the sessions are
rows of the ledger's database, so every API replica reads them and a restart
signs no one out (no sticky proxy needed). `SessionStore` is the same contract
in one process's memory (the unit tests' reference).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from typing import Any, Protocol

from ebox.adapters.portal_sessions import PendingSignIn, PortalSession, token

COOKIE = "ebox_portal"
CSRF_FIELD = "csrf"

__all__ = [
    "COOKIE",
    "CSRF_FIELD",
    "PendingSignIn",
    "PortalSession",
    "SessionStore",
    "Sessions",
    "csrf_matches",
]


class Sessions(Protocol):
    """The portal's session store: what a page may ask of it."""

    idle_timeout: float

    def get(self, session_id: str | None, now: float | None = None) -> PortalSession | None: ...

    def create(self, now: float | None = None, **values: Any) -> PortalSession: ...

    def replace(self, old: PortalSession, nrn: str) -> PortalSession: ...

    def end(self, session: PortalSession) -> None: ...

    def save(self, session: PortalSession) -> None:
        """Keep what a page changed in the session (language, acting_for, pending)."""
        ...

    def take_pending(self, session: PortalSession, state: str) -> PendingSignIn | None:
        """The pending sign-in of that state, cleared (one use), or None."""
        ...


class SessionStore:
    """`Sessions` in memory, each ended by sign-out or after `idle_timeout` unused."""

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

    def create(self, now: float | None = None, **values: Any) -> PortalSession:
        now = time.time() if now is None else now
        session = PortalSession(token(), token(), now, now, **values)
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

    def save(self, session: PortalSession) -> None:
        """Nothing to write: a page changes the very object this store holds."""

    def take_pending(self, session: PortalSession, state: str) -> PendingSignIn | None:
        with self._lock:
            pending = session.pending
            if pending is None or not secrets.compare_digest(pending.state, state):
                return None
            session.pending = None
        return pending

    def _purge(self, now: float) -> None:
        expired = [
            key for key, s in self._sessions.items() if now - s.last_seen > self.idle_timeout
        ]
        for key in expired:
            del self._sessions[key]


def csrf_matches(session: PortalSession, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf.encode(), str(sent).encode())
