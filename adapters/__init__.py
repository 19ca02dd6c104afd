"""Adapters to what lies outside the domain: storage, secrets, wiring.

What is neither domain nor a follower of the notification log: the data
directory and its secrets (`home.py`), the SQLAlchemy tables (`tables.py`), the
SQL stores of the domain's ports and bulk COPY (`stores.py`, `idempotency.py`,
`bulk.py`), the OAuth client registry (`clients.py`), proof serving and
evidence assembly (`transparency.py`, `merkle_nodes.py`, `evidence.py`), the
migration runner (`schema.py`) and the wiring that opens a ledger (`runtime.py`).

`adapters/` sits beside `domain/` and below `projections/`, `api/` and `cli/`:
it may import the domain and SQLAlchemy, never the projections, the API or the
CLI (tests/unit/test_layers.py).
"""
