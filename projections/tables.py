"""SQLAlchemy Core tables of the ledger's own storage.

Alembic (migrations/) is the one owner of the DDL; these definitions are how
the code reads and writes those tables, and a test checks that they match
what the migrations create.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
)

metadata = MetaData()

BigId = BigInteger().with_variant(Integer(), "sqlite")

EVENTS_TABLE = "ebox_events"

tracking = Table(
    "ebox_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigId, nullable=False),
)

blobs = Table(
    "blobs",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("size", BigId, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

wrapped_keys = Table(
    "wrapped_keys",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("fingerprint", String(64), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
)

vault_keys = Table(
    "vault_keys",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("kek_id", String(16), nullable=False),
    Column("sealed_private_key", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

ledger_leaves = Table(
    "ledger_leaves",
    metadata,
    Column("leaf_index", BigId, primary_key=True, autoincrement=False),
    Column("notification_id", BigId, nullable=False, unique=True),
    Column("aggregate_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_hash", String(64), nullable=False),
    Index("ledger_leaves_aggregate_idx", "aggregate_id", "version", unique=True),
)

merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigId, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", BigId, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", String, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
)
