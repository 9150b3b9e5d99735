"""What must hold after a load (and after any fault): read straight from each service's database.

- ``exactly_once``: every write the services accepted (2xx) left its events in the store, and no
  idempotency key appended twice (its events are exactly the one append the key table records);
- ``inbox``: every consuming service's inbox holds every upstream event exactly once, and nothing
  that does not exist upstream;
- ``relay``: each relay's checkpoint is at its store's head (everything confirmed by the broker);
- ``projections``: every projection at the head and equal to a rebuild from scratch, and every
  stored event's hash chain intact (``gradeline verify``);
- ``audit``: every trainee's grade decisions re-derive from history (``gradeline audit``, R-22);
- ``payslips``: every month's latest payslip equals its recomputation from the pay account (R-25
  to R-32), and its total is the sum of its lines.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from ops import services
from services.compensation.domain.account import (
    PAY_ACCOUNT,
    account_stream,
    month_inputs,
    rates_in_month,
)
from services.compensation.domain.events import registry as pay_registry
from services.compensation.domain.months import Month
from services.compensation.domain.payroll import PAYROLL
from services.compensation.domain.payslip import prepare_payslip
from services.compensation.policy.pay import PAY
from shared import db
from shared.eventstore import PostgresEventStore
from shared.execution import load
from shared.keystore import open_key_store
from shared.personal import KeyStore, PersonalData, personal_map
from shared.projections import verify
from shared.relay import checkpoint_name
from shared.settings import Settings
from shared.topology import CONSUMERS, consumers_of

from .cluster import SERVICES

# Upstream services each consuming service binds to (the deployment's topology table).
UPSTREAM = {
    consumer: tuple(p for p in SERVICES if consumer in consumers_of(p)) for consumer in CONSUMERS
}
SHOW = 5  # problems listed per check at most


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


Pools = Mapping[str, asyncpg.Pool]
Accepted = Mapping[str, Mapping[str, tuple[str, str, int, bytes]]]


@asynccontextmanager
async def pools(settings: Settings) -> AsyncIterator[dict[str, asyncpg.Pool]]:
    opened: dict[str, asyncpg.Pool] = {}
    try:
        for service in SERVICES:
            dsn = db.dsn_for_database(settings.pg_dsn, settings.database_name(service))
            opened[service] = await db.create_pool(dsn, size=3)
        yield opened
    finally:
        for pool in opened.values():
            await pool.close()


def _check(name: str, problems: list[str], ok_detail: str) -> Check:
    if not problems:
        return Check(name, True, ok_detail)
    more = f" (+{len(problems) - SHOW} more)" if len(problems) > SHOW else ""
    return Check(name, False, "; ".join(problems[:SHOW]) + more)


async def exactly_once(pools: Pools, accepted: Accepted) -> Check:
    problems: list[str] = []
    keys_seen = 0
    for service, writes in accepted.items():
        rows = await pools[service].fetch(
            "SELECT substr(idempotency_key, strpos(idempotency_key, ':') + 1) AS key,"
            " count(*) AS n FROM events WHERE idempotency_key IS NOT NULL GROUP BY 1"
        )
        stored = {r["key"]: r["n"] for r in rows}
        for key, (method, path, _, body) in writes.items():
            keys_seen += 1
            if key not in stored and not _appends_nothing(path, body):
                problems.append(f"{service}: {method} {path} (key {key}) accepted, no event")
        problems += [
            f"{service}: key {r['idempotency_key']} has {r['n']} events, one append made"
            f" {r['appended']}"
            for r in await pools[service].fetch(
                "SELECT e.idempotency_key, count(*) AS n,"
                " max(k.last_version - k.first_version + 1) AS appended"
                " FROM events e LEFT JOIN idempotency_keys k ON k.key = e.idempotency_key"
                " WHERE e.idempotency_key IS NOT NULL GROUP BY 1"
                " HAVING count(*) <> coalesce(max(k.last_version - k.first_version + 1), -1)"
                " OR count(DISTINCT e.stream_id) > 1"
            )
        ]
    return _check("exactly_once", problems, f"{keys_seen} accepted writes, each appended once")


def _appends_nothing(path: str, body: bytes) -> bool:
    """A payroll run on unchanged inputs issues nothing (R-32): accepted, yet no event."""
    return path.startswith("/payroll/") and path.endswith("/run")


async def inbox(pools: Pools) -> Check:
    problems: list[str] = []
    total = 0
    for consumer, upstreams in UPSTREAM.items():
        held = await pools[consumer].fetch("SELECT event_id, service FROM inbox")
        by_service: dict[str, set[Any]] = {}
        for row in held:
            by_service.setdefault(row["service"], set()).add(row["event_id"])
        for upstream in upstreams:
            published = {
                r["event_id"] for r in await pools[upstream].fetch("SELECT event_id FROM events")
            }
            kept = by_service.pop(upstream, set())
            total += len(kept)
            if missing := published - kept:
                problems.append(f"{consumer} lacks {len(missing)} {upstream} events")
            if phantom := kept - published:
                problems.append(f"{consumer} holds {len(phantom)} unknown {upstream} events")
        if by_service:
            problems.append(f"{consumer} holds events of {sorted(by_service)}")
        rows = await pools[consumer].fetchval(
            "SELECT count(*) - count(DISTINCT event_id) FROM inbox"
        )
        if rows:
            problems.append(f"{consumer}: {rows} inbox rows repeat an event")
    return _check("inbox", problems, f"{total} upstream events, each in its inbox once")


async def lagging(pools: Pools) -> list[str]:
    """What has not caught up yet: relays, projections (cheap; polled while converging)."""
    behind = []
    for info in services.available():
        pool = pools[info.name]
        heads = {
            "events": await pool.fetchval("SELECT coalesce(max(position), 0) FROM events"),
            "inbox": await pool.fetchval("SELECT coalesce(max(seq), 0) FROM inbox"),
        }
        relayed = await pool.fetchval(
            "SELECT position FROM checkpoints WHERE name = $1", checkpoint_name(info.name)
        )
        if (relayed or 0) != heads["events"]:
            behind.append(f"{info.name} relay at {relayed}, head {heads['events']}")
        for projection in info.projections:
            for source in projection.sources:
                at = await pool.fetchval(
                    "SELECT position FROM checkpoints WHERE name = $1",
                    projection.checkpoint(source),
                )
                if (at or 0) != heads[source]:
                    behind.append(
                        f"{info.name}.{projection.name} at {source} {at}, head {heads[source]}"
                    )
    return behind


async def converge(pools: Pools, seconds: float) -> tuple[float, list[str]]:
    """Wait up to ``seconds`` until inboxes, relays and projections have caught up; returns
    how long it took and what still lags (empty: converged)."""
    started = time.monotonic()
    while True:
        behind = await lagging(pools)
        if not behind:
            check = await inbox(pools)
            behind = [] if check.ok else [check.detail]
        if not behind or time.monotonic() - started > seconds:
            return time.monotonic() - started, behind
        await asyncio.sleep(0.1)


async def projections(pools: Pools, keys: KeyStore) -> Check:
    problems: list[str] = []
    count = 0
    for info in services.available():
        pool = pools[info.name]
        problems += [
            f"{info.name} event {t.stream_id}#{t.version}: {t.problem}"
            for t in await PostgresEventStore(pool, info.name).verify()
        ]
        # Rebuilt as the service builds them: personal fields revealed (docs/privacy.md).
        personal = PersonalData(keys, personal_map(info.registry))
        for projection in info.projections:
            count += 1
            problems += [
                f"{info.name}.{projection.name}: {d}"
                for d in await verify(pool, info.name, projection, personal)
            ]
    problems += await lagging(pools)
    return _check("projections", problems, f"{count} projections equal their rebuilds")


async def audit(pools: Pools) -> Check:
    audit_all = services.get("assessment").audit
    assert audit_all is not None
    pool = pools["assessment"]
    reports = await audit_all(pool, PostgresEventStore(pool, "assessment"))
    problems = [
        f"{r['trainee_id']}: {r['differences'][:2]}" for r in reports if not r["consistent"]
    ]
    return _check("audit", problems, f"{len(reports)} trainees' grades re-derive")


async def payslips(pools: Pools) -> Check:
    pool = pools["compensation"]
    store = PostgresEventStore(pool, "compensation")
    problems: list[str] = []
    checked = 0
    streams = await pool.fetch(
        "SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'payroll-%'"
    )
    for row in streams:
        month = Month.parse(row["stream_id"].removeprefix("payroll-"))
        payroll, _ = await load(store, pay_registry, PAYROLL, row["stream_id"])
        policy = PAY.in_force(month.last_day)
        for employee_id, slip in payroll.payslips.items():
            checked += 1
            account, _ = await load(store, pay_registry, PAY_ACCOUNT, account_stream(employee_id))
            again = prepare_payslip(
                employee_id,
                slip.payslip_id,
                str(month),
                rates_in_month(account, str(month)),
                month_inputs(account, str(month)),
                policy,
            )
            if list(again.lines) != list(slip.lines) or again.inputs_digest != slip.inputs_digest:
                problems.append(f"{month} {employee_id}: issued {slip.lines}, now {again.lines}")
            if slip.total != sum((line.amount for line in slip.lines), 0):
                problems.append(f"{month} {employee_id}: total {slip.total} is not its lines' sum")
    return _check("payslips", problems, f"{checked} payslips equal their recomputation")


async def run_checks(
    settings: Settings, accepted: Accepted, converge_seconds: float
) -> list[Check]:
    """Converge (bounded), then every check; one :class:`Check` per line of the report."""
    async with pools(settings) as opened, AsyncExitStack() as stack:
        keys = await open_key_store(settings, stack)
        took, behind = await converge(opened, converge_seconds)
        results = [
            _check("converged", behind, f"caught up {took:.1f} s after the load"),
            await exactly_once(opened, accepted),
            await inbox(opened),
            await projections(opened, keys),
            await audit(opened),
            await payslips(opened),
        ]
    return results
