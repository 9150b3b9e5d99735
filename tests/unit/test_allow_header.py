"""A method a path does not have is answered 405 with ``Allow`` listing exactly the methods the
OpenAPI document declares for that path (RFC 9110), whichever of its routes the request met
first."""

from __future__ import annotations

import httpx
import pytest

from services.training.app import create_app
from shared.settings import Settings


@pytest.mark.parametrize("method", ["OPTIONS", "DELETE", "PATCH"])
async def test_a_path_with_two_routes_lists_both_methods_in_allow(method):
    app = create_app(Settings(workers=[]))
    declared = {m.upper() for m in app.openapi()["paths"]["/plans/{trainee_id}"]}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.request(method, "/plans/t-1")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed - {"HEAD"} == declared == {"GET", "PUT"}
    assert response.headers["content-type"] == "application/problem+json"
