"""The portal's sessions and the embedded issuer's one-time codes, in the ledger's database.

API replicas are stateless: a session made by one replica is read by any other,
and survives a restart of either. So the store behind the portal's
`SessionStore` interface (ebox.api.portal.sessions) is a table, on the ledger's
engine (SQLite or PostgreSQL).

- The cookie's session id is the secret: only its SHA-256 is stored, so a copy
  of the database (a backup, a read replica) opens no session. The CSRF token
  is stored as is (the pages must show it); without the session id it is useless.
- The person's NRN is personal data: stored (the session stands for that person),
  never logged, never in an error message.
- The idle timeout is enforced on read (an expired row is deleted, not used);
  expired rows are purged whenever a session is made. Sign-out deletes the row.
- A pending sign-in (state, nonce, PKCE verifier) is taken once: a conditional
  UPDATE on the state read, so two callbacks racing on two replicas cannot both
  have it. A one-time code is taken by a conditional DELETE: of two exchanges of
  one code (on any replicas), exactly one deletes the row and signs in.

The dataclasses live here, not in the API, because adapters may not import the
API (tests/unit/test_layers.py); ebox.api.portal.sessions re-exports them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import delete, insert, select, update

from ebox.adapters.stores import SqlSession
from ebox.adapters.tables import portal_sessions, portal_signin_codes


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

    def changeable(self) -> tuple[object, ...]:
        """What a page may change in a session (to save it only when it did)."""
        return (self.language, self.acting_for, self.pending)


@dataclass(frozen=True)
class IssuedCode:
    """What a one-time code of the embedded issuer stands for."""

    nrn: str = field(repr=False)
    code_challenge: str
    nonce: str = field(repr=False)
    expires: float


class SignInCodes(Protocol):
    """Where the embedded issuer keeps its one-time codes until they are exchanged."""

    def issue(self, code: str, issued: IssuedCode, now: float) -> None: ...

    def take(self, code: str) -> IssuedCode | None:
        """The code's row, deleted: None if unknown or already taken (by anyone)."""
        ...


def token() -> str:
    """A new random secret (256 bits), URL-safe."""
    return secrets.token_urlsafe(32)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _pending_columns(pending: PendingSignIn | None) -> dict[str, str | None]:
    return {
        "pending_state": pending.state if pending else None,
        "pending_nonce": pending.nonce if pending else None,
        "pending_verifier": pending.code_verifier if pending else None,
        "pending_next": pending.next_path if pending else None,
    }


class SqlSessionStore:
    """The portal's sessions in `portal_sessions`, each ended by sign-out or `idle_timeout`."""

    def __init__(self, db: SqlSession, idle_timeout: float) -> None:
        self.db = db
        self.idle_timeout = idle_timeout

    def get(self, session_id: str | None, now: float | None = None) -> PortalSession | None:
        """The live session of this id (touched: its idle time starts again), or None."""
        if not session_id:
            return None
        now = time.time() if now is None else now
        key = portal_sessions.c.id_sha256 == sha256(session_id)
        with self.db.write() as session:
            row = session.execute(select(portal_sessions).where(key)).first()
            if row is None:
                return None
            if now - row.last_seen > self.idle_timeout:
                session.execute(delete(portal_sessions).where(key))
                return None
            touched = session.execute(update(portal_sessions).where(key).values(last_seen=now))
            if touched.rowcount != 1:  # type: ignore[attr-defined]
                return None  # signed out on another replica meanwhile
        return _session_of(session_id, row._mapping, now)

    def create(self, now: float | None = None, **values: Any) -> PortalSession:
        now = time.time() if now is None else now
        made = PortalSession(token(), token(), now, now, **values)
        acting = made.acting_for
        with self.db.write() as session:
            session.execute(
                delete(portal_sessions).where(portal_sessions.c.last_seen < now - self.idle_timeout)
            )
            session.execute(
                insert(portal_sessions).values(
                    id_sha256=sha256(made.session_id),
                    csrf=made.csrf,
                    created=now,
                    last_seen=now,
                    nrn=made.nrn,
                    language=made.language,
                    acting_for_type=acting[0] if acting else None,
                    acting_for_id=acting[1] if acting else None,
                    **_pending_columns(made.pending),
                )
            )
        return made

    def replace(self, old: PortalSession, nrn: str) -> PortalSession:
        """Sign in: a new session (new id, new CSRF token) for `nrn`; the old one ends."""
        self.end(old)
        return self.create(nrn=nrn, language=old.language)

    def end(self, session: PortalSession) -> None:
        with self.db.write() as db_session:
            db_session.execute(
                delete(portal_sessions).where(
                    portal_sessions.c.id_sha256 == sha256(session.session_id)
                )
            )

    def save(self, session: PortalSession) -> None:
        """Write what a page changed (language, eBox in scope, pending sign-in)."""
        acting = session.acting_for
        with self.db.write() as db_session:
            db_session.execute(
                update(portal_sessions)
                .where(portal_sessions.c.id_sha256 == sha256(session.session_id))
                .values(
                    language=session.language,
                    acting_for_type=acting[0] if acting else None,
                    acting_for_id=acting[1] if acting else None,
                    **_pending_columns(session.pending),
                )
            )

    def take_pending(self, session: PortalSession, state: str) -> PendingSignIn | None:
        """The session's pending sign-in if `state` is its own, cleared: one use, on any replica."""
        key = portal_sessions.c.id_sha256 == sha256(session.session_id)
        with self.db.write() as db_session:
            row = db_session.execute(select(portal_sessions).where(key)).first()
            if row is None or row.pending_state is None:
                return None
            if not secrets.compare_digest(row.pending_state, state):
                return None
            taken = db_session.execute(
                update(portal_sessions)
                .where(key, portal_sessions.c.pending_state == row.pending_state)
                .values(**_pending_columns(None))
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                return None  # another request took it first
        session.pending = None
        return PendingSignIn(
            row.pending_state, row.pending_nonce, row.pending_verifier, row.pending_next
        )


def _session_of(session_id: str, row: Any, now: float) -> PortalSession:
    acting = (row["acting_for_type"], row["acting_for_id"]) if row["acting_for_type"] else None
    pending = None
    if row["pending_state"] is not None:
        pending = PendingSignIn(
            row["pending_state"],
            row["pending_nonce"],
            row["pending_verifier"],
            row["pending_next"],
        )
    return PortalSession(
        session_id,
        row["csrf"],
        row["created"],
        now,
        nrn=row["nrn"],
        language=row["language"],
        acting_for=acting,
        pending=pending,
    )


class SqlSignInCodes:
    """The embedded issuer's one-time codes in `portal_signin_codes` (SHA-256 keyed)."""

    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def issue(self, code: str, issued: IssuedCode, now: float) -> None:
        with self.db.write() as session:
            session.execute(delete(portal_signin_codes).where(portal_signin_codes.c.expires < now))
            session.execute(
                insert(portal_signin_codes).values(
                    code_sha256=sha256(code),
                    nrn=issued.nrn,
                    code_challenge=issued.code_challenge,
                    nonce=issued.nonce,
                    expires=issued.expires,
                )
            )

    def take(self, code: str) -> IssuedCode | None:
        key = portal_signin_codes.c.code_sha256 == sha256(code)
        with self.db.write() as session:
            row = session.execute(select(portal_signin_codes).where(key)).first()
            if row is None:
                return None
            # The conditional delete decides: of two exchanges racing, one deletes the row.
            if session.execute(delete(portal_signin_codes).where(key)).rowcount != 1:  # type: ignore[attr-defined]
                return None
        return IssuedCode(row.nrn, row.code_challenge, row.nonce, row.expires)
