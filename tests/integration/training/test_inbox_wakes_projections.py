"""A consumer's commit wakes the projections over the inbox, as an append to the store wakes
those over the events: with the poll ten seconds apart, an enrolment reaches training's progress
board within moments of its arrival, not at the next poll."""

from __future__ import annotations

import time

from services.training.app import create_app as training_app
from shared.auth import Role
from tests.integration.assessment.helpers import delete_topology
from tests.integration.test_organisation_over_the_bus import publish, until
from tests.integration.training.helpers import enrolled
from tests.organisation import branch_registered
from tests.support import consuming, long_secret, running

POLL_SECONDS = 10.0  # the most the settings allow


async def test_an_enrolment_consumed_into_the_inbox_reaches_the_board_before_the_next_poll(
    settings,
):
    settings = long_secret(settings).model_copy(
        update={"pool_size": 3, "consumer_partitions": 1, "poll_interval_seconds": POLL_SECONDS}
    )
    try:
        async with running(training_app(settings), settings, "training") as training:
            await consuming(settings, "training")
            reader = training.as_("vp", Role.EXEC_VP)

            async def trainees_on_board():
                board = (await training.client.get("/board/progress", headers=reader)).json()
                return sum(row["trainees"] for row in board["rows"]) or None

            started = time.monotonic()
            await publish(settings, branch_registered("dl-north"), enrolled("t-1"))
            assert await until(trainees_on_board, seconds=POLL_SECONDS) == 1
            assert time.monotonic() - started < POLL_SECONDS / 3
    finally:
        await delete_topology(settings, ["training"])
