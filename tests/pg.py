"""PostgreSQL for the test suite: find a server, create and drop databases.

The server is chosen in this order (see `find_server`):

1. `EBOX_TEST_POSTGRES_URL`, a server URL such as
   `postgresql+psycopg2://postgres@127.0.0.1:5432/postgres` (its database is the
   maintenance database used to create and drop the test databases);
2. the local server at 127.0.0.1:5432, user `postgres`, if it accepts connections;
3. a throwaway server started from the installed binaries (`pg_ctl`) with
   pytest-postgresql's executor. PostgreSQL refuses to run as root, so when the
   tests run as root (as CI does) `pg_ctl` is run as the `postgres` OS user
   through a small wrapper, in a scratch directory that user owns.

Every session works in databases of its own, named `ebox_test_<pid>_<random>_*`:
one migrated template, cloned per test (`CREATE DATABASE ... TEMPLATE ...`), all
dropped at the end, so nothing leaks between runs or between engineers sharing
one server.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import NullPool

ENV_URL = "EBOX_TEST_POSTGRES_URL"
LOCAL_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
PG_OS_USER = "postgres"
# A probe of a server that does not answer must not hang the session forever.
CONNECT_TIMEOUT_SECONDS = 10
SERVER_START_GUARD_SECONDS = 600


class NoServer(RuntimeError):
    """No PostgreSQL server could be found or started."""


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def configured_url() -> str:
    """The server URL given by the environment, or ''."""
    return os.environ.get(ENV_URL, "").strip()


def redact(url: str | URL) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _as_string(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def connection_error(url: str) -> str | None:
    """None when `url` accepts connections, else why not (one line)."""
    engine = create_engine(
        url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        lines = str(getattr(error, "orig", None) or error).strip().splitlines()
        return f"{type(error).__name__}: {lines[0] if lines else ''}"
    finally:
        engine.dispose()
    return None


# --------------------------------------------------------------------------- throwaway server


def find_pg_ctl() -> str | None:
    """The newest installed `pg_ctl`: Debian's versioned directories, then PATH."""

    def version(path: str) -> tuple[int, ...]:
        match = re.search(r"/postgresql/(\d+(?:\.\d+)*)/bin/", path)
        return tuple(int(part) for part in match.group(1).split(".")) if match else ()

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=version, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


_WRAPPER = """\
#!{python}
# pg_ctl as the {user} OS user: PostgreSQL refuses to run as root.
import os, pwd, sys
user = pwd.getpwnam({user!r})
os.chdir({workdir!r})
os.setgroups([])
os.setgid(user.pw_gid)
os.setuid(user.pw_uid)
os.environ.update(HOME=user.pw_dir, USER=user.pw_name, LOGNAME=user.pw_name)
os.execv({pg_ctl!r}, [{pg_ctl!r}, *sys.argv[1:]])
"""


@dataclass
class ThrowawayServer:
    """A PostgreSQL server of this test session, in a scratch directory."""

    url: str
    workdir: Path
    executor: Any = field(repr=False)

    def stop(self) -> None:
        try:
            self.executor.stop()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_throwaway_server() -> ThrowawayServer:
    """Start a PostgreSQL server from the installed binaries (trust auth, user postgres)."""
    try:
        import port_for
        from pytest_postgresql.executors import PostgreSQLExecutor
    except ImportError as error:
        raise NoServer(f"pytest-postgresql is not installed ({error})") from error

    pg_ctl = find_pg_ctl()
    if pg_ctl is None:
        raise NoServer(
            "no pg_ctl found (looked in /usr/lib/postgresql/*/bin and PATH): "
            "install the PostgreSQL server package"
        )
    workdir = Path(tempfile.mkdtemp(prefix="ebox-test-pg-"))
    try:
        executable = pg_ctl
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(PG_OS_USER)
            except KeyError as error:
                raise NoServer(
                    f"running as root, and PostgreSQL refuses to run as root, but there is "
                    f"no {PG_OS_USER!r} OS user to run the throwaway server as"
                ) from error
            os.chown(workdir, user.pw_uid, user.pw_gid)
            wrapper = workdir / "pg_ctl-as-postgres"
            wrapper.write_text(
                _WRAPPER.format(
                    python=sys.executable, user=PG_OS_USER, workdir=str(workdir), pg_ctl=pg_ctl
                )
            )
            wrapper.chmod(stat.S_IRWXU)
            executable = str(wrapper)
        port = port_for.select_random()
        executor = PostgreSQLExecutor(
            executable=executable,
            host="127.0.0.1",
            port=port,
            datadir=str(workdir / "data"),
            unixsocketdir=str(workdir),
            logfile=str(workdir / "postgresql.log"),
            startparams="-w",
            dbname="postgres",
            user="postgres",
            # Only a guard against a hung pg_ctl (which has its own start timeout):
            # a failed start is seen at once, when pg_ctl exits with an error.
            timeout=SERVER_START_GUARD_SECONDS,
            postgres_options="-c listen_addresses=127.0.0.1 -c fsync=off",
        )
        try:
            executor.start()
        except Exception as error:
            log = workdir / "postgresql.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise NoServer(f"the throwaway server did not start ({error}); log:\n{tail}") from error
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    return ThrowawayServer(url=url, workdir=workdir, executor=executor)


