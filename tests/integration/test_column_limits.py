"""The read models' text columns are as wide as the API lets their values be, by construction.

Each String column of a read model takes its width from ebox.domain.limits.LIMITS,
the table the API validates against (finding 1 of issue 7: an id the API took
was wider than its column, and the view stopped on that row forever). The
migrated databases have those widths too.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import String, Table, create_engine, inspect

from ebox.adapters import tables
from ebox.domain.limits import LIMITS

READ_MODELS = (
    tables.inbox_messages,
    tables.ref_sender_organizations,
    tables.ref_sender_applications,
    tables.ref_message_types,
    tables.mailbox_consultations,
    tables.status_messages,
    tables.feed_messages,
    tables.feed_events,
)

# Which limit bounds each text column of the read models.
COLUMN_LIMITS = {
    "message_id": "message_id",
    "mailbox_id": "mailbox_id",
    "ebox_type": "ebox_type",
    "ebox_id_value": "ebox_id_value",
    "publication_id": "publication_id",
    "sender_kbo": "kbo_number",
    "kbo_number": "kbo_number",
    "sender_application_id": "sender_application_id",
    "application_id": "sender_application_id",
    "message_type_id": "message_type_id",
    "original_message_id": "original_message_id",
    "validity_unit": "validity_unit",
    "event_type": "feed_event_type",
}


def text_columns(table: Table) -> dict[str, int | None]:
    return {c.name: c.type.length for c in table.columns if isinstance(c.type, String)}


@pytest.mark.parametrize("table", READ_MODELS, ids=lambda t: t.name)
def test_every_text_column_of_a_read_model_is_as_wide_as_its_limit(table: Table) -> None:
    for name, width in text_columns(table).items():
        assert name in COLUMN_LIMITS, f"{table.name}.{name} has no limit in ebox.domain.limits"
        assert width == getattr(LIMITS, COLUMN_LIMITS[name]), f"{table.name}.{name}"


def test_the_widths_are_derived_from_the_limits_not_copied() -> None:
    """Widen every limit before the tables are defined: every read-model column follows."""
    program = f"""
import dataclasses, json
import ebox.domain.limits as limits
widened = {{f.name: getattr(limits.LIMITS, f.name) + 1000
           for f in dataclasses.fields(limits.LIMITS) if f.type == "int"}}
limits.LIMITS = dataclasses.replace(limits.LIMITS, **widened)
from ebox.adapters import tables
names = {json.dumps([t.name for t in READ_MODELS])}
print(json.dumps({{t: {{c.name: c.type.length for c in tables.metadata.tables[t].columns
                      if getattr(c.type, "length", None)}} for t in names}}))
"""
    output = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout
    widths = json.loads(output)
    for table in READ_MODELS:
        for name in text_columns(table):
            expected = getattr(LIMITS, COLUMN_LIMITS[name]) + 1000
            assert widths[table.name][name] == expected, f"{table.name}.{name} is not derived"


@pytest.mark.parametrize("table", READ_MODELS, ids=lambda t: t.name)
def test_the_migrated_columns_have_the_same_widths(database_url: str, table: Table) -> None:
    engine = create_engine(database_url)
    try:
        migrated = {
            column["name"]: getattr(column["type"], "length", None)
            for column in inspect(engine).get_columns(table.name)
        }
    finally:
        engine.dispose()
    for name, width in text_columns(table).items():
        assert migrated[name] == width, f"{table.name}.{name}: migrated {migrated[name]}"
