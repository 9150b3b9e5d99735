"""schemathesis against each service's OpenAPI, in process, on the seeded world: for every
operation a bounded, seeded set of generated requests (valid and invalid bodies, odd paths and
queries), sent with the token of a role the security matrix admits. No answer may be a 5xx, and
every answer must be one the schema declares, in the declared shape (problem+json for errors).

Cases are drawn first (hypothesis, derandomized) and sent afterwards on the module's event loop,
so the apps run once with their real lifespans; the price is no shrinking, which the failure
message makes up for by naming the request."""

from __future__ import annotations

import contextlib
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.matrix import MATRIX, SERVICES

pytestmark = pytest.mark.asyncio(loop_scope="module")
EXAMPLES_PER_OPERATION = 8  # of each mode: 16 requests per operation
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def drawn_cases(operation: Any, count: int) -> list[Any]:
    """``count`` requests the schema allows, then ``count`` it does not (wrong types, missing
    fields, out-of-range values), each set the same on every run."""
    return [
        *_draw(operation.as_strategy(generation_mode=GenerationMode.POSITIVE), count),
        *_draw(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), count),
    ]


def _draw(strategy: Any, count: int) -> list[Any]:
    cases: list[Any] = []

    @hypothesis.settings(
        max_examples=count, derandomize=True, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @hypothesis.given(strategy)
    def collect(case: Any) -> None:
        cases.append(case)

    with contextlib.suppress(hypothesis.errors.Unsatisfiable):  # nothing to break in /health
        collect()
    return cases


def caller_role(service: str, method: str, path: str) -> str:
    """A role the matrix admits; /health and /ready take no token, so any will do."""
    rows = [r for r in MATRIX if (r.service, r.method, r.path) == (service, method, path)]
    return sorted(rows[0].roles or rows[0].scoped)[0] if rows else "management"


def request_kwargs(case: Any, headers: dict[str, str]) -> dict[str, Any]:
    kwargs = case.as_transport_kwargs(base_url="http://test", headers=headers)
    # Generated header values may hold any character; httpx sends str headers as ASCII only,
    # so the others go as their UTF-8 bytes, as a hostile client would send them.
    kwargs["headers"] = {
        name: value.encode() if isinstance(value, str) and not value.isascii() else value
        for name, value in (kwargs.get("headers") or {}).items()
    }
    if "data" in kwargs:  # requests' name for a raw body; httpx calls it content
        kwargs["content"] = kwargs.pop("data")
    return {k: v for k, v in kwargs.items() if k in ("method", "url", "headers", "params",
                                                     "json", "content")}  # fmt: skip


@pytest.mark.parametrize("service", SERVICES)
async def test_generated_requests_get_declared_answers_and_never_a_5xx(world, service):
    running = world.services[service]
    schema = schemathesis.openapi.from_dict(running.app.openapi())
    failures: list[str] = []
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        role = caller_role(service, operation.method.upper(), operation.path)
        auth = world.headers(role)
        for case in drawn_cases(operation, EXAMPLES_PER_OPERATION):
            kwargs = request_kwargs(case, {**(case.headers or {}), **auth})
            response = await running.client.request(**kwargs)
            sent += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except BaseExceptionGroup as failure:  # a FailureGroup: every check that failed
                failures.append(
                    f"{kwargs['method']} {kwargs['url']} {kwargs.get('params')} "
                    f"{kwargs.get('json', kwargs.get('content'))!r:.300} -> "
                    f"{response.status_code} {response.text[:300]}\n  {failure}"
                )
    assert sent > 0
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:15])
