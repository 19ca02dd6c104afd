"""Moved to `ebox.adapters.home`: the data directory and its secrets are no projection.

Kept so that the old import name keeps working (api/deps.py, and branches not yet
merged); remove once nothing imports `ebox.projections.home`.
"""

from ebox.adapters.home import (  # noqa: F401
    DEFAULT_ORIGIN,
    PRIVATE_DIRECTORY,
    PRIVATE_FILE,
    SECRET_SIZE,
    SQLITE_COMPANIONS,
    Secrets,
    SecretUnavailable,
    _secret_file,
    data_dir,
    decode_secret,
    default_database_url,
    load_secret,
    load_secrets,
    private_directory,
    protect_home,
    protect_sqlite,
    secret_from_env,
    sqlite_path,
)
