"""Issue 15, typed API answers: every 2xx answer of the assessment and compensation routes is
described in the OpenAPI document (a model with its fields, or a file download), not an
untyped JSON object, so clients and schemathesis see what they get."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from services.assessment import reads as assessment_reads
from services.assessment import routes as assessment_routes
from services.assessment.app import create_app as assessment_app
from services.compensation import reads as compensation_reads
from services.compensation import routes as compensation_routes
from services.compensation.app import create_app as compensation_app
from shared.settings import Settings

SERVICES = {
    "assessment": (assessment_app, [assessment_routes.router, assessment_reads.router]),
    "compensation": (compensation_app, [compensation_routes.router, compensation_reads.router]),
}


def described(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """A model with named fields (through its ``$ref``), or a binary file."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return bool(schema.get("properties")) or schema.get("format") == "binary"


@pytest.mark.parametrize("service", SERVICES)
def test_every_2xx_answer_of_the_services_own_routes_has_a_response_schema(service):
    create_app, routers = SERVICES[service]
    document = create_app(Settings()).openapi()
    components = document["components"]["schemas"]
    untyped = []
    for route in (r for router in routers for r in router.routes if isinstance(r, APIRoute)):
        for method in route.methods:
            answers = document["paths"][route.path][method.lower()]["responses"]
            for status, answer in answers.items():
                if not status.startswith("2"):
                    continue
                schemas = [c.get("schema", {}) for c in answer.get("content", {}).values()]
                if not schemas or not all(described(s, components) for s in schemas):
                    untyped.append(f"{method} {route.path} {status}")
    assert untyped == []
