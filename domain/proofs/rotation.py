"""The ledger key rotation as a verifier reads it: which key signs which checkpoint.

Fixed format, like the checkpoint's: a `LedgerKeyRotated` event (aggregate type
`LedgerKeys`) has data `{"previous_vkey", "vkey", "endorsement"}`; the
endorsement is a signed note by the previous key whose text is
:func:`endorsement_text`. Every checkpoint whose size exceeds the event's leaf
index (every tree that includes the event) is signed by `vkey`, the smaller ones
by `previous_vkey`.
"""

from __future__ import annotations

LEDGER_KEYS = "LedgerKeys"
ROTATED = "LedgerKeyRotated"
ENDORSEMENT_TITLE = "ebox ledger key rotation"


def endorsement_text(origin: str, vkey: str) -> str:
    """The note text the previous key signs: it names the log and the new key."""
    return f"{ENDORSEMENT_TITLE}\n{origin}\n{vkey}\n"
