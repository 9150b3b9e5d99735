"""The demo's HTTP client (ops/client.py): idempotent writes retried while the answer says "not
yet", refusals reported with what was refused, bounded waits. The services are stood in for by a
function answering each request (httpx's in-memory transport)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from ops.client import SERVICES, Api, DemoError, Who, http_clients

CLERK = Who("clerk-hq", "branch_clerk", branch_id="hq")
Answering = Callable[[httpx.Request], httpx.Response]


def api(answer: Answering, wait_seconds: float = 5.0) -> Api:
    transport = httpx.MockTransport(answer)
    urls = {s: f"http://{s}" for s in SERVICES}
    return Api(http_clients(urls, dict.fromkeys(SERVICES, transport)), "s" * 40, wait_seconds)


async def test_a_write_not_yet_possible_is_sent_again_under_the_same_key() -> None:
    keys: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        assert request.headers["Authorization"].startswith("Bearer ")
        if len(keys) < 3:  # the trainee's enrolment is still on its way to training
            return httpx.Response(404, headers={"Retry-After": "0"}, json={"detail": "not yet"})
        return httpx.Response(201, headers={"Idempotent-Replayed": "true"}, json={"version": 1})

    client = api(answer)
    body = await client.write("training", "PUT", "/plans/t-1", {"stages": []}, CLERK, "k-1")

    assert body == {"version": 1}
    assert keys == ["k-1", "k-1", "k-1"]
    assert (client.stats.writes, client.stats.replayed) == (3, 1)
    await client.close()


async def test_a_remembered_not_found_is_sent_again_under_a_derived_key() -> None:
    keys: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) == 1:  # stored under the key: the same key would replay it
            return httpx.Response(404, json={"detail": "no such trainee"})
        return httpx.Response(200, json={"ok": True})

    client = api(answer)
    body = {"trainee_id": "t-1", "score": "90"}
    answered = await client.post(
        "assessment", "/sessions/s/written", body, CLERK, "k-2", stored_not_found=True
    )

    assert answered == {"ok": True}
    assert keys == ["k-2", "k-2~1"]
    await client.close()


async def test_a_refusal_is_reported_with_the_request_the_principal_and_the_problem() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        problem = {"title": "Unprocessable", "detail": "Idempotency-Key reused with another body"}
        return httpx.Response(422, json=problem)

    client = api(answer)
    with pytest.raises(DemoError) as refused:
        await client.post("enrollment", "/trainees", {}, CLERK, "k-3")

    message = str(refused.value)
    assert message.startswith("POST enrollment/trainees as clerk-hq: 422 Idempotency-Key reused")
    assert "use another --seed or GRADELINE_NAMESPACE" in message
    assert client.stats.writes == 1
    await client.close()


async def test_a_wait_gives_up_naming_what_it_waited_for() -> None:
    client = api(lambda request: httpx.Response(200, json={}))

    async def never() -> bool | None:
        return None

    with pytest.raises(DemoError, match="gave up after 0 s waiting for the grade board"):
        await client.until("the grade board", never, seconds=0.1)
    await client.close()
