"""Which answers the Idempotency-Key store keeps and replays (architecture: idempotency).

The load tool checks replays with the same function, so a rule change shows in both places.
"""

import pytest

from shared.idempotency import is_final_answer
from shared.problems import PROBLEMS_PATH


@pytest.mark.parametrize("status", [200, 201, 204, 299, 400, 404, 409, 412, 413, 422, 499])
def test_2xx_and_4xx_are_final(status: int) -> None:
    assert is_final_answer(status, ["content-type"], b"{}")


@pytest.mark.parametrize("status", [401, 403])
def test_answers_about_the_caller_are_not_final(status: int) -> None:
    """A renewed token or a granted role must let the same request through."""
    assert not is_final_answer(status, ["content-type"], b"{}")


@pytest.mark.parametrize("status", [100, 199, 300, 304, 500, 502, 503])
def test_other_statuses_are_never_stored(status: int) -> None:
    assert not is_final_answer(status, [], b"")


@pytest.mark.parametrize("status", [408, 425, 429])
def test_try_later_statuses_are_not_final(status: int) -> None:
    assert not is_final_answer(status, [], b"")


@pytest.mark.parametrize("name", ["Retry-After", "retry-after", "RETRY-AFTER"])
def test_an_answer_with_retry_after_is_not_final_whatever_its_status(name: str) -> None:
    """A 404 'not arrived yet' (the enrolment still on the bus) must be decided afresh on retry."""
    body = b'{"type":"' + PROBLEMS_PATH.encode() + b'not-arrived"}'
    assert not is_final_answer(404, ["content-type", name], body)
    assert is_final_answer(404, ["content-type"], body)


def test_a_lost_concurrency_race_is_not_final_but_a_rule_conflict_is() -> None:
    race = b'{"type":"' + PROBLEMS_PATH.encode() + b'concurrency"}'
    rule = b'{"type":"' + PROBLEMS_PATH.encode() + b'rule-violation","rule":"R-7"}'
    assert not is_final_answer(409, [], race)
    assert is_final_answer(409, [], rule)
