"""docker/compose.yaml: PostgreSQL, migrations as an explicit step, API replicas, workers."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"
SECRETS = {
    "EBOX_DB_PASSWORD": "x",
    "EBOX_KEK": "x",
    "EBOX_LEDGER_KEY": "x",
    "EBOX_API_TOKEN_KEY": "x",
}


def test_compose_runs_migrations_before_api_and_workers() -> None:
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    assert set(services) == {"postgres", "migrate", "api", "workers"}
    assert services["migrate"]["command"] == ["ebox", "db", "upgrade"]
    for name in ("api", "workers"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
    assert "--no-workers" in services["api"]["command"]


def test_no_secret_is_written_in_the_compose_file() -> None:
    text = (DOCKER / "compose.yaml").read_text()
    for name in SECRETS:
        assert f"${{{name}:?" in text  # required from the environment, never a default


def test_compose_config_passes() -> None:
    compose = shutil.which("docker-compose")
    command = [compose] if compose else None
    if command is None and shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        command = ["docker", "compose"] if probe.returncode == 0 else None
    if command is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed")
    result = subprocess.run(
        [*command, "-f", str(DOCKER / "compose.yaml"), "config"],
        env={**os.environ, **SECRETS},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
