"""``gradeline backfill``: a consuming service whose queues lost events gets them again from the
producer's store; what it already had, its inbox drops (issue 14, item 0; R-14's trainee facts)."""

from __future__ import annotations

import asyncio
import contextlib
import sys

import aio_pika
import pytest

from bench.load.cluster import child_env
from services.assessment.app import create_app as create_assessment
from services.enrollment.app import create_app as create_enrollment
from shared.auth import Role
from shared.relay import checkpoint_name
from tests.support import (
    consuming,
    enrolment,
    long_secret,
    register_branches,
    running,
    standard_branches,
    until,
)

pytestmark = pytest.mark.timeout(90)


async def enrol(enrollment, trainee_ids: list[str]) -> None:
    clerk = enrollment.as_("clerk", Role.BRANCH_CLERK, branch_id="dl-north")
    for trainee_id in trainee_ids:
        answer = await enrollment.client.post(
            "/trainees", json=enrolment(trainee_id), headers=clerk
        )
        assert answer.status_code == 201, answer.text


async def lose_queued_messages(settings, service: str) -> None:
    """What a broker failure or a deleted queue does: the service's queued messages are gone."""
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        for index in range(settings.consumer_partitions):
            channel = await connection.channel()
            with contextlib.suppress(aio_pika.exceptions.ChannelClosed):
                name = f"{settings.namespace}.{service}.p{index}"
                await (await channel.declare_queue(name, passive=True)).purge()
    finally:
        await connection.close()


async def gradeline(settings, *arguments: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ops.cli",
        *arguments,
        env=child_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(60):
        output, _ = await process.communicate()
    return int(process.returncode or 0), " ".join(output.decode(errors="replace").split())


async def test_backfill_republishes_a_range_to_one_service_and_its_inbox_drops_duplicates(
    settings,
):
    settings = long_secret(settings)
    lost = [f"t-lost-{n}" for n in range(6)]
    later = ["t-later-0", "t-later-1"]
    async with running(create_enrollment(settings), settings, "enrollment") as enrollment:
        # The policies enrollment seeds on its first start come first (docs/policy.md).
        seeded = await enrollment.pool.fetchval(
            "SELECT count(*) FROM events WHERE stream_id LIKE 'policy-%'"
        )
        await register_branches(
            enrollment, standard_branches("dl-north")
        )  # position 1 after them; the trainees 2 to 7
        await enrol(enrollment, lost)

        async def relayed() -> bool:
            position = await enrollment.pool.fetchval(
                "SELECT position FROM checkpoints WHERE name = $1", checkpoint_name("enrollment")
            )
            return position == seeded + 7

        await until(relayed)
        await lose_queued_messages(settings, "assessment")
        async with running(create_assessment(settings), settings, "assessment") as assessment:
            await consuming(settings, "assessment")
            await enrol(enrollment, later)

            async def known() -> set[str]:
                rows = await assessment.pool.fetch("SELECT trainee_id FROM trainee_facts")
                return {r["trainee_id"] for r in rows}

            await until(lambda: _has(known, set(later)))
            assert not await known() & set(lost)

            code, output = await gradeline(
                settings,
                "backfill",
                "assessment",
                "--from",
                "enrollment",
                "--after",
                str(seeded + 2),
                "--through",
                str(seeded + 4),
            )
            assert code == 0, output
            assert "2 events" in output, output
            await until(lambda: _has(known, {*lost[1:3], *later}))
            assert not await known() & {lost[0], *lost[3:]}

            code, output = await gradeline(
                settings, "backfill", "assessment", "--from", "enrollment"
            )
            assert code == 0, output
            assert f"{seeded + 9} events" in output, output
            await until(lambda: _has(known, {*lost, *later}))
            inbox = await assessment.pool.fetchval(
                "SELECT count(*) FROM inbox WHERE service = 'enrollment'"
            )
            # Every event once: 2 delivered, 2 back-filled, then all republished (the seeded
            # policies, 9 others) of which those 4 were dropped.
            assert inbox == seeded + 9


async def _has(known, wanted: set[str]) -> bool:
    return wanted <= await known()
