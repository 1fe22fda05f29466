"""OpenAPI descriptions of our authentication schemes (drf-spectacular extensions).

Imported by ``PlannerConfig.ready`` so the extensions are registered before any schema is built.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PersonalTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "planner.api.authentication.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A person's API token: `Authorization: Token vl_<prefix>_<secret>` "
            "(created on the account page, shown once).",
        }


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names each bad field (or row) and why.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "reason": {"type": "string"},
                    "code": {"type": "string"},
                },
                "additionalProperties": True,
            },
        },
    },
    "required": ["title", "status", "detail"],
    "additionalProperties": True,
}

_EVERY_OPERATION = {
    "400": "Invalid input (a path or query parameter, or the body): each one named with why.",
    "401": "Not authenticated, or the token is invalid, expired or revoked.",
    "403": "Authenticated but not allowed (role, lab, blinding or token scope).",
    "404": "No such record among those you may see.",
    "405": "Method not allowed on this resource.",
    "406": "No acceptable representation.",
    "429": "Too many requests; see Retry-After.",
}
_WRITES = {
    "409": "A request with this Idempotency-Key is still in progress, or a state conflict.",
    "412": "The record changed since you read it (If-Match stale).",
    "413": "The request is larger than the configured limit.",
    "415": "Unsupported media type.",
    "422": "Refused as a whole (e.g. the Idempotency-Key was used with another body).",
    "428": "An If-Match header is required for this change.",
}


def add_problem_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Document the problem+json error answers every operation can give (postprocessing hook).

    The problem handler (planner/api/problems.py) answers every refusal in one shape; without
    this, each operation would list only its success and clients would meet undocumented codes.
    """
    del generator, request, public
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = dict(_EVERY_OPERATION)
            if method in {"post", "put", "patch", "delete"}:
                codes.update(_WRITES)
            for code, description in codes.items():
                operation["responses"].setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": reference}},
                    },
                )
    return result
