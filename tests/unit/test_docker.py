"""docker/: the image is built from a lock file, runs as a user of its own, and the compose
file passes `docker compose config` (tests/e2e/test_compose_topology.py runs its services)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement (PEP 503)."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def locked() -> dict[str, str]:
    pins = {}
    for line in (DOCKER / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"not pinned: {line}"
            pins[_name(name)] = version.strip()
    return pins


def test_the_lock_pins_every_dependency_of_the_project() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = locked()
    for requirement in project["dependencies"]:
        assert _name(requirement) in pins, f"{requirement} is not in docker/requirements.lock"
    assert "pytest" not in pins and "mypy" not in pins  # the image has no test tools


def test_the_image_installs_the_lock_and_copies_every_package_folder() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert "pip install --no-deps -r docker/requirements.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    folders = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"
    ]
    for folder in {path.split("/")[0] for path in folders.values()}:
        assert f"COPY {folder} {folder}" in dockerfile, f"the image lacks {folder}/"
    assert "COPY docker/healthcheck.py" in dockerfile  # the compose healthchecks run it


def test_the_image_runs_as_a_user_that_owns_its_data_directory() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "install -d -m 0700 -o ebox -g ebox /var/lib/ebox" in dockerfile
    assert "ENV EBOX_HOME=/var/lib/ebox" in dockerfile


def test_the_secrets_script_writes_every_secret_compose_mounts(tmp_path: Path) -> None:
    copy = tmp_path / "docker"
    copy.mkdir()
    shutil.copy(DOCKER / "make-secrets.sh", copy / "make-secrets.sh")
    done = subprocess.run(
        ["sh", str(copy / "make-secrets.sh")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    secrets = copy / "secrets"
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    declared = yaml.safe_load((DOCKER / "compose.yaml").read_text())["secrets"]
    assert {p.name for p in secrets.iterdir()} == set(declared)
    password = (secrets / "db_password").read_text().strip()
    assert f"ebox:{password}@postgres:5432/ebox" in (secrets / "database_url").read_text()
    first = (secrets / "kek").read_text()
    again = subprocess.run(
        ["sh", str(copy / "make-secrets.sh")], capture_output=True, text=True, check=False
    )
    assert "not overwritten" in again.stderr
    assert (secrets / "kek").read_text() == first  # a new KEK is a rotation, never a rerun


def test_compose_config_passes(tmp_path: Path) -> None:
    compose = shutil.which("docker-compose")
    command = [compose] if compose else None
    if command is None and shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        command = ["docker", "compose"] if probe.returncode == 0 else None
    if command is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed")
    # `config` checks that the secret files exist: make them in a copy of docker/.
    copy = tmp_path / "docker"
    shutil.copytree(DOCKER, copy, ignore=shutil.ignore_patterns("secrets"))
    subprocess.run(["sh", str(copy / "make-secrets.sh")], capture_output=True, check=True)
    result = subprocess.run(
        [*command, "-f", str(copy / "compose.yaml"), "config", "--quiet"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
