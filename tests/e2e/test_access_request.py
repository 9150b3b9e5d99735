"""Issue 19, access request: ``GET /people/{id}/data`` (the person, or ``admin``) "returns
everything held about them across the four services, as JSON and as an xlsx, decrypted", and
"the access export lists every event and read-model row of the person". The four services are
served over real TCP ports; enrollment asks the other three at their configured URLs
(``GRADELINE_TRAINING_URL``, ...) with the caller's token."""

from __future__ import annotations

from contextlib import AsyncExitStack
from io import BytesIO

import pytest
from openpyxl import load_workbook

from shared.auth import Role
from tests.e2e.helpers import HQ_TRAINEE, approved_plans, enrol
from tests.e2e.test_dashboard import (
    FULL_PLAN,
    SERIES,
    TRAINER,
    Clock,
    bound_socket,
    served_on,
)
from tests.support import long_secret, ok, until

SERVICES = ("enrollment", "training", "assessment", "compensation")
PERSON, NEIGHBOUR = "acc-1", "acc-10"  # one id the prefix of the other: never mixed up
NAME, NEIGHBOUR_NAME = "access-test 张三丰", "access-test 李四光"
PERFORMANCE = "access-test performance: steady"
COMMENT = "access-test comment: only half a day"
DAY = "2026-03-02"


@pytest.fixture
async def served(settings):
    sockets = {name: bound_socket() for name in SERVICES}
    urls = {name: f"http://127.0.0.1:{s.getsockname()[1]}" for name, s in sockets.items()}
    settings = long_secret(settings).model_copy(
        update={
            "pool_size": 3,
            "consumer_partitions": 1,
            "training_url": urls["training"],
            "assessment_url": urls["assessment"],
            "compensation_url": urls["compensation"],
        }
    )
    clock = Clock()
    async with AsyncExitStack() as stack:
        yield await served_on(stack, settings, sockets, clock), clock


async def seed(apps, clock) -> None:
    """The person enrolled and placed, an approved plan, a training day their trainer recorded
    and they disputed with a comment; the neighbour enrolled beside them."""
    enrollment, training, assessment, pay = (apps[n] for n in SERVICES)
    clock.set("2026-03-01")
    await enrol(enrollment, PERSON, placed=True, **{**HQ_TRAINEE, "name": NAME})
    await enrol(enrollment, NEIGHBOUR, **{**HQ_TRAINEE, "name": NEIGHBOUR_NAME})
    await approved_plans(training, assessment, [PERSON], FULL_PLAN, TRAINER, SERIES)
    clock.set("2026-03-03")
    day = {
        "date": DAY,
        "content": "fault finding on X1",
        "method": "hands-on",
        "hours": "8",
        "performance": PERFORMANCE,
        "effect": "improving",
    }
    days = f"/plans/{PERSON}/stages/5/days"
    trainer = training.as_(TRAINER, Role.TRAINER)
    await ok(training.client.post(days, json=day, headers=trainer), 201)
    confirm = {"agree": False, "comment": COMMENT}
    trainee = training.as_(PERSON, Role.TRAINEE)
    await ok(training.client.post(f"{days}/{DAY}/confirm", json=confirm, headers=trainee))
    await until(
        lambda: pay.pool.fetchval(
            "SELECT (SELECT count(*) FROM known_employees WHERE employee_id = $1) = 1"
            " AND (SELECT count(*) FROM training_days WHERE trainee_id = $1) = 1",
            PERSON,
        )
    )


def events_of(part) -> list[str]:
    return [e["type"] for e in part["events"]]


def check_complete(data: dict) -> None:
    assert data["person_id"] == PERSON
    assert list(data["services"]) == list(SERVICES)
    enrollment, training = data["services"]["enrollment"], data["services"]["training"]
    enrolled = [e for e in enrollment["events"] if e["type"] == "TraineeEnrolled"]
    assert [e["data"]["name"] for e in enrolled] == [NAME]  # revealed, sealed or not
    assert {"PlanDrafted", "PlanApproved", "TrainingDayLogged", "TrainingDayConfirmed"} <= set(
        events_of(training)
    )
    recorded = next(e for e in training["events"] if e["type"] == "TrainingDayLogged")
    assert recorded["data"]["performance"] == PERFORMANCE
    assert COMMENT in str(training["events"])  # the trainee's dissent, in clear
    for service in ("training", "assessment", "compensation"):  # what each learnt of the person
        part = data["services"][service]
        assert "TraineeEnrolled" in events_of(part), service
        assert any(e["source"] == "inbox" for e in part["events"]), service
    for service, part in data["services"].items():
        assert part["rows"], f"{service} lists no read-model row of the person"
        for rows in part["rows"].values():
            assert all(PERSON in str(row) for row in rows), service
    assert any(NAME in str(rows) for rows in enrollment["rows"].values())
    assert NEIGHBOUR_NAME not in str(data)  # acc-10 is not acc-1


@pytest.mark.timeout(240)
async def test_a_person_and_admin_read_everything_held_about_the_person(served):
    apps, clock = served
    await seed(apps, clock)
    enrollment = apps["enrollment"]
    path = f"/people/{PERSON}/data"

    for caller in (
        enrollment.as_("root", Role.ADMIN),
        enrollment.as_(PERSON, Role.TRAINEE, branch_id="hq"),
    ):
        check_complete(await ok(enrollment.client.get(path, headers=caller)))

    for other in (
        enrollment.as_(NEIGHBOUR, Role.TRAINEE, branch_id="hq"),
        enrollment.as_("mgr", Role.AFTER_SALES_MANAGER, branch_id="hq"),
    ):
        for service, app in apps.items():  # nor any service's own part
            local = await app.client.get(f"{path}/local", headers=other)
            assert local.status_code == 403, (service, local.text)
        assert (await enrollment.client.get(path, headers=other)).status_code == 403

    answer = await enrollment.client.get(f"{path}.xlsx", headers=enrollment.as_("root", Role.ADMIN))
    assert answer.status_code == 200, answer.text
    book = load_workbook(BytesIO(answer.content))
    assert "报名事件 enrollment events" in book.sheetnames
    assert "薪酬数据 compensation rows" in book.sheetnames
    cells = [
        str(v)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for v in row
    ]
    assert any(NAME in c for c in cells)
    assert any(COMMENT in c for c in cells)


@pytest.mark.timeout(120)
async def test_a_service_that_does_not_answer_makes_the_answer_a_503_naming_it(served):
    """Never a partial answer presented as complete."""
    apps, _ = served
    enrollment = apps["enrollment"]
    state = enrollment.app.state
    state.settings = state.settings.model_copy(update={"assessment_url": "http://127.0.0.1:9"})
    admin = enrollment.as_("root", Role.ADMIN)
    answer = await enrollment.client.get(f"/people/{PERSON}/data", headers=admin)
    assert answer.status_code == 503, answer.text
    assert answer.json()["service"] == "assessment"
    assert "assessment" in answer.json()["detail"]
