"""Money beyond any wage and tampered page cursors are the caller's mistakes: a 422 naming the
field or parameter, never a 500 (docs/http.md: money has two decimals; lists take the
``next_cursor`` of the previous page), over HTTP against real PostgreSQL."""

from __future__ import annotations

import base64

import pytest

from services.compensation.app import create_app as compensation_app
from services.compensation.consumers import handle as compensation_handle
from services.enrollment.app import create_app as enrollment_app
from shared.auth import Role
from shared.problems import PROBLEM_JSON
from shared.requests import encode_cursor
from tests.integration.assessment.helpers import delete_topology
from tests.integration.compensation.upstream import MONTH, count_events, deliver, enrolled
from tests.organisation import teach_branches
from tests.support import long_secret, running


@pytest.fixture
async def pay(settings):
    settings = long_secret(settings).model_copy(update={"consumer_partitions": 1})
    try:
        async with running(compensation_app(settings), settings, "compensation") as service:
            yield service
    finally:
        await delete_topology(settings, ["compensation"])


@pytest.fixture
async def directory(settings):
    settings = long_secret(settings)
    async with running(enrollment_app(settings), settings, "enrollment") as service:
        yield service


def assert_422_naming(answer, field: str) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert field in [e["field"] for e in answer.json()["errors"]], answer.text


@pytest.mark.parametrize(
    "amount",
    ["1E+26", 1e26, "1E+400", "123456789012.00", "10000000000", "1000000000.01", "0.001"],
)
async def test_a_piece_rate_beyond_bounds_is_422_naming_the_amount(pay, amount):
    """R-28's piece-rate wage is money: two decimals, and an upper bound no wage reaches."""
    await deliver(pay, enrolled("t-d", "production_reserve"))
    headers = pay.as_("payroll-1", Role.PAYROLL)

    answer = await pay.client.post(
        "/employees/t-d/piece-rate", json={"month": MONTH, "amount": amount}, headers=headers
    )

    assert_422_naming(answer, "body.amount")
    assert await count_events(pay) == 0


async def test_the_largest_piece_rate_allowed_is_recorded(pay):
    await deliver(pay, enrolled("t-d", "production_reserve"))
    headers = pay.as_("payroll-1", Role.PAYROLL)

    answer = await pay.client.post(
        "/employees/t-d/piece-rate",
        json={"month": MONTH, "amount": "999999999.99"},
        headers=headers,
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["amount"] == "999999999.99"


def raw_cursor(text: bytes) -> str:
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


TAMPERED = {
    "wrI": "wrI",  # decodes to "²", a digit to str.isdigit() but not to int()
    "AA": "AA",  # decodes to NUL
    "30 digits": "1" * 30,
    "not base64": "%%%",
    "not UTF-8": raw_cursor(b"\xff\xfe"),
    "a key too long": encode_cursor("k" * 65),
    "a key with a quote": encode_cursor("t-1' OR 1=1"),
    "too long": "A" * 2000,
}


# A payslip list's key is a position in the store: a positive 64-bit integer.
NOT_POSITIONS = {
    **TAMPERED,
    "30 encoded digits": encode_cursor("9" * 30),
    "2**63": encode_cursor(str(2**63)),
    "negative": encode_cursor("-5"),
    "a trainee's key": encode_cursor("t-100"),
}


@pytest.mark.parametrize("cursor", NOT_POSITIONS.values(), ids=NOT_POSITIONS.keys())
async def test_a_tampered_payslip_cursor_is_422_naming_the_cursor(pay, cursor):
    headers = pay.as_("payroll-1", Role.PAYROLL)

    answer = await pay.client.get(
        "/employees/t-d/payslips", params={"cursor": cursor}, headers=headers
    )

    assert_422_naming(answer, "query.cursor")


@pytest.mark.parametrize("cursor", TAMPERED.values(), ids=TAMPERED.keys())
async def test_a_tampered_trainee_list_cursor_is_422_naming_the_cursor(directory, cursor):
    headers = directory.as_("mgr", Role.AFTER_SALES_MANAGER)

    answer = await directory.client.get("/trainees", params={"cursor": cursor}, headers=headers)

    assert_422_naming(answer, "query.cursor")


async def test_a_query_parameter_given_twice_is_422_naming_it_not_the_last_one_taken(pay):
    """``?branch_id=a&branch_id=b`` is ambiguous: it is refused, where the framework would take
    the last value and answer for a branch the caller may not have meant."""
    headers = pay.as_("pay-1", Role.PAYROLL)

    answer = await pay.client.get(
        f"/branch-fees/{MONTH}",
        params=[("branch_id", "bo-east"), ("branch_id", "bo-west")],
        headers=headers,
    )

    assert_422_naming(answer, "query.branch_id")
    await teach_branches(pay.pool, compensation_handle, "bo-east")  # a branch it knows
    once = await pay.client.get(
        f"/branch-fees/{MONTH}", params={"branch_id": "bo-east"}, headers=headers
    )
    assert once.status_code == 200, once.text
