"""Adapters to what lies outside the ledger: the data directory and its secrets.

`adapters/` sits beside `domain/` and below `projections/`, `api/` and `cli/`:
it may import the domain and SQLAlchemy, never the projections, the API or the
CLI (tests/unit/test_layers.py).
"""
