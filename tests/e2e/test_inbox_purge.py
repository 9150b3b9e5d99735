"""The inbox purge of issue 20 (ADR 0020) on what the load tool leaves in four real services:
payloads past the retention that nothing reads again are emptied, the rest stays as it was, and
every proof still holds afterwards: each projection equals its rebuild, every grade re-derives,
every payslip recomputes, and every upstream event sent again (a back-fill of every producer's
whole store) is dropped by the inbox instead of being applied a second time."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from bench.load import checks
from bench.load.cluster import SERVICES, Cluster
from bench.load.run import run_load
from ops import purge, services
from ops.backfill import backfill
from shared.consumer import queue_depths
from shared.keystore import open_key_store
from shared.topology import CONSUMERS
from tests.load.harness import config, running_cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

OLD = "200 days"  # past the default retention (P90D)


@pytest.fixture(scope="module")
def loaded(pg_dsn: str, amqp_url: str) -> Iterator[Cluster]:
    for cluster in running_cluster(pg_dsn, amqp_url):
        outcome = asyncio.run(run_load(cluster.urls, cluster.settings.jwt_secret, config(2101, 8)))
        assert not outcome.problems, outcome.problems
        yield cluster


async def inbox_rows(pool) -> dict[int, dict[str, Any]]:
    rows = await pool.fetch("SELECT seq, event_id, type, envelope FROM inbox")
    return {r["seq"]: dict(r) for r in rows}  # the pools decode jsonb


def kept_in_full(row: dict[str, Any], retention) -> bool:
    data = row["envelope"]["data"]
    return row["type"] in (retention.read_types or ()) or (
        retention.subject_field is not None and retention.subject_field in data
    )


async def age_half_of_each_inbox(pools) -> dict[str, int]:
    """The older half of each consuming service's inbox as if received 200 days ago; the seq
    up to which rows are now old."""
    middle = {}
    for consumer in CONSUMERS:
        pool = pools[consumer]
        middle[consumer] = int(await pool.fetchval("SELECT max(seq) / 2 FROM inbox"))
        await pool.execute(
            f"UPDATE inbox SET received_at = received_at - interval '{OLD}' WHERE seq <= $1",
            middle[consumer],
        )
    return middle


async def heads(pools) -> dict[str, tuple[int, int]]:
    return {
        s: (
            await pools[s].fetchval("SELECT coalesce(max(position), 0) FROM events"),
            await pools[s].fetchval("SELECT count(*) FROM inbox"),
        )
        for s in SERVICES
    }


async def send_everything_again(cluster: Cluster) -> int:
    """Every producer's whole store republished to each of its consumers, then drained."""
    sent = 0
    for consumer, keys in CONSUMERS.items():
        for producer in {k.split(".")[0] for k in keys}:
            sent += (await backfill(cluster.settings, consumer, producer, 0, None))[0]
    async with asyncio.timeout(120):
        for consumer in CONSUMERS:
            while any((await queue_depths(cluster.settings, consumer)).values()):
                await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # the last batch's transaction
    return sent


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} {labels} in /metrics")


def test_old_unread_payloads_go_the_rest_stays_and_every_proof_still_holds(
    loaded: Cluster,
) -> None:
    async def scenario() -> None:
        async with checks.pools(loaded.settings) as pools, AsyncExitStack() as stack:
            keys = await open_key_store(loaded.settings, stack)
            middle = await age_half_of_each_inbox(pools)
            before = {c: await inbox_rows(pools[c]) for c in CONSUMERS}
            done = {
                s: await purge.purge(pools[s], services.get(s), loaded.settings) for s in SERVICES
            }
            after = {c: await inbox_rows(pools[c]) for c in CONSUMERS}

            for consumer in CONSUMERS:
                retention = purge.inbox_retention(services.get(consumer))
                assert after[consumer].keys() == before[consumer].keys()  # no row deleted
                emptied = 0
                for seq, row in before[consumer].items():
                    now = after[consumer][seq]
                    assert (now["event_id"], now["type"]) == (row["event_id"], row["type"])
                    purgeable = seq <= middle[consumer] and not kept_in_full(row, retention)
                    if purgeable and retention.purges_anything:
                        assert now["envelope"] == {**row["envelope"], "data": {}}
                        emptied += 1
                    else:
                        assert now["envelope"] == row["envelope"], (consumer, seq, row["type"])
                assert done[consumer].inbox_payloads == emptied
                # Looked at up to the last old row; not at all where nothing could go.
                mark = middle[consumer] if retention.purges_anything else 0
                assert done[consumer].inbox_mark == mark
            # training's progress board replays every type it receives: nothing goes there.
            assert done["training"].inbox_payloads == 0
            assert done["compensation"].inbox_payloads > 0
            assert done["assessment"].inbox_payloads > 0

            again = {
                s: await purge.purge(pools[s], services.get(s), loaded.settings) for s in CONSUMERS
            }
            assert all(a.inbox_payloads == 0 for a in again.values())

            results = [
                await checks.inbox(pools),
                await checks.projections(pools, keys),
                await checks.audit(pools),
                await checks.payslips(pools),
            ]
            assert [f"{r.name}: {r.detail}" for r in results if not r.ok] == []

            counted = await heads(pools)
            assert await send_everything_again(loaded) == sum(c[1] for c in counted.values())
            assert await heads(pools) == counted  # nothing applied, appended or recorded again
            assert {c: await inbox_rows(pools[c]) for c in CONSUMERS} == after  # still emptied
            results = [await checks.inbox(pools), await checks.projections(pools, keys)]
            assert [f"{r.name}: {r.detail}" for r in results if not r.ok] == []

        async with httpx.AsyncClient() as client:
            text = (await client.get(loaded.url("compensation") + "/metrics")).text
        assert (
            metric(text, "gradeline_purged_rows_total", service="compensation", table="inbox")
            == done["compensation"].inbox_payloads
        )
        assert metric(text, "gradeline_purge_runs_total", table="inbox", outcome="ok") == 2
        assert metric(text, "gradeline_purge_last_success_timestamp_seconds", table="inbox") > 0
        assert re.search(
            r'gradeline_purged_rows_total\{service="compensation",table="http_idempotency"\}', text
        )

    asyncio.run(scenario())
