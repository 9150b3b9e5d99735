"""The organisation's events over the real bus: published on the events exchange as enrollment's
relay publishes them (``enrollment.<EventType>``, a rename before the registration it follows),
they reach training, assessment and compensation through their own queues and inboxes, in
version order: a branch filter that was a 422 is answered once the registration has arrived, and
the progress board names the branch as last renamed."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import aio_pika

from services.assessment.app import create_app as assessment_app
from services.compensation.app import create_app as compensation_app
from services.training.app import create_app as training_app
from shared.auth import Role
from shared.relay import routing_key, to_message
from tests.integration.assessment.helpers import delete_topology
from tests.integration.training.helpers import enrolled
from tests.organisation import branch_registered, branch_renamed, staff_registered
from tests.support import consuming, long_secret, running

APPS = {"training": training_app, "assessment": assessment_app, "compensation": compensation_app}
# Who reads each service's branch-filtered view, and where.
FILTERED = {
    "training": (Role.EXEC_VP, "/board/progress"),
    "assessment": (Role.MANAGEMENT, "/board/grades"),
    "compensation": (Role.PAYROLL, "/branch-fees/2026-03"),
}


async def publish(settings, *envelopes) -> None:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(settings.exchange_name())
        for envelope in envelopes:
            await exchange.publish(to_message(envelope), routing_key=routing_key(envelope))


async def until(check, seconds=20.0):
    async with asyncio.timeout(seconds):
        while not (found := await check()):
            await asyncio.sleep(0.05)
    return found


async def test_organisation_events_reach_every_consumer_in_version_order(settings):
    settings = long_secret(settings).model_copy(update={"pool_size": 3, "consumer_partitions": 1})
    async with AsyncExitStack() as stack:
        stack.push_async_callback(delete_topology, settings, list(APPS))
        services = {}
        for name, factory in APPS.items():
            services[name] = await stack.enter_async_context(
                running(factory(settings), settings, name)
            )
            await consuming(settings, name)

        async def filtered(name):
            role, path = FILTERED[name]
            svc = services[name]
            return await svc.client.get(
                path, params={"branch_id": "bo-east"}, headers=svc.as_("reader", role)
            )

        for name in APPS:  # not registered anywhere yet
            assert (await filtered(name)).status_code == 422, name

        renamed = branch_renamed("bo-east", "华东大区", "East Region")
        await publish(settings, renamed)  # version 2 first: parked until version 1 arrives
        await publish(
            settings,
            branch_registered("bo-east"),
            staff_registered("tr-1", "孙老师"),
            enrolled("t-1", branch_id="bo-east"),
        )

        for name in APPS:
            answer = await until(lambda name=name: _ok(filtered(name)))
            assert answer.status_code == 200, (name, answer.text)

            # The rename (version 2) waited for the registration; released a moment after it.
            async def renamed_names(name=name):
                row = await services[name].pool.fetchrow(
                    "SELECT name_zh, name_en FROM branches WHERE branch_id = 'bo-east'"
                )
                return tuple(row) if row and row["name_zh"] == "华东大区" else None

            assert await until(renamed_names) == ("华东大区", "East Region"), name
            # Published after the branch: known a moment after the branch's filter answers.
            staff = await until(
                lambda name=name: services[name].pool.fetchval(
                    "SELECT name FROM staff WHERE staff_id = 'tr-1'"
                )
            )
            assert staff == "孙老师", name

        training = services["training"]

        async def named_row():
            board = await filtered("training")
            rows = board.json()["rows"]
            return rows[0] if rows else None

        row = await until(named_row)
        assert (row["branch_id"], row["branch_name_zh"], row["branch_name_en"]) == (
            "bo-east",
            "华东大区",
            "East Region",
        )
        assert await training.pool.fetchval("SELECT count(*) FROM inbox_parked") == 0


async def _ok(answer):
    response = await answer
    return response if response.status_code == 200 else None
