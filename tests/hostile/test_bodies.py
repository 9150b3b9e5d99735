"""Hostile request bodies: oversized (413), deeply nested or not UTF-8 (a clean 4xx), and text
that looks like an attack, which is stored and returned verbatim. Every refusal is a problem+json
that stores nothing."""

from __future__ import annotations

import pytest

from shared.api import DEFAULT_MAX_BODY_BYTES
from shared.auth import Role
from shared.problems import PROBLEM_JSON
from tests.security.world import OWN_BRANCH
from tests.support import enrolment

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def event_count(world) -> int:
    return await world.services["enrollment"].pool.fetchval("SELECT count(*) FROM events")


def problem(answer, status):
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    body = answer.json()
    assert body["status"] == status
    return body


async def post_raw(world, content, **headers):
    client = world.services["enrollment"].client
    manager = world.headers(Role.AFTER_SALES_MANAGER)
    return await client.post(
        "/trainees",
        content=content,
        headers={**manager, "Content-Type": "application/json", **headers},
    )


async def test_oversized_body_with_content_length_is_413_before_it_is_read(world):
    before = await event_count(world)
    big = b'{"name": "' + b"x" * (DEFAULT_MAX_BODY_BYTES + 10) + b'"}'
    body = problem(await post_raw(world, big), 413)
    assert str(DEFAULT_MAX_BODY_BYTES) in body["detail"]
    assert await event_count(world) == before


async def test_oversized_chunked_body_without_content_length_is_413(world):
    before = await event_count(world)

    async def chunks():  # an async iterator: httpx sends it chunked, with no Content-Length
        yield b'{"name": "'
        for _ in range(20):
            yield b"y" * 65536
        yield b'"}'

    problem(await post_raw(world, chunks()), 413)
    assert await event_count(world) == before


async def test_lying_content_length_does_not_let_a_big_body_through(world):
    client = world.services["enrollment"].client
    big = b"[" + b"1," * DEFAULT_MAX_BODY_BYTES + b"1]"
    request = client.build_request(
        "POST",
        "/trainees",
        content=big,
        headers={**world.headers(Role.AFTER_SALES_MANAGER), "Content-Type": "application/json"},
    )
    request.headers["Content-Length"] = "10"
    problem(await client.send(request), 413)


async def test_deeply_nested_json_is_a_clean_4xx(world):
    before = await event_count(world)
    for depth in (1_000, 10_000, 100_000):
        for opening, closing in ((b"[", b"]"), (b'{"a":', b"}")):
            answer = await post_raw(world, opening * depth + closing * depth)
            assert 400 <= answer.status_code < 500, answer.text
            assert answer.headers["content-type"] == PROBLEM_JSON
    assert await event_count(world) == before


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "\xff\xfe"}',  # not UTF-8 at all
        b'{"name": "\xe5\xbc"}',  # a truncated UTF-8 sequence
        b'{"name": "\xed\xa0\x80"}',  # an encoded surrogate
        '{"name": "张三"}'.encode("gb18030"),  # another encoding of Chinese
        b'{"name": "\\ud800"}',  # a lone surrogate escape
        b"\xef\xbb\xbf{}",  # a byte-order mark
        b'{"trainee_id": "x", "name": NaN}',
        b"",
    ],
)
async def test_body_that_is_not_utf8_json_is_a_clean_422_naming_the_body(world, raw):
    before = await event_count(world)
    body = problem(await post_raw(world, raw), 422)
    assert body["errors"][0]["field"].startswith("body"), body
    assert await event_count(world) == before


INJECTIONS = [
    "Robert'); DROP TABLE events;--",
    "' OR '1'='1",
    '"; DELETE FROM events WHERE "1"="1',
    "<script>alert('x')</script>",
    "{{7*7}} ${7*7} %s %n",
    "\u202eRTL override\u202c and \u200f marks \u200e",
    "emoji 👩\u200d🔧🛠️",
    "张三 李四 王五（售后）",
    "back\\slash and \"quotes\" and 'single'",
    "tab\there, newline\nthere",
    "ａｂｃ full-width",
]


@pytest.mark.parametrize("text", INJECTIONS)
async def test_injection_like_text_round_trips_verbatim(world, text):
    client = world.services["enrollment"].client
    manager = world.headers(Role.AFTER_SALES_MANAGER)
    trainee_id = f"inj-{INJECTIONS.index(text)}"
    body = enrolment(trainee_id, name=text, certificates=[text], product_series=[text])
    created = await client.post("/trainees", json=body, headers=manager)
    assert created.status_code == 201, created.text
    shown = await client.get(f"/trainees/{trainee_id}", headers=manager)
    assert shown.status_code == 200
    assert shown.json()["name"] == text
    assert shown.json()["certificates"] == [text]
    assert shown.json()["product_series"] == [text]


@pytest.mark.parametrize(
    "where", ["name", "certificates", "product_series", "branch_id", "trainee_id"]
)
async def test_nul_character_is_a_422_naming_the_field(world, where):
    """PostgreSQL text cannot hold U+0000: refused up front, not a 500 from the database."""
    value = "bad\u0000name"
    body = {
        **enrolment("nul-1"),
        where: [value] if where in ("certificates", "product_series") else value,
    }
    before = await event_count(world)
    client = world.services["enrollment"].client
    answer = await client.post(
        "/trainees", json=body, headers=world.headers(Role.AFTER_SALES_MANAGER)
    )
    problem_body = problem(answer, 422)
    assert any(e["field"].startswith(f"body.{where}") for e in problem_body["errors"]), problem_body
    assert await event_count(world) == before


async def test_nul_character_in_a_query_is_a_422(world):
    client = world.services["enrollment"].client
    answer = await client.get(
        "/trainees", params={"branch_id": "dl\u0000north"}, headers=world.headers(Role.MANAGEMENT)
    )
    problem(answer, 422)


async def test_own_branch_is_untouched_by_the_noise(world):
    """The seeded trainee of the world reads back as it was enrolled."""
    client = world.services["enrollment"].client
    shown = await client.get("/trainees/t-own", headers=world.headers(Role.MANAGEMENT))
    assert shown.json()["branch_id"] == OWN_BRANCH
