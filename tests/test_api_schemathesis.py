"""Schemathesis against the live OpenAPI document, in process (WSGI), on the test database.

For every operation it generates requests from the schema and checks: no 5xx, status codes
and content types documented, response bodies valid against the schema; and that calls
without credentials are refused. Examples are few per operation (CI time); the point is that
each operation is exercised and its documentation holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, cast

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from planner.services.tenancy import create_personal_token


def _document() -> dict[str, Any]:
    """The OpenAPI document as /api/schema/ serves it (generated without a database)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return cast(dict[str, Any], json.loads(OpenApiJsonRenderer().render(generated)))


schema = schemathesis.openapi.from_dict(_document())
schema.app = application


@pytest.fixture
def in_process_requests(db: None) -> Iterator[None]:
    # As Django's test client does: a request must not close the test's connection (and with
    # it the test transaction) when it finishes.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def token_header(scientist: Any, study: Any) -> dict[str, str]:
    _token, raw = create_personal_token(user=scientist, name="schemathesis")
    return {"Authorization": f"Token {raw}"}


#: Every documented operation, one test item each. ``schema.parametrize()`` would give all of
#: them one node id, and pytest-xdist schedules by node id: it ran the first operation only.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_every_operation_conforms_to_its_schema(
    operation: Any, in_process_requests: None, token_header: dict[str, str]
) -> None:
    @settings(
        max_examples=2,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def conforms(case: Any) -> None:
        response = case.call(headers=token_header)
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
        )

    conforms()


def test_every_documented_operation_is_a_test_item() -> None:
    """The parametrization above covers the whole document, each operation under its own id."""
    documented = {
        f"{method.upper()} {path}"
        for path, operations in _document()["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert {op.label for op in OPERATIONS} == documented
    assert len(documented) > 200


@pytest.mark.django_db
def test_every_operation_refuses_a_call_without_credentials() -> None:
    """Each documented operation, called with no session and no token, answers 401 or 403 in
    problem+json and never 2xx (the schema is public; the API is not)."""
    client = Client()
    answered: list[str] = []
    for path, operations in _document()["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method in operations:
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            response = getattr(client, method)(url, content_type="application/json")
            answered.append(f"{method.upper()} {path}")
            assert response.status_code in (401, 403), (method, path, response.status_code)
            assert response["Content-Type"] == "application/problem+json", (method, path)
    assert len(answered) > 200
