"""docker/compose.yaml read as compose reads it, and its services started as local processes.

There is no Docker engine on the test machines, so tests/e2e/test_compose_topology.py
runs what the file declares instead of containers: each service's command (``ebox
...`` as ``python -m ebox.cli.main ...``) with exactly the environment the file
gives it, the secrets it lists as files at the paths its ``*_FILE`` variables
name (``/run/secrets/NAME`` becomes a file in the test's secrets folder), the
data directory volume as a folder. The only changes are those a container
network makes for free: each process listens on 127.0.0.1 and a free port
instead of 0.0.0.0 and its fixed port, in a container of its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker" / "compose.yaml"
SECRETS_MOUNT = "/run/secrets/"
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::(?P<op>[-?])(?P<arg>[^}]*))?\}")


def interpolate(text: str, shell: Mapping[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}`, from `shell`."""

    def value(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if shell.get(name):
            return shell[name]
        if op == "?":
            raise KeyError(f"{name} must be set: {arg}")
        return arg if op == "-" else ""

    return _VARIABLE.sub(value, text)


def load_compose(shell: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The file as `docker compose config` resolves it (anchors, merge keys, variables)."""
    loaded: dict[str, Any] = yaml.safe_load(interpolate(COMPOSE.read_text(), shell or {}))
    return loaded


@dataclass
class Service:
    """One service of the file, ready to run here."""

    name: str
    spec: dict[str, Any]
    secrets_dir: Path
    volumes: dict[str, Path]

    @property
    def environment(self) -> dict[str, str]:
        """The service's environment with secret paths and volume paths made local."""
        env: dict[str, str] = {}
        for key, value in (self.spec.get("environment") or {}).items():
            text = str(value)
            if text.startswith(SECRETS_MOUNT):
                secret = text.removeprefix(SECRETS_MOUNT)
                assert secret in self.spec.get("secrets", []), (self.name, secret)
                text = str(self.secrets_dir / secret)
            for mount, local in self.mounts().items():
                if text == mount:
                    text = str(local)
            env[key] = text
        return env

    def mounts(self) -> dict[str, Path]:
        """Container path -> local folder, for the service's named volumes."""
        found = {}
        for entry in self.spec.get("volumes", []):
            source, _, target = str(entry).partition(":")
            if source in self.volumes:
                found[target.split(":")[0]] = self.volumes[source]
        return found

    def command(self, port: int | None = None) -> list[str]:
        """The declared command run by this interpreter; its listening port replaced."""
        declared = list(self.spec["command"])
        assert declared[0] == "ebox", declared
        args = declared[1:]
        if "--host" in args:
            args[args.index("--host") + 1] = "127.0.0.1"
        if "--port" in args and port is not None:
            args[args.index("--port") + 1] = str(port)
        return [sys.executable, "-m", "ebox.cli.main", *args]

    def healthcheck(self, ports: Mapping[int, int]) -> list[str]:
        """The declared healthcheck command, its URL's port mapped through `ports`."""
        test = list(self.spec["healthcheck"]["test"])
        assert test[0] == "CMD" and test[1] == "python", test
        script = test[2].replace("/app/", f"{REPO}/")
        url = test[3]
        for inside, outside in ports.items():
            url = url.replace(f":{inside}/", f":{outside}/")
        return [sys.executable, script, url]


def base_environment() -> dict[str, str]:
    """What a container has beside the declared variables: a PATH and the code."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path, cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running service until the block ends (stopped as compose does: SIGTERM)."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
