"""A seeded world for the security tests: the four apps running in process against the real
servers, with one trainee in the caller's branch (``north``) and one in another (``south``), each
with a plan, a grade, a dispute and a pay account.

Upstream facts are delivered to each service the way its consumer would (handler + inbox row),
so the world is ready at once and does not wait on the bus. Callers act from ``north``:
``OWN`` is what belongs to them, ``OTHER`` what belongs to someone else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from httpx import ASGITransport

from services.assessment.app import create_app as assessment_app
from services.assessment.consumers import HANDLER as assessment_handler
from services.compensation.app import create_app as compensation_app
from services.compensation.consumers import handle as compensation_handle
from services.enrollment.app import create_app as enrollment_app
from services.training.app import create_app as training_app
from services.training.consumers import HANDLER as training_handler
from shared.auth import Role, mint_token
from shared.inbox import handle_once
from shared.settings import Settings
from tests.integration.assessment.helpers import Assessment, delete_topology
from tests.integration.compensation import upstream
from tests.integration.training.helpers import deliver, enrolled, placed, stage
from tests.organisation import teach_branches
from tests.support import (
    RunningService,
    fresh_settings,
    mandatory_stages,
    ok,
    register_branches,
    running,
)

from .matrix import SERVICES

OWN_BRANCH, OTHER_BRANCH = "hq", "dl-south"
# The own trainee is a production reserve one: the production manager's own.
TRAINEES = {OWN_BRANCH: "t-own", OTHER_BRANCH: "t-other"}
CATEGORIES = {OWN_BRANCH: "production_reserve", OTHER_BRANCH: "branch_commissioned"}
APPS = {
    "enrollment": enrollment_app,
    "training": training_app,
    "assessment": assessment_app,
    "compensation": compensation_app,
}


@dataclass
class World:
    settings: Settings
    services: dict[str, RunningService]
    disputes: dict[str, str]  # branch -> dispute id

    def token(self, roles: str | tuple[str, ...], **claims: Any) -> str:
        """A valid token of ``roles`` (one role, or several) acting from the own branch; its
        ``sub`` is :func:`sub_of` them unless ``claims`` name one."""
        held = (roles,) if isinstance(roles, str) else roles
        defaults = {"branch_id": OWN_BRANCH, "department": "after_sales"}
        return mint_token(
            self.settings.jwt_secret,
            claims.pop("sub", sub_of(held)),
            held,
            **{**defaults, **claims},
        )

    def headers(self, roles: str | tuple[str, ...], **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(roles, **claims)}"}

    def values(self, relation: str) -> dict[str, Any]:
        """What the matrix's placeholders stand for, for the own or the other resource."""
        branch = OWN_BRANCH if relation == "own" else OTHER_BRANCH
        trainee = TRAINEES[branch]
        return {
            "branch": branch,
            "trainee": trainee,
            "trainee_id": trainee,
            "dispute": self.disputes[branch],
            "stages": plan_stages(branch),
        }


def leaver(branch: str) -> str:
    return f"w-{branch}"


def trainer_of(branch: str) -> str:
    return f"tr-{branch}"


# A token has one ``sub``: the own trainee's for a trainee, the trainer of the own trainee's
# product stage for a trainer. A token holding both is the trainee's.
PERSONS = {Role.TRAINEE: TRAINEES[OWN_BRANCH], Role.TRAINER: trainer_of(OWN_BRANCH)}


def sub_of(roles: tuple[str, ...]) -> str:
    return next((PERSONS[r] for r in PERSONS if r in roles), "+".join(roles) + "-1")


def relation_for(role: str, relation: str, sub: str) -> str:
    """The relation of a resource to ``role`` in a token whose ``sub`` is ``sub``: a person-bound
    role (trainee, trainer) owns only what its own person owns."""
    if relation == "own" and role in PERSONS and PERSONS[role] != sub:
        return "other"
    return relation


def plan_stages(branch: str) -> list[dict[str, object]]:
    """R-8a's four topics, then stage 5: product series X1, trained by the branch's trainer."""
    product = stage(5, "product", "technical", trainer_of(branch), "X1", "2026-03-02", "2026-03-27")
    return [*mandatory_stages(), product]


def enrolment(branch: str) -> dict[str, Any]:
    """The trainee of ``branch``: eligible for an engineer grade (R-21) once it passes."""
    return {
        "trainee_id": TRAINEES[branch],
        "name": f"学员 {branch}",
        "category": CATEGORIES[branch],
        "branch_id": branch,
        "education": "high_school",
        "experience_years": "4",
        "certificates": [],
        "product_series": ["X1", "X2", "X3"],
        "enrolled_on": "2026-03-01",
    }


