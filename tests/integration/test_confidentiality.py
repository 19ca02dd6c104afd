"""No plaintext document and no private key ever reaches the database in clear."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import vault_keys
from ebox.projections.delivery import DeliveryWorker
from tests.builders import CITIZEN, SECRET_SENTENCE, make_world


def every_stored_byte(ledger: Ledger) -> bytes:
    """SQLite: the database file and its WAL. PostgreSQL: every row of every table."""
    if ledger.url.startswith("sqlite"):
        path = Path(ledger.url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    engine = ledger.app.factory.datastore.engine  # type: ignore[attr-defined]
    dump = bytearray()
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    dump += (
                        bytes(value)
                        if isinstance(value, bytes | memoryview)
                        else str(value).encode()
                    )
    return bytes(dump)


def test_the_database_holds_no_plaintext_and_no_private_key(ledger: Ledger) -> None:
    world = make_world(ledger)
    message_id = ledger.app.publish(world.letter())
    DeliveryWorker(ledger).run_until_idle()
    assert SECRET_SENTENCE in ledger.app.open_document(
        message_id, "letter.pdf", CITIZEN.address, "portal"
    )
    mailbox = ledger.app.mailbox(CITIZEN.ebox_type, CITIZEN.id_value)
    (fingerprint,) = mailbox.encryption_keys
    private_key = ledger.app.stores.vault.load(fingerprint)

    stored = every_stored_byte(ledger)
    assert (
        ledger.app.stores.blobs.get(
            ledger.app.message(message_id).documents[0]["ciphertext_sha256"]
        )
        in stored
    )
    assert SECRET_SENTENCE not in stored
    assert SECRET_SENTENCE[:24] not in stored
    assert private_key not in stored
    assert ledger.secrets.kek not in stored
    assert ledger.secrets.ledger_seed not in stored


def test_private_keys_are_sealed_under_a_kek_kept_outside_the_database(ledger: Ledger) -> None:
    make_world(ledger)
    with ledger.db.read() as session:
        rows = session.execute(vault_keys.select()).all()
    assert rows and all(row.kek_id == ledger.secrets.kek_id for row in rows)
    assert all(len(row.sealed_private_key) == 32 + 24 + 16 for row in rows)
