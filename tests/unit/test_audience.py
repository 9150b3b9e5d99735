"""shared.audience: a token's visibility on a route is the union of what each of its roles grants
there, and a role the route does not name grants nothing (R-2, docs/http.md)."""

from __future__ import annotations

import pytest

from shared.audience import Audience
from shared.auth import Principal, Role
from shared.problems import Problem

GRADE = Audience(
    everything={Role.MANAGEMENT}, own_branch={Role.BRANCH_CLERK}, themselves={Role.TRAINEE}
)


def caller(*roles: str, sub: str = "t-1", branch: str | None = "north") -> Principal:
    return Principal(sub=sub, roles=frozenset(roles), branch_id=branch)


def sees(principal: Principal, branch: str = "south", person: str = "t-2") -> bool:
    return GRADE.sees(principal, branch_id=branch, person_id=person)


def test_each_role_sees_what_it_grants():
    assert sees(caller(Role.MANAGEMENT))
    assert sees(caller(Role.BRANCH_CLERK), branch="north")
    assert not sees(caller(Role.BRANCH_CLERK))
    assert sees(caller(Role.TRAINEE), person="t-1")
    assert not sees(caller(Role.TRAINEE))


def test_a_role_the_route_does_not_name_adds_nothing_to_a_clerk_or_a_trainee():
    for extra in (Role.TRAINER, Role.EXAMINER, Role.AFTER_SALES_MANAGER, "no-such-role"):
        assert not sees(caller(Role.BRANCH_CLERK, extra))
        assert not sees(caller(Role.TRAINEE, extra))
        assert sees(caller(Role.BRANCH_CLERK, extra), branch="north")


def test_a_token_of_several_roles_sees_the_union():
    both = caller(Role.BRANCH_CLERK, Role.TRAINEE, sub="t-9")
    assert sees(both, branch="north")
    assert sees(both, person="t-9")
    assert not sees(both)


def test_a_branch_bound_role_without_a_branch_or_a_person_sees_nothing():
    assert not sees(caller(Role.BRANCH_CLERK, branch=None), branch="north")
    assert not GRADE.sees(caller(Role.TRAINEE), branch_id="north", person_id=None)


def test_lists_are_limited_to_the_callers_branch_unless_a_role_sees_everything():
    assert GRADE.branch_of_list(caller(Role.MANAGEMENT), None) is None
    assert GRADE.branch_of_list(caller(Role.MANAGEMENT), "south") == "south"
    assert GRADE.branch_of_list(caller(Role.BRANCH_CLERK, Role.TRAINER), None) == "north"
    with pytest.raises(Problem) as refused:
        GRADE.branch_of_list(caller(Role.BRANCH_CLERK, Role.TRAINER), "south")
    assert refused.value.status == 403
    with pytest.raises(Problem):
        GRADE.branch_of_list(caller(Role.TRAINEE), None)  # a trainee reads no list


def test_the_gate_admits_exactly_the_named_roles():
    assert GRADE.roles == {Role.MANAGEMENT, Role.BRANCH_CLERK, Role.TRAINEE}
    assert GRADE.gate().roles == GRADE.roles
