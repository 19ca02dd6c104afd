"""Read models: the inbox, reference data, sender status and event feed views.

Each view's rows live beside a tracking table `<view>_tracking` with exactly the
columns eventsourcing_sqlalchemy maps for a tracking recorder (application_name,
notification_id): a view and its position commit in one transaction.

Full-text search lives in `inbox_search`, one row per message, which is
dialect-specific:
- PostgreSQL: a table of one `tsvector` per language, each made with the
  language's own text search configuration (stemming, stop words), with a GIN
  index per language and a mailbox index, so a search is bounded either by the
  word (GIN) or by the mailbox, whichever the planner finds cheaper;
- SQLite: an FTS5 table (unicode61 tokenizer, diacritics removed).

The inbox's filter indexes are partial on PostgreSQL (`WHERE NOT expired`): every
listing leaves out expired messages, and the counts of totalItems then read the
index alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)

SEARCH_LANGUAGES = {"nl": "dutch", "fr": "french", "de": "german", "en": "english"}
TRACKING_TABLES = ("inbox_tracking", "status_tracking", "feed_tracking")
LISTING_INDEX = ("inbox_mailbox_receipt_idx", ["mailbox_id", "expired", "receipt_date", "message_id"])
FILTER_INDEXES = {
    "inbox_mailbox_expiry_idx": ["mailbox_id", "expires_at", "receipt_date"],
    "inbox_mailbox_read_idx": ["mailbox_id", "read", "receipt_date"],
    "inbox_mailbox_visible_idx": ["mailbox_id", "visible", "receipt_date"],
    "inbox_mailbox_type_idx": ["mailbox_id", "message_type_id", "receipt_date"],
    "inbox_mailbox_sender_idx": ["mailbox_id", "sender_kbo", "receipt_date"],
    "inbox_mailbox_application_idx": ["mailbox_id", "sender_application_id", "receipt_date"],
    "inbox_mailbox_registered_idx": ["mailbox_id", "registered", "receipt_date"],
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name

    for name in TRACKING_TABLES:
        op.create_table(
            name,
            sa.Column("application_name", sa.String(32), primary_key=True),
            sa.Column("notification_id", BigId, nullable=True),
        )

    op.create_table(
        "inbox_messages",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("mailbox_id", sa.String(36), nullable=False),
        sa.Column("ebox_type", sa.String(16), nullable=False),
        sa.Column("ebox_id_value", sa.String(32), nullable=False),
        sa.Column("publication_id", sa.String(64), nullable=False),
        sa.Column("sender_kbo", sa.String(32), nullable=False),
        sa.Column("sender_application_id", sa.String(100), nullable=False),
        sa.Column("message_type_id", sa.String(100), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("receipt_date", Moment, nullable=True),
        sa.Column("expires_at", Moment, nullable=False),
        sa.Column("read", sa.Boolean(), nullable=False),
        sa.Column("first_read_at", Moment, nullable=True),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("expired", sa.Boolean(), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("reply_authorized", sa.Boolean(), nullable=False),
        sa.Column("original_message_id", sa.String(64), nullable=True),
        sa.Column("for_the_attention_of", sa.JSON(), nullable=True),
        sa.Column("business_data", sa.JSON(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("bodies", sa.JSON(), nullable=False),
        sa.Column("has_body", sa.Boolean(), nullable=False),
        sa.Column("body_main_content", sa.Boolean(), nullable=False),
        sa.Column("has_payment_data", sa.Boolean(), nullable=False),
        sa.Column("total_size", BigId, nullable=False),
    )
    # On PostgreSQL the listing index also carries what the eBox summary adds up,
    # so getEBoxById reads the index alone too.
    op.create_index(
        LISTING_INDEX[0],
        "inbox_messages",
        LISTING_INDEX[1],
        postgresql_include=["read", "total_size"],
    )
    for name, columns in FILTER_INDEXES.items():
        op.create_index(name, "inbox_messages", columns, postgresql_where=sa.text("NOT expired"))
    if dialect == "postgresql":
        op.create_table(
            "inbox_search",
            sa.Column("message_id", sa.String(36), primary_key=True),
            sa.Column("mailbox_id", sa.String(36), nullable=False),
            *(sa.Column(f"tsv_{lang}", TSVECTOR(), nullable=False) for lang in SEARCH_LANGUAGES),
        )
        op.create_index("inbox_search_mailbox_idx", "inbox_search", ["mailbox_id"])
        for lang in SEARCH_LANGUAGES:
            op.create_index(
                f"inbox_search_{lang}_idx", "inbox_search", [f"tsv_{lang}"], postgresql_using="gin"
            )
    elif dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE inbox_search USING fts5("
            "message_id UNINDEXED, "
            + ", ".join(SEARCH_LANGUAGES)
            + ", tokenize = 'unicode61 remove_diacritics 2')"
        )

    op.create_table(
        "ref_sender_organizations",
        sa.Column("kbo_number", sa.String(32), primary_key=True),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("registered_at", Moment, nullable=False),
    )
    op.create_table(
        "ref_sender_applications",
        sa.Column("application_id", sa.String(100), primary_key=True),
        sa.Column("sender_kbo", sa.String(32), primary_key=True),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("registered_at", Moment, nullable=False),
    )
    op.create_table(
        "ref_message_types",
        sa.Column("message_type_id", sa.String(100), primary_key=True),
        sa.Column("sender_kbo", sa.String(32), primary_key=True),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("validity_unit", sa.String(8), nullable=False),
        sa.Column("validity_amount", sa.Integer(), nullable=False),
        sa.Column("registered_mail", sa.Boolean(), nullable=False),
        sa.Column("registered_at", Moment, nullable=False),
    )
    op.create_table(
        "mailbox_consultations",
        sa.Column("mailbox_id", sa.String(36), primary_key=True),
        sa.Column("last_consulted_at", Moment, nullable=False),
    )

    op.create_table(
        "status_messages",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("sender_kbo", sa.String(32), nullable=False),
        sa.Column("ebox_type", sa.String(16), nullable=False),
        sa.Column("ebox_id_value", sa.String(32), nullable=False),
        sa.Column("publication_id", sa.String(64), nullable=False),
        sa.Column("expires_at", Moment, nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("delivered_at", Moment, nullable=True),
        sa.Column("read", sa.Boolean(), nullable=False),
        sa.Column("read_at", Moment, nullable=True),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("expired", sa.Boolean(), nullable=False),
    )
    op.create_index(
        "status_sender_publication_idx", "status_messages", ["sender_kbo", "publication_id"]
    )

    op.create_table(
        "feed_messages",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("ebox_type", sa.String(16), nullable=False),
        sa.Column("ebox_id_value", sa.String(32), nullable=False),
        sa.Column("sender_kbo", sa.String(32), nullable=False),
        sa.Column("sender_application_id", sa.String(100), nullable=False),
        sa.Column("message_type_id", sa.String(100), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("expires_at", Moment, nullable=False),
        sa.Column("receipt_date", Moment, nullable=True),
    )
    op.create_table(
        "feed_events",
        sa.Column("ebox_type", sa.String(16), primary_key=True),
        sa.Column("sequence_nbr", BigId, primary_key=True, autoincrement=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("event_time", Moment, nullable=False),
        sa.Column("notification_id", BigId, nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("ebox_id_value", sa.String(32), nullable=False),
        sa.Column("receipt_date", Moment, nullable=False),
        sa.Column("expires_at", Moment, nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("message_type_id", sa.String(100), nullable=False),
        sa.Column("sender_kbo", sa.String(32), nullable=False),
        sa.Column("sender_application_id", sa.String(100), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
    )
    op.create_index("feed_events_time_idx", "feed_events", ["ebox_type", "event_time"])


def downgrade() -> None:
    op.drop_index("feed_events_time_idx", table_name="feed_events")
    op.drop_index("status_sender_publication_idx", table_name="status_messages")
    op.execute("DROP TABLE IF EXISTS inbox_search")
    for name in (LISTING_INDEX[0], *FILTER_INDEXES):
        op.drop_index(name, table_name="inbox_messages")
    for table in (
        "feed_events",
        "feed_messages",
        "status_messages",
        "mailbox_consultations",
        "ref_message_types",
        "ref_sender_applications",
        "ref_sender_organizations",
        "inbox_messages",
        *TRACKING_TABLES,
    ):
        op.drop_table(table)
