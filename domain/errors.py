"""Typed refusals of the mailbox model, in the domain's own words.

Each error carries the eBox contract's status code (`code`) so that the HTTP
layer maps it to one `StatusMessage` without guessing.
"""

from __future__ import annotations


class EboxError(Exception):
    """Base of every refusal the ledger makes on purpose."""

    code = "INVALID_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidIdentifier(EboxError):
    """A KBO or national register number that breaks its format or its check digits."""

    code = "INVALID_REQUEST"


class NotFound(EboxError):
    code = "NOT_FOUND"


class UnknownPartner(NotFound):
    pass


class Conflict(EboxError):
    code = "CONFLICT"


class PartnerAlreadyRegistered(Conflict):
    pass


class UnknownSender(NotFound):
    code = "UNKNOWN_SENDER_ORGANIZATION"


class SenderAlreadyRegistered(Conflict):
    pass


class UnknownApplication(NotFound):
    code = "UNKNOWN_SENDER_APPLICATION"


class UnknownMessageType(NotFound):
    code = "UNKNOWN_MESSAGE_TYPE"


class SigningKeyError(EboxError):
    code = "INVALID_SIGNATURE"


class UnknownSigningKey(SigningKeyError):
    pass


class SigningKeyRevoked(SigningKeyError):
    pass


class SigningKeyNotValid(SigningKeyError):
    """The key exists but was not valid at the moment of submission."""


class InvalidSignature(SigningKeyError):
    pass


class SignatureRequired(SigningKeyError):
    pass


class NoDigitalUser(EboxError):
    """The recipient has no open eBox (unknown or closed): the contract's NO_DIGITAL_USER."""

    code = "NO_DIGITAL_USER"


class MailboxAlreadyOpen(Conflict):
    pass


class MailboxClosed(NoDigitalUser):
    pass


class UnknownMessage(NotFound):
    code = "MESSAGE_NOT_FOUND"


class NotDelivered(Conflict):
    """Reading what was never made available in the mailbox."""


class AlreadyDelivered(Conflict):
    pass


class AlreadyArchived(Conflict):
    pass


class NotArchived(Conflict):
    pass


class UnknownDocument(NotFound):
    code = "ATTACHMENT_NOT_FOUND"


class AlreadyExpired(Conflict):
    """Expiry is done once: the event itself guards due work run twice."""


class ContentDestroyed(Conflict):
    """The data key was destroyed (expiry or erasure): content is gone, proofs remain."""

    code = "CONTENT_EXPIRED"


class ContentUnavailable(EboxError, KeyError):
    """A document's ciphertext is missing from the blob store while its message says it exists.

    Not the caller's fault and not expiry (that is ContentDestroyed): the store lost
    what the ledger recorded, and an operator must restore it from a backup. A
    KeyError too, so that callers asking whether a blob is there keep working.
    """

    code = "CONTENT_UNAVAILABLE"

    __str__ = Exception.__str__


class InvalidPublication(EboxError):
    code = "INVALID_REQUEST"


class NoConsent(EboxError):
    code = "NO_CONSENT"


class RepliesNotAllowed(NoConsent):
    """The letter's sender did not set replyAuthorized: the recipient may not answer it."""

    code = "REPLY_NOT_AUTHORIZED"


class NoReplyEbox(Conflict):
    """The sender organisation has no enterprise eBox open to receive replies.

    Opening an eBox is the organisation's own act (its consent, its key pair),
    so a reply never opens one on its behalf: the operator opens it first.
    """

    code = "NO_REPLY_EBOX"


class ChainIntegrityError(EboxError):
    """Stored events of an aggregate do not form an intact hash chain.

    This is never the caller's fault: it means the store was altered behind the
    application's back, so it must stop the load rather than answer.
    """

    code = "INTEGRITY_ERROR"

    def __init__(
        self, message: str, *, aggregate_id: str, version: int, expected: str, actual: str
    ) -> None:
        super().__init__(
            f"{message}: aggregate {aggregate_id} version {version}: "
            f"expected {expected}, found {actual}"
        )
        self.aggregate_id = aggregate_id
        self.version = version
        self.expected = expected
        self.actual = actual


class NoMandate(NoConsent):
    """The person is neither the owner of the eBox nor holds a mandate for it.

    Whether such an eBox exists is not said: the refusal is the same for both.
    """

    code = "NO_MANDATE"


class NotTheOwner(NoConsent):
    """Only the eBox's owner (for an enterprise: a person acting for it) may do this."""

    code = "NOT_THE_OWNER"
