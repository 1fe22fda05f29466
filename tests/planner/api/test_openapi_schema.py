"""The OpenAPI document is complete: generated without one warning and valid OpenAPI 3."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management import call_command


def test_schema_generates_without_warnings_and_validates(tmp_path: Path) -> None:
    target = tmp_path / "schema.yaml"
    # --fail-on-warn turns every "could not resolve" or "unable to guess" into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert "/api/v1/study-runs/" in paths
    assert "/api/v1/study-imports/" in paths
    assert "/api/v1/device/measurements/" in paths
    assert "/api/v1/device/plate-readings/" in paths
    schemes = schema["components"]["securitySchemes"]
    token = schemes["personalToken"]
    assert (token["type"], token["in"], token["name"]) == ("apiKey", "header", "Authorization")
    assert "Token vl_" in token["description"]
    # Every operation says who may call it.
    unsecured = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and not operation.get("security")
    ]
    assert unsecured == []
