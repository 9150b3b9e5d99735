"""The one dependency of a command route (shared/commands.py): If-Match parsing at its
boundaries, and the OpenAPI headers it declares on the routes that use it."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI

from shared.auth import Role
from shared.commands import CommandContext, command, document_command_headers, parse_if_match
from shared.problems import Problem


@pytest.mark.parametrize(
    ("header", "version"),
    [(None, None), ('"0"', 0), ('"7"', 7), (' "12" ', 12), ('"9999999999"', 9_999_999_999)],
)
def test_if_match_names_a_version(header, version):
    assert parse_if_match(header) == version


@pytest.mark.parametrize("header", ["7", '"-1"', '"12345678901"', 'W/"7"', '"7", "8"', '""', "*"])
def test_a_malformed_if_match_is_a_422_naming_the_header(header):
    with pytest.raises(Problem) as caught:
        parse_if_match(header)

    assert caught.value.status == 422
    assert caught.value.errors[0]["field"] == "header.If-Match"


# Module level: FastAPI resolves the routes' annotations (postponed) in this module's namespace.
Create = Annotated[CommandContext, Depends(command(Role.BRANCH_CLERK))]
Change = Annotated[CommandContext, Depends(command(Role.BRANCH_CLERK, if_match=True))]


def operation_parameters(app: FastAPI, path: str) -> list[str]:
    return [p["name"] for p in app.openapi()["paths"][path]["post"].get("parameters", [])]


def test_command_routes_document_their_headers_once_and_other_routes_none():
    router = APIRouter()

    @router.post("/things")
    async def create(cmd: Create) -> None: ...

    @router.post("/things/{thing_id}")
    async def change(thing_id: str, cmd: Change) -> None: ...

    @router.post("/plain")
    async def plain() -> None: ...

    document_command_headers(router.routes)
    document_command_headers(router.routes)  # twice: still one declaration each
    app = FastAPI()
    app.include_router(router)

    assert operation_parameters(app, "/things") == ["Idempotency-Key"]
    assert operation_parameters(app, "/things/{thing_id}") == [
        "thing_id",
        "Idempotency-Key",
        "If-Match",
    ]
    assert operation_parameters(app, "/plain") == []
    security = app.openapi()["paths"]["/things"]["post"]["security"]
    assert security == [{"HTTPBearer": []}]
