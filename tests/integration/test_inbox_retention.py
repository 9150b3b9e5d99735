"""The inbox retention (ADR 0020) against real PostgreSQL: payloads past the retention that
nothing reads again are emptied, the rest stays, each row is looked at once; a copy of a purged
event delivered again is dropped, not applied twice, and its successor still finds it; each run is
recorded for ``/metrics``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import housekeeping
from shared.events import Envelope
from shared.inbox import InboxRetention, purge_inbox_payloads
from shared.metrics import Metrics
from shared.ordering import handle_in_order
from shared.personal import MemoryKeyStore, PersonalData
from shared.personal_access import held_events
from tests.support import delivered

NOW = datetime.now(UTC)
RETENTION = InboxRetention(read_types=frozenset({"Read"}), subject_field="trainee_id")


def event(stream: str, version: int, type_: str = "Unread", **data: object) -> Envelope:
    return delivered("training", type_, stream, {"v": version, **data}, version)


class Applied:
    """A handler counting how many times each event was applied."""

    def __init__(self) -> None:
        self.times: dict[object, int] = {}

    async def __call__(self, conn: object, envelope: Envelope) -> None:
        self.times[envelope.event_id] = self.times.get(envelope.event_id, 0) + 1


async def received_long_ago(pool, events: list[Envelope], days: int = 200) -> None:
    await pool.execute(
        "UPDATE inbox SET received_at = now() - make_interval(days => $2)"
        " WHERE event_id = ANY($1::uuid[])",
        [e.event_id for e in events],
        days,
    )


async def payloads(pool) -> dict[object, dict]:
    rows = await pool.fetch("SELECT event_id, envelope -> 'data' AS data FROM inbox")
    return {r["event_id"]: r["data"] for r in rows}


async def test_old_unread_payloads_are_emptied_and_the_rest_stays(pg_pool):
    old_unread = [event("s-1", 1), event("s-1", 2)]
    old_read = event("s-2", 1, "Read")
    old_about_a_trainee = event("s-3", 1, trainee_id="t-1")
    recent = event("s-1", 3)
    await handle_in_order(pg_pool, Applied(), [*old_unread, old_read, old_about_a_trainee, recent])
    await received_long_ago(pg_pool, [*old_unread, old_read, old_about_a_trainee])

    emptied, mark = await purge_inbox_payloads(pg_pool, RETENTION, NOW - timedelta(days=90), 0)

    assert emptied == 2
    held = await payloads(pg_pool)
    assert [held[e.event_id] for e in old_unread] == [{}, {}]
    assert held[old_read.event_id] == {"v": 1}
    assert held[old_about_a_trainee.event_id] == {"v": 1, "trainee_id": "t-1"}
    assert held[recent.event_id] == {"v": 3}
    assert await pg_pool.fetchval("SELECT count(*) FROM inbox") == 5  # every row stays
    seqs = await pg_pool.fetch("SELECT seq FROM inbox WHERE event_id <> $1", recent.event_id)
    assert mark == max(r["seq"] for r in seqs)
    # The next run starts at the mark: nothing more to look at, nothing emptied twice.
    assert await purge_inbox_payloads(pg_pool, RETENTION, NOW, mark) == (0, mark)


async def test_a_service_whose_projection_reads_every_type_empties_nothing(pg_pool):
    old = event("s-1", 1)
    await handle_in_order(pg_pool, Applied(), [old])
    await received_long_ago(pg_pool, [old])

    everything_read = InboxRetention(read_types=None)

    assert await purge_inbox_payloads(pg_pool, everything_read, NOW, 0) == (0, 0)
    assert (await payloads(pg_pool))[old.event_id] == {"v": 1}


async def test_a_purged_event_delivered_again_is_not_applied_twice_and_its_successor_follows(
    pg_pool,
):
    applied = Applied()
    v1, v2, v3 = event("s-1", 1), event("s-1", 2), event("s-1", 3)
    await handle_in_order(pg_pool, applied, [v1, v2])
    await received_long_ago(pg_pool, [v1, v2])
    assert (await purge_inbox_payloads(pg_pool, RETENTION, NOW, 0))[0] == 2

    again = await handle_in_order(pg_pool, applied, [v2, v1])  # a re-drive, a back-fill
    after = await handle_in_order(pg_pool, applied, [v3])

    assert [e.event_id for e in again.duplicates] == [v2.event_id, v1.event_id]
    assert again.applied == [] and again.parked == []
    assert [e.event_id for e in after.applied] == [v3.event_id]  # v2's row is still there
    assert applied.times == {v1.event_id: 1, v2.event_id: 1, v3.event_id: 1}
    assert await pg_pool.fetchval("SELECT count(*) FROM inbox_parked") == 0


async def test_each_run_is_recorded_and_shown_by_metrics(pg_pool):
    await housekeeping.record_run(pg_pool, "inbox", 7, mark=40)
    await housekeeping.record_run(pg_pool, "inbox", failed=True)
    await housekeeping.record_run(pg_pool, "inbox", 3, mark=55)
    await housekeeping.record_run(pg_pool, "http_idempotency", 2)
    metrics = Metrics("training")

    await housekeeping.refresher(pg_pool, metrics)()

    text = metrics.render().decode()
    assert 'gradeline_purged_rows_total{service="training",table="inbox"} 10.0' in text
    assert 'gradeline_purged_rows_total{service="training",table="http_idempotency"} 2.0' in text
    assert 'gradeline_purge_runs_total{outcome="ok",service="training",table="inbox"} 2.0' in text
    assert (
        'gradeline_purge_runs_total{outcome="failed",service="training",table="inbox"} 1.0' in text
    )
    assert "gradeline_purge_last_success_timestamp_seconds{" in text
    assert await housekeeping.mark(pg_pool, "inbox") == 55
    assert await housekeeping.mark(pg_pool, "http_idempotency") == 0


async def test_the_access_request_shows_an_emptied_event_of_the_persons_stream_without_data(
    pg_pool,
):
    mine = event("trainee-t-9", 1, trainee_name="张三")
    naming = event("plan-p-1", 1, trainee_ref="t-9")
    await handle_in_order(pg_pool, Applied(), [mine, naming])
    await received_long_ago(pg_pool, [mine, naming])
    await purge_inbox_payloads(pg_pool, InboxRetention(read_types=frozenset()), NOW, 0)

    async with pg_pool.acquire() as conn:
        held = await held_events(conn, "assessment", PersonalData(MemoryKeyStore(), {}), "t-9")

    assert [(e.event_id, e.data) for e in held] == [(str(mine.event_id), {})]
