"""Running the Alembic migrations from code (`ebox db upgrade`, tests, first use)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

import ebox.migrations
from ebox.adapters.home import protect_sqlite

MIGRATIONS_DIR = Path(ebox.migrations.__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (default: the latest)."""
    protect_sqlite(url)
    command.upgrade(alembic_config(url), revision)


def is_current(url: str) -> bool:
    """True when the database already has the latest migration applied."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    engine = create_engine(url, hide_parameters=True)
    try:
        with engine.connect() as connection:
            if "alembic_version" not in inspect(connection).get_table_names():
                return False
            current = MigrationContext.configure(connection).get_current_heads()
        head = ScriptDirectory.from_config(alembic_config(url)).get_heads()
        return set(current) == set(head)
    finally:
        engine.dispose()
