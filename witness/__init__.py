"""A C2SP tlog-witness of our own (https://c2sp.org/tlog-witness): `ebox witness serve`.

An institution that does not trust the ledger's operator runs this to cosign
the checkpoints it has checked are consistent with everything it saw before.
It imports only the pure proof modules (ebox.domain.proofs) and the standard
library, so it runs without the ledger's database or frameworks.
"""
