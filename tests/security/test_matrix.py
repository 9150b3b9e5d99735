"""Every route x every role (and every pair of roles in one token) x branch relation -> the answer
tests/security/matrix.py expects: authorization passes (a 2xx, or a 4xx other than 401/403 such as
404/409/422 for a resource in the wrong state), 403, or 404 where the contract lets a refusal hide
the resource (R-2)."""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts

from shared.problems import PROBLEM_JSON

from .matrix import ALL_ROLES, MATRIX, PAIRS, SERVICES, UNGUARDED, fill, rows_of
from .world import APPS, relation_for, sub_of

pytestmark = pytest.mark.asyncio(loop_scope="module")
RELATIONS = ("own", "other")


def request_of(world, row, relation):
    values = world.values(relation)
    url = fill(row.url or row.path, values)
    body = fill(row.body, values) if row.body is not None else None
    return world.services[row.service].client, url, body


async def call(world, row, relation, headers):
    client, url, body = request_of(world, row, relation)
    return await client.request(row.method, url, json=body, headers=headers)


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=lambda r: r.id)
async def test_route_answers_each_role_as_the_matrix_says(world, row, role, relation):
    answer = await call(world, row, relation, world.headers(role))
    check(answer, row.expects(role, relation))


def check(answer, expected):
    assert answer.status_code < 500, answer.text
    if expected == "allow":
        assert answer.status_code not in (401, 403), answer.text
    else:
        assert answer.status_code == int(expected), answer.text
        assert answer.headers["content-type"] == PROBLEM_JSON


PAIRS_OF_ROUTES = [(row, pair) for row in MATRIX for pair in row.pairs_decided_by_the_resource()]


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize(
    ("row", "pair"), PAIRS_OF_ROUTES, ids=[f"{r.id}-{'+'.join(p)}" for r, p in PAIRS_OF_ROUTES]
)
async def test_a_token_of_two_roles_sees_no_more_than_each_role_alone(world, row, pair, relation):
    """R-2, docs/http.md: each role grants only its own rights on the route, so a token of two
    roles (a clerk who also trains, a trainee who also examines) is let through only where one of
    them alone would be, and refused as that route refuses otherwise."""
    sub = sub_of(pair)
    answer = await call(world, row, relation, world.headers(pair))
    check(answer, row.expects_of_token({r: relation_for(r, relation, sub) for r in pair}))


@pytest.mark.parametrize("row", MATRIX, ids=lambda r: r.id)
async def test_a_token_of_two_roles_the_route_admits_neither_of_is_403(world, row):
    outsiders = [p for p in PAIRS if not (row.roles | row.scoped).intersection(p)]
    if not outsiders:
        pytest.skip("the route admits every role")
    answer = await call(world, row, "own", world.headers(outsiders[0]))
    check(answer, "403")


@pytest.mark.parametrize("row", MATRIX, ids=lambda r: r.id)
async def test_route_without_a_token_is_401(world, row):
    answer = await call(world, row, "own", {})
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers["www-authenticate"].startswith("Bearer")


GETS_OF_OWN = [r for r in MATRIX if r.method == "GET" and r.scoped]


@pytest.mark.parametrize("row", GETS_OF_OWN, ids=lambda r: r.id)
async def test_scoped_roles_read_their_own_resource_with_200(world, row):
    """R-2: the own branch's clerk (own trainee, own trainer...) is not merely let through: it
    gets the seeded resource."""
    for role in sorted(row.scoped):
        answer = await call(world, row, "own", world.headers(role))
        assert answer.status_code == 200, (role, answer.text)


@pytest.mark.parametrize("service", SERVICES)
def test_matrix_covers_every_route_the_app_exposes(world, service):
    app = APPS[service](world.settings)
    exposed = {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path not in UNGUARDED
        for method in (getattr(route, "methods", None) or ())
        if method != "HEAD"
    }
    tabled = {(r.method, r.path) for r in rows_of(service)}
    assert exposed == tabled, f"untested: {exposed - tabled}; stale: {tabled - exposed}"