@asynccontextmanager
async def seeded_world(pg_dsn: str, amqp_url: str) -> AsyncIterator[World]:
    settings = fresh_settings(pg_dsn, amqp_url, pool_size=3, consumer_partitions=1)
    try:
        async with AsyncExitStack() as stack:
            services = {
                name: await stack.enter_async_context(running(APPS[name](settings), settings, name))
                for name in SERVICES
            }
            # assessment's POST /what-if asks compensation, here in process
            assessment_state = services["assessment"].app.state
            assessment_state.compensation_transport = ASGITransport(
                app=services["compensation"].app
            )
            # enrollment's GET /people/{id}/data asks the other three, here in process
            services["enrollment"].app.state.peer_transports = {
                name: ASGITransport(app=services[name].app) for name in SERVICES[1:]
            }
            world = World(settings, services, {})
            await register_organisation(world)
            for branch in (OWN_BRANCH, OTHER_BRANCH):
                await seed_branch(world, branch)
            yield world
    finally:
        await delete_topology(settings, list(SERVICES))


# The services that learn the organisation from enrollment's events, and their handlers.
LEARNERS = {
    "training": training_handler,
    "assessment": assessment_handler,
    "compensation": compensation_handle,
}


async def register_organisation(world: World) -> None:
    """The standard branches, and for each branch of the world an annex (for the matrix to
    rename and close), its trainer and a member of staff who is to leave (R-2, R-5)."""
    enrollment = world.services["enrollment"]
    annexes = [
        {"branch_id": f"annex-{b}", "kind": "dealer", "name_zh": "附属", "name_en": "Annex"}
        for b in (OWN_BRANCH, OTHER_BRANCH)
    ]
    await register_branches(enrollment)
    await register_branches(enrollment, annexes)
    admin = world.headers(Role.ADMIN)
    for branch in (OWN_BRANCH, OTHER_BRANCH):
        for staff_id in (trainer_of(branch), f"leaver-{branch}"):
            body = {
                "staff_id": staff_id,
                "name": f"员工 {staff_id}",
                "department": "technical",
                "roles": ["trainer"],
                "branch_id": branch,
            }
            await ok(enrollment.client.post("/staff", json=body, headers=admin), 201)


async def seed_branch(world: World, branch: str) -> None:
    for service, handler in LEARNERS.items():  # a board's branch filter names a known branch
        await teach_branches(world.services[service].pool, handler, branch)
    facts = enrolment(branch)
    trainee = facts["trainee_id"]
    manager = world.headers(Role.AFTER_SALES_MANAGER)
    enrollment = world.services["enrollment"].client
    await ok(enrollment.post("/trainees", json=facts, headers=manager), 201)
    # Withdrawn by the matrix: a trainee of its own, so no other route sees a withdrawn one.
    leaving = {**facts, "trainee_id": leaver(branch)}
    await ok(enrollment.post("/trainees", json=leaving, headers=manager), 201)

    training = world.services["training"]
    await deliver(training, enrolled(**facts))
    await deliver(training, placed(trainee))  # approval needs the plan level
    plans = training.client
    await ok(plans.put(f"/plans/{trainee}", json={"stages": plan_stages(branch)}, headers=manager))
    await ok(plans.post(f"/plans/{trainee}/approve", json={}, headers=world.headers(Role.EXEC_VP)))
    trainer = world.headers(Role.TRAINER, sub=trainer_of(branch))
    day = {
        "date": "2026-03-02",
        "content": "wiring",
        "method": "demo",
        "hours": 4,
        "performance": "ok",
        "effect": "ok",
    }
    await ok(plans.post(f"/plans/{trainee}/stages/5/days", json=day, headers=trainer), 201)

    assessment = Assessment(world.services["assessment"])
    await assessment.enrol(trainee, branch=branch)
    if branch == OWN_BRANCH:
        assert (await assessment.open_session("s-1", "X1", headers=manager)).status_code == 201
    await assessment.sit("s-1", trainee)
    filed = await ok(
        assessment.client.post(
            f"/trainees/{trainee}/disputes", json={"reason": "recount"}, headers=manager
        ),
        201,
    )
    world.disputes[branch] = filed["dispute_id"]

    pay = world.services["compensation"]
    for envelope in (
        upstream.enrolled(trainee, category=facts["category"], branch_id=branch),
        upstream.graded(trainee, "engineer", "junior", assigned_at="2026-02-02T10:00:00+00:00"),
    ):
        assert await handle_once(pay.pool, compensation_handle, envelope)
