"""SQLAlchemy Core tables of the ledger's own storage.

Alembic (migrations/) is the one owner of the DDL; these definitions are how
the code reads and writes those tables, and a test checks that they match
what the migrations create. The read models' text columns are as wide as the
API lets their values be: both come from ebox.domain.limits.LIMITS.

They live among the adapters, not the projections: the stores, the client
registry and proof serving (adapters) read and write them as much as the read
models (projections) do, and an adapter may not import a projection.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    false,
)

from ebox.domain.limits import LIMITS

metadata = MetaData()

BigId = BigInteger().with_variant(Integer(), "sqlite")

EVENTS_TABLE = "ebox_events"

tracking = Table(
    "ebox_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigId, nullable=False),
)

# Why a follower stopped or is retrying (see ebox.projections.faults); written apart
# from the work, so a failed batch leaves nothing behind but this row.
follower_faults = Table(
    "follower_faults",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigId, nullable=False),
    Column("notification_id", BigId, nullable=True),
    Column("error_class", String(200), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("parked", Boolean, nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
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

lifecycle_due = Table(
    # The lifecycle scheduler's due work (ebox.projections.lifecycle): one row per
    # message and kind, done once (`done_at` is set in the work's own transaction).
    "lifecycle_due",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("publication_id", String(LIMITS.publication_id), nullable=False),
    Column("mailbox_id", String(36), nullable=False),
    Column("done_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(200), nullable=True),
    Index("lifecycle_due_pending_idx", "done_at", "due_at"),
    Index("lifecycle_due_publication_idx", "publication_id"),
    Index("lifecycle_due_mailbox_idx", "mailbox_id"),
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

# RFC 3161 tokens over checkpoints (ebox.projections.timestamper, migration 0012): the
# DER TimeStampToken, its genTime and the TSA's subject as read from the checked token.
checkpoint_timestamps = Table(
    "checkpoint_timestamps",
    metadata,
    Column("size", BigId, primary_key=True, autoincrement=False),
    Column("token", LargeBinary, nullable=False),
    Column("gen_time", DateTime(timezone=True), nullable=False),
    Column("tsa", String, nullable=False),
)


witness_cosignatures = Table(
    "witness_cosignatures",
    metadata,
    # One verified cosignature/v1 line per (checkpoint, witness); the witness is named by
    # its cosigner vkey (policy names are the file's own; a vkey is unique in a policy).
    Column("size", BigId, primary_key=True, autoincrement=False),
    Column("witness", String, primary_key=True),
    Column("line", String, nullable=False),
    Column("cosigned_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

witness_status = Table(
    "witness_status",
    metadata,
    # What the log knows of each witness (ebox.projections.witnessing): the size it last
    # cosigned, and its last failure (the error's class or HTTP status, never its text).
    Column("witness", String, primary_key=True),
    Column("cosigned_size", BigId, nullable=True),
    Column("succeeded_at", DateTime(timezone=True), nullable=True),
    Column("error", String, nullable=True),
    Column("failed_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
)


# --------------------------------------------------------------------------- read models
# Written only by the projections (ebox.projections.inbox, .status, .feed), each in
# the same transaction as its tracking row (in `ebox_tracking`, like every follower's
# since migration 0005_followers). Migration 0002 creates them,
# and the search table `inbox_search`, which is dialect-specific and therefore not
# declared here: on PostgreSQL one tsvector per language with GIN indexes, on SQLite
# an FTS5 virtual table (see ebox.projections.inbox).

from sqlalchemy import JSON  # noqa: E402

# Languages of the search columns and their PostgreSQL text search configurations.
SEARCH_LANGUAGES = {"nl": "dutch", "fr": "french", "de": "german", "en": "english"}

inbox_messages = Table(
    "inbox_messages",
    metadata,
    Column("message_id", String(LIMITS.message_id), primary_key=True),
    Column("mailbox_id", String(LIMITS.mailbox_id), nullable=False),
    Column("ebox_type", String(LIMITS.ebox_type), nullable=False),
    Column("ebox_id_value", String(LIMITS.ebox_id_value), nullable=False),
    Column("publication_id", String(LIMITS.publication_id), nullable=False),
    Column("sender_kbo", String(LIMITS.kbo_number), nullable=False),
    Column("sender_application_id", String(LIMITS.sender_application_id), nullable=False),
    Column("message_type_id", String(LIMITS.message_type_id), nullable=False),
    Column("subjects", JSON, nullable=False),
    # NULL until Delivered: such rows answer no inbox query.
    Column("receipt_date", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("read", Boolean, nullable=False),
    Column("first_read_at", DateTime(timezone=True), nullable=True),
    Column("visible", Boolean, nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("expired", Boolean, nullable=False),
    Column("registered", Boolean, nullable=False),
    Column("reply_authorized", Boolean, nullable=False),
    Column("original_message_id", String(LIMITS.original_message_id), nullable=True),
    Column("for_the_attention_of", JSON, nullable=True),
    Column("business_data", JSON, nullable=True),
    Column("attachments", JSON, nullable=False),
    Column("bodies", JSON, nullable=False),
    Column("has_body", Boolean, nullable=False),
    Column("body_main_content", Boolean, nullable=False),
    Column("has_payment_data", Boolean, nullable=False),
    Column("total_size", BigId, nullable=False),
    # Every listing is one mailbox's, newest first: this index serves the page
    # (backward scan, stops after pageSize rows) and counts totalItems without
    # touching the table (expired and receipt_date are in it).
    # On PostgreSQL it includes (read, total_size): the eBox summary reads it alone too.
    Index(
        "inbox_mailbox_receipt_idx",
        "mailbox_id",
        "expired",
        "receipt_date",
        "message_id",
        postgresql_include=["read", "total_size"],
    ),
    # One per filter of getMessagesByEBoxId, for large mailboxes where a filter is
    # selective; on PostgreSQL partial (WHERE NOT expired, as every listing is).
    Index("inbox_mailbox_expiry_idx", "mailbox_id", "expires_at", "receipt_date"),
    Index("inbox_mailbox_read_idx", "mailbox_id", "read", "receipt_date"),
    Index("inbox_mailbox_visible_idx", "mailbox_id", "visible", "receipt_date"),
    Index("inbox_mailbox_type_idx", "mailbox_id", "message_type_id", "receipt_date"),
    Index("inbox_mailbox_sender_idx", "mailbox_id", "sender_kbo", "receipt_date"),
    Index("inbox_mailbox_application_idx", "mailbox_id", "sender_application_id", "receipt_date"),
    Index("inbox_mailbox_registered_idx", "mailbox_id", "registered", "receipt_date"),
)

ref_sender_organizations = Table(
    "ref_sender_organizations",
    metadata,
    Column("kbo_number", String(LIMITS.kbo_number), primary_key=True),
    Column("names", JSON, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

ref_sender_applications = Table(
    "ref_sender_applications",
    metadata,
    Column("application_id", String(LIMITS.sender_application_id), primary_key=True),
    Column("sender_kbo", String(LIMITS.kbo_number), primary_key=True),
    Column("names", JSON, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

ref_message_types = Table(
    "ref_message_types",
    metadata,
    Column("message_type_id", String(LIMITS.message_type_id), primary_key=True),
    Column("sender_kbo", String(LIMITS.kbo_number), primary_key=True),
    Column("names", JSON, nullable=False),
    Column("validity_unit", String(LIMITS.validity_unit), nullable=False),
    Column("validity_amount", Integer, nullable=False),
    Column("registered_mail", Boolean, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

# Not derived from events (see ebox.projections.inbox.InboxView.record_consultation):
# a rebuild leaves it alone.
mailbox_consultations = Table(
    "mailbox_consultations",
    metadata,
    Column("mailbox_id", String(LIMITS.mailbox_id), primary_key=True),
    Column("last_consulted_at", DateTime(timezone=True), nullable=False),
)

status_messages = Table(
    "status_messages",
    metadata,
    Column("message_id", String(LIMITS.message_id), primary_key=True),
    Column("sender_kbo", String(LIMITS.kbo_number), nullable=False),
    Column("ebox_type", String(LIMITS.ebox_type), nullable=False),
    Column("ebox_id_value", String(LIMITS.ebox_id_value), nullable=False),
    Column("publication_id", String(LIMITS.publication_id), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("read", Boolean, nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=True),
    Column("visible", Boolean, nullable=False),
    Column("expired", Boolean, nullable=False),
    Column("registered", Boolean, nullable=False, server_default=false()),
    Index("status_sender_publication_idx", "sender_kbo", "publication_id"),
)

# What a feed event needs to say about its message, kept from Sent.
feed_messages = Table(
    "feed_messages",
    metadata,
    Column("message_id", String(LIMITS.message_id), primary_key=True),
    Column("ebox_type", String(LIMITS.ebox_type), nullable=False),
    Column("ebox_id_value", String(LIMITS.ebox_id_value), nullable=False),
    Column("sender_kbo", String(LIMITS.kbo_number), nullable=False),
    Column("sender_application_id", String(LIMITS.sender_application_id), nullable=False),
    Column("message_type_id", String(LIMITS.message_type_id), nullable=False),
    Column("subjects", JSON, nullable=False),
    Column("registered", Boolean, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("receipt_date", DateTime(timezone=True), nullable=True),
)

feed_events = Table(
    "feed_events",
    metadata,
    Column("ebox_type", String(LIMITS.ebox_type), primary_key=True),
    Column("sequence_nbr", BigId, primary_key=True, autoincrement=False),
    Column("event_type", String(LIMITS.feed_event_type), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("notification_id", BigId, nullable=False),
    Column("message_id", String(LIMITS.message_id), nullable=False),
    Column("ebox_id_value", String(LIMITS.ebox_id_value), nullable=False),
    Column("receipt_date", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("registered", Boolean, nullable=False),
    Column("message_type_id", String(LIMITS.message_type_id), nullable=False),
    Column("sender_kbo", String(LIMITS.kbo_number), nullable=False),
    Column("sender_application_id", String(LIMITS.sender_application_id), nullable=False),
    Column("subjects", JSON, nullable=False),
    Index("feed_events_time_idx", "ebox_type", "event_time"),
)

# --------------------------------------------------------------------------- OAuth clients (0003)

# Registered OAuth clients (private_key_jwt): public JWKs only, nothing secret.
oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("scopes", String(200), nullable=False),
    Column("jwks", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Index("oauth_clients_subject_idx", "kind", "subject"),
)

# The jti of every accepted client assertion, kept until it expires (exp, epoch seconds).
used_assertions = Table(
    "used_assertions",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("jti", String(128), primary_key=True),
    Column("expires_at", BigId, nullable=False),
    Index("used_assertions_expiry_idx", "expires_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("client_id", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# --------------------------------------------------------------------------- key binding
# The keys the database is bound to (ebox.adapters.key_binding, migration 0008_key_binding):
# one row naming the origin and the KEK, and every ledger key in the order it was used,
# with the first checkpoint size it signs (NULL until the sealer reaches its rotation).

ledger_binding = Table(
    "ledger_binding",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("origin", String(200), nullable=False),
    Column("kek_id", String(16), nullable=False),
    Column("bound_at", DateTime(timezone=True), nullable=False),
)

ledger_keys = Table(
    "ledger_keys",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("key_id", String(8), nullable=False),
    Column("vkey", String(200), nullable=False, unique=True),
    Column("first_size", BigId, nullable=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

# --------------------------------------------------------------------------- access (0009)
# The "access" read model (ebox.projections.access): who may see a mailbox and who opened
# its letters, so that the portal shows a person their own access history without scanning
# the log. `access_mailboxes` names each mailbox, `access_messages` maps a letter to its
# mailbox, `access_events` holds every opening (Read, ContentAccessed) in log order and
# `mandate_holders` the mandates in force, by holder (the eBoxes a person may switch to).
access_mailboxes = Table(
    "access_mailboxes",
    metadata,
    Column("mailbox_id", String(LIMITS.mailbox_id), primary_key=True),
    Column("ebox_type", String(LIMITS.ebox_type), nullable=False),
    Column("ebox_id_value", String(LIMITS.ebox_id_value), nullable=False),
)

access_messages = Table(
    "access_messages",
    metadata,
    Column("message_id", String(LIMITS.message_id), primary_key=True),
    Column("mailbox_id", String(LIMITS.mailbox_id), nullable=False),
    Column("sender_kbo", String(LIMITS.kbo_number), nullable=False),
    Column("subjects", JSON, nullable=False),
)

access_events = Table(
    "access_events",
    metadata,
    Column("notification_id", BigId, primary_key=True, autoincrement=False),
    Column("mailbox_id", String(LIMITS.mailbox_id), nullable=False),
    Column("message_id", String(LIMITS.message_id), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("reader", String(200), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("document", String(200), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Index("access_events_mailbox_idx", "mailbox_id", "notification_id"),
)

mandate_holders = Table(
    "mandate_holders",
    metadata,
    Column("holder", String(200), primary_key=True),
    Column("mailbox_id", String(LIMITS.mailbox_id), primary_key=True),
    Column("granted_at", DateTime(timezone=True), nullable=False),
)


# --------------------------------------------------------------------------- portal sessions (0011)
# The portal's sessions (ebox.adapters.portal_sessions), shared by every API replica: keyed
# by the SHA-256 of the cookie's session id (the cookie is the secret, never stored), times
# in epoch seconds. The NRN is personal data: stored because the session stands for that
# person, never logged. The embedded issuer's one-time codes, keyed by their SHA-256 too.

portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("csrf", String(64), nullable=False),
    Column("created", Double, nullable=False),
    Column("last_seen", Double, nullable=False),
    Column("nrn", String(11), nullable=True),
    Column("language", String(8), nullable=True),
    Column("acting_for_type", String(16), nullable=True),
    Column("acting_for_id", String(64), nullable=True),
    Column("pending_state", String(64), nullable=True),
    Column("pending_nonce", String(64), nullable=True),
    Column("pending_verifier", String(128), nullable=True),
    Column("pending_next", Text, nullable=True),
    Index("portal_sessions_last_seen_idx", "last_seen"),
)

portal_signin_codes = Table(
    "portal_signin_codes",
    metadata,
    Column("code_sha256", String(64), primary_key=True),
    Column("nrn", String(11), nullable=False),
    Column("code_challenge", Text, nullable=False),
    Column("nonce", Text, nullable=False),
    Column("expires", Double, nullable=False),
    Index("portal_signin_codes_expires_idx", "expires"),
)
