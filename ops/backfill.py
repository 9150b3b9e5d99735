"""``gradeline backfill``: give one consuming service a producer's events again, from its store.

For a service that lost events (queues deleted or purged, a service added after its producer had
history): a range of the producer's stored events, read from the producer's own database in
position order, is republished to that service's partition exchange only (so no other service
sees them twice), persistent and mandatory, each page's confirms awaited. Only the event types the
service binds are sent. Its inbox drops the events it already has (ADR 0007).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, cast

import aio_pika
import aiormq
import asyncpg
import typer
from rich.console import Console

from shared import db
from shared.eventstore import fetch_after
from shared.relay import PUBLISHERS, UnroutableEvent, routing_key, settled_confirms
from shared.settings import SERVICE_PORTS, Settings
from shared.topology import CONSUMERS, Topology, consumers_of, declare_topology, topic_matches

PAGE = 500  # events read and published per round trip
console = Console()


async def backfill(
    settings: Settings, service: str, producer: str, after: int, through: int | None
) -> tuple[int, int]:
    """Republish ``producer``'s events after position ``after`` through ``through`` (default:
    its last) that ``service`` binds, to ``service``'s queues; (events sent, last position)."""
    keys = CONSUMERS[service]
    topology = Topology(settings.namespace, service, settings.consumer_partitions)
    dsn = db.dsn_for_database(settings.pg_dsn, settings.database_name(producer))
    conn = await db.connect(dsn)
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        if through is None:
            through = int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM events"))
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await declare_topology(channel, settings, topology, keys)  # its queues, if never made
        underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
        publish = PUBLISHERS[settings.relay_publish]  # as the relay publishes (ADR 0011)
        sent, position = 0, after
        while position < through:
            page = await fetch_after(conn, position, PAGE, producer)
            page = [e for e in page if e.position <= through]
            if not page:
                break
            position = page[-1].position
            wanted = [e for e in page if any(topic_matches(k, routing_key(e)) for k in keys)]
            if wanted:
                await settled_confirms(await publish(underlay, topology.partition_exchange, wanted))
                sent += len(wanted)
        return sent, through
    finally:
        await connection.close()
        await conn.close()


def check_arguments(service: str, producer: str, after: int, through: int | None) -> None:
    """Refuse, naming the argument, what cannot be back-filled (exit code 2)."""
    if service not in CONSUMERS:
        raise typer.BadParameter(
            f"no consuming service {service!r} (consuming services: {', '.join(CONSUMERS)})",
            param_hint="SERVICE",
        )
    if producer not in SERVICE_PORTS:
        raise typer.BadParameter(
            f"no producing service {producer!r} (services: {', '.join(SERVICE_PORTS)})",
            param_hint="--from",
        )
    if service not in consumers_of(producer):
        raise typer.BadParameter(
            f"{service} does not consume {producer}'s events "
            f"(it binds {', '.join(CONSUMERS[service])})",
            param_hint="--from",
        )
    if through is not None and through < after:
        raise typer.BadParameter(f"--through {through} is before --after {after}")


def backfill_command(
    service: Annotated[str, typer.Argument(help="the consuming service to give the events to")],
    producer: Annotated[str, typer.Option("--from", help="the service whose events to send")],
    after: Annotated[int, typer.Option(min=0, help="send the events after this position")] = 0,
    through: Annotated[
        int | None, typer.Option(min=0, help="up to this position (default: the last)")
    ] = None,
) -> None:
    """Republish a range of a producer's stored events to one consuming service's queues;
    the service's inbox drops those it already has."""
    check_arguments(service, producer, after, through)
    try:
        sent, last = asyncio.run(backfill(Settings(), service, producer, after, through))
    except (UnroutableEvent, aio_pika.exceptions.AMQPError, asyncpg.PostgresError, OSError) as exc:
        console.print(f"[red]back-fill of {service} from {producer} failed: {exc!r}")
        raise typer.Exit(1) from None
    console.print(
        f"back-filled {sent} events of {producer} (positions {after + 1} to {last}) "
        f"to {service}; its inbox drops those it already has"
    )
