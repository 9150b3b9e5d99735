"""Every 2xx answer of every service is described in its OpenAPI document (issue 15): a JSON answer
by a named model whose fields are listed, a file by its binary type. A free-form object (FastAPI's
schema for a route returning ``dict``) tells a client nothing."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from shared.settings import Settings

SERVICES = ("enrollment", "training", "assessment", "compensation")


def undescribed_answers(spec: dict[str, Any]) -> list[str]:
    """``METHOD path status media-type`` of each 2xx answer without a schema that says what it
    carries."""
    schemas = spec.get("components", {}).get("schemas", {})
    missing = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                content = answer.get("content") or {"(none)": {}}
                for media_type, body in content.items():
                    if not _describes(body.get("schema"), schemas):
                        missing.append(f"{method.upper()} {path} {status} {media_type}")
    return missing


def _describes(schema: dict[str, Any] | None, schemas: dict[str, Any]) -> bool:
    if not schema:
        return False
    if "$ref" in schema:
        return _describes(schemas[schema["$ref"].rsplit("/", 1)[1]], schemas)
    if schema.get("type") == "string":
        return schema.get("format") == "binary" or "contentMediaType" in schema
    return bool(schema.get("properties"))


@pytest.mark.parametrize("service", SERVICES)
def test_every_2xx_answer_has_a_schema_naming_its_fields(service):
    app = importlib.import_module(f"services.{service}.app").create_app(Settings(workers=[]))
    assert undescribed_answers(app.openapi()) == []


def test_a_route_returning_a_plain_dict_counts_as_undescribed():
    spec = {
        "paths": {
            "/x": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "additionalProperties": True}
                                }
                            }
                        }
                    }
                }
            }
        },
    }
    assert undescribed_answers(spec) == ["GET /x 200 application/json"]
