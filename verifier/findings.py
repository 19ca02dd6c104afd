"""What a verified evidence bundle proves, as data: rendered as text or as a PDF.

Only :func:`ebox.verifier.bundle.verify_bundle` builds a :class:`BundleReport`,
and only when every check passed, so a report object is itself the statement
"this was proven"; each section lists what was established and how.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ebox.domain.proofs.checkpoint import Checkpoint
from ebox.domain.proofs.evidence import LegalMomentClaim
from ebox.verifier.origin import Origin
from ebox.verifier.timeline import Step


@dataclass(frozen=True)
class DocumentFinding:
    name: str
    media_type: str
    size: int | None
    sha256: str
    ciphertext_sha256: str
    disclosed: bool
    """True when the disclosure was decrypted and its SHA-256 matched the signed digest."""


@dataclass(frozen=True)
class Section:
    """One property (origin, destination, integrity, confidentiality) and how it was proven."""

    title: str
    verdict: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class BundleReport:
    message_id: str
    registered: bool
    message_type: str
    subjects: Mapping[str, str]
    sender_kbo: str
    sender_names: Mapping[str, str]
    recipient: str
    mailbox_id: str
    origin: Origin
    vkey: str
    checkpoint: Checkpoint
    checkpoint_note: str
    steps: tuple[Step, ...]
    documents: tuple[DocumentFinding, ...]
    disclosed: bool
    sections: tuple[Section, ...]
    limits: tuple[str, ...] = field(default=())
    recipient_name: str | None = None
    """The holder's name, when the mailbox's events in the bundle record one."""
    recipient_language: str | None = None
    """The mailbox's language (nl, fr, de, en), when its events in the bundle record one."""
    legal_moment: LegalMomentClaim | None = None
    """The bundle's legal moment of receipt, recomputed by the verifier and found equal."""

    @property
    def sender_name(self) -> str:
        for language in ("en", "nl", "fr", "de"):
            if language in self.sender_names:
                return self.sender_names[language]
        return next(iter(self.sender_names.values()), self.sender_kbo)

    @property
    def subject(self) -> str:
        return " / ".join(self.subjects.values())