# --------------------------------------------------------------------------- choosing a server


@dataclass(frozen=True)
class Server:
    url: str
    source: str  # how it was found, for the test report

    def describe(self) -> str:
        return f"{redact(self.url)} ({self.source})"


@contextmanager
def find_server() -> Iterator[Server]:
    """Yield a usable server (see the module docstring); raise NoServer if there is none."""
    configured = configured_url()
    if configured:
        problem = connection_error(configured)
        if problem:
            raise NoServer(f"{ENV_URL}={redact(configured)} does not accept connections: {problem}")
        yield Server(configured, f"from {ENV_URL}")
        return

    tried = []
    problem = connection_error(LOCAL_URL)
    if problem is None:
        yield Server(LOCAL_URL, "local server")
        return
    tried.append(f"local server {LOCAL_URL}: {problem}")

    try:
        server = start_throwaway_server()
    except NoServer as error:
        tried.append(f"throwaway server: {error}")
        raise NoServer(
            f"no PostgreSQL server available (set {ENV_URL} to a server URL). Tried:\n  - "
            + "\n  - ".join(tried)
        ) from error
    try:
        yield Server(server.url, f"throwaway server in {server.workdir}")
    finally:
        server.stop()


# --------------------------------------------------------------------------- databases


class DatabaseFactory:
    """Creates and drops this session's databases on one server."""

    def __init__(self, server_url: str) -> None:
        url = make_url(server_url)
        self.server_url = url.set(database=url.database or "postgres")
        self.prefix = f"ebox_test_{os.getpid()}_{secrets.token_hex(4)}"
        self._engine = create_engine(
            _as_string(self.server_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        self._count = 0
        self._live: set[str] = set()

    def url_for(self, name: str) -> str:
        return _as_string(self.server_url.set(database=name))

    def new_name(self, label: str) -> str:
        self._count += 1
        return f"{self.prefix}_{label}{self._count}"

    def _quote(self, name: str) -> str:
        return self._engine.dialect.identifier_preparer.quote(name)

    def create(self, name: str, template: str | None = None) -> str:
        """Create database `name` (a copy of `template` if given); return its URL."""
        if not name.startswith(self.prefix):
            raise ValueError(f"{name!r} is not a database of this session ({self.prefix}_*)")
        sql = f"CREATE DATABASE {self._quote(name)}"
        if template is not None:
            sql += f" TEMPLATE {self._quote(template)}"
        with self._engine.connect() as connection:
            connection.execute(text(sql))
        self._live.add(name)
        return self.url_for(name)

    def drop(self, name: str) -> None:
        """Drop database `name`, ending any connection still open to it."""
        if not name.startswith(self.prefix):
            raise ValueError(f"{name!r} is not a database of this session ({self.prefix}_*)")
        with self._engine.connect() as connection:
            _terminate(connection, name)
            force = " WITH (FORCE)" if _server_version(connection) >= 130000 else ""
            connection.execute(text(f"DROP DATABASE IF EXISTS {self._quote(name)}{force}"))
        self._live.discard(name)

    def existing(self) -> list[str]:
        """This session's databases that exist on the server."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                {"prefix": self.prefix + "_"},
            )
            return sorted(row[0] for row in rows)

    def drop_all(self) -> None:
        """Drop every database of this session (those made here and any left behind)."""
        try:
            for name in sorted(self._live | set(self.existing())):
                self.drop(name)
        finally:
            self._engine.dispose()


def _terminate(connection: Connection, name: str) -> None:
    connection.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        ),
        {"name": name},
    )


def _server_version(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one())
