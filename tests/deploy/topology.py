"""The RabbitMQ topology the services declare, recorded without a broker.

:func:`declared_definitions` imports each ``services/<svc>/app.py``, builds its app with
``create_app`` while recording the binding keys it hands to ``shared.workers.consumer``, then runs
the real :func:`shared.consumer.declare_topology` against a recording channel. The result has the
shape of a RabbitMQ definitions file (exchanges, queues, bindings), so ``deploy/rabbitmq/
definitions.json`` can be compared with it, and regenerated from it::

    .venv/bin/python -m tests.deploy.topology   # prints the topology part of definitions.json
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import aio_pika

from shared import workers
from shared.settings import SERVICE_PORTS, Settings
from shared.topology import Topology, declare_producer_topology, declare_topology

VHOST = "/"


@dataclass(frozen=True)
class ServiceWiring:
    """What a service's ``create_app`` wires: its name and the upstream keys it consumes."""

    module: str
    service: str
    binding_keys: tuple[str, ...] | None  # None: no consumer


@contextmanager
def _recording(module: Any, into: dict[str, Any]) -> Iterator[None]:
    real_consumer: Callable[..., Any] = workers.consumer
    real_factory: Callable[..., Any] = module.create_service_app

    def consumer(handler: Any, binding_keys: Sequence[str]) -> Any:
        into.setdefault("binding_keys", []).append(tuple(binding_keys))
        return real_consumer(handler, binding_keys)

    def create_service_app(settings: Settings, **kwargs: Any) -> Any:
        into["service"] = kwargs["service"]
        return real_factory(settings, **kwargs)

    workers.consumer = consumer  # type: ignore[assignment]
    module.create_service_app = create_service_app
    try:
        yield
    finally:
        workers.consumer = real_consumer  # type: ignore[assignment]
        module.create_service_app = real_factory


def service_wiring(settings: Settings) -> dict[str, ServiceWiring]:
    """Each service of SERVICE_PORTS as its ``create_app`` builds it (no server is contacted)."""
    found: dict[str, ServiceWiring] = {}
    for name in SERVICE_PORTS:
        module = importlib.import_module(f"services.{name}.app")
        seen: dict[str, Any] = {}
        with _recording(module, seen):
            module.create_app(settings)
        keys = seen.get("binding_keys", [])
        if len(keys) > 1:
            raise AssertionError(f"{name}: more than one consumer wired: {keys}")
        found[name] = ServiceWiring(module.__name__, seen["service"], keys[0] if keys else None)
    return found


def _arguments(method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The call's arguments by name, aio-pika's defaults filled in."""
    bound = inspect.signature(method).bind(None, *args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _name(exchange: Any) -> str:
    return exchange if isinstance(exchange, str) else exchange.name


@dataclass
class RecordingChannel:
    """Stands in for an aio-pika channel: records declarations instead of sending them."""

    exchanges: dict[str, dict[str, Any]] = field(default_factory=dict)
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    bindings: list[dict[str, Any]] = field(default_factory=list)

    async def declare_exchange(self, *args: Any, **kwargs: Any) -> _Exchange:
        a = _arguments(aio_pika.Channel.declare_exchange, *args, **kwargs)
        kind = a["type"].value if isinstance(a["type"], Enum) else a["type"]
        self.exchanges[a["name"]] = {
            "name": a["name"],
            "vhost": VHOST,
            "type": kind,
            "durable": a["durable"],
            "auto_delete": a["auto_delete"],
            "internal": a["internal"],
            "arguments": dict(a["arguments"] or {}),
        }
        return _Exchange(self, a["name"])

    async def declare_queue(self, *args: Any, **kwargs: Any) -> _Queue:
        a = _arguments(aio_pika.Channel.declare_queue, *args, **kwargs)
        self.queues[a["name"]] = {
            "name": a["name"],
            "vhost": VHOST,
            "durable": a["durable"],
            "auto_delete": a["auto_delete"],
            "arguments": dict(a["arguments"] or {}),
        }
        return _Queue(self, a["name"])

    def bind(self, source: str, destination: str, kind: str, key: str, arguments: Any) -> None:
        binding = {
            "source": source,
            "vhost": VHOST,
            "destination": destination,
            "destination_type": kind,
            "routing_key": key,
            "arguments": dict(arguments or {}),
        }
        if binding not in self.bindings:
            self.bindings.append(binding)


@dataclass
class _Exchange:
    channel: RecordingChannel
    name: str

    async def bind(self, *args: Any, **kwargs: Any) -> None:
        a = _arguments(aio_pika.Exchange.bind, *args, **kwargs)
        self.channel.bind(
            _name(a["exchange"]), self.name, "exchange", a["routing_key"], a["arguments"]
        )


@dataclass
class _Queue:
    channel: RecordingChannel
    name: str

    async def bind(self, *args: Any, **kwargs: Any) -> None:
        a = _arguments(aio_pika.Queue.bind, *args, **kwargs)
        key = self.name if a["routing_key"] is None else a["routing_key"]  # aio-pika's default
        self.channel.bind(_name(a["exchange"]), self.name, "queue", key, a["arguments"])


def declared_definitions(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Exchanges, queues and bindings that the consuming services declare at start-up."""
    channel = RecordingChannel()

    async def declare_all() -> None:
        for wiring in service_wiring(settings).values():
            if wiring.binding_keys is None:
                continue
            topology = Topology(settings.namespace, wiring.service, settings.consumer_partitions)
            await declare_topology(channel, settings, topology, wiring.binding_keys)  # type: ignore[arg-type]

    asyncio.run(declare_all())
    return _definitions(channel)


def producer_definitions(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Exchanges, queues and bindings that every service's relay declares before publishing."""
    channel = RecordingChannel()

    async def declare_all() -> None:
        for producer in SERVICE_PORTS:
            await declare_producer_topology(channel, settings, producer)  # type: ignore[arg-type]

    asyncio.run(declare_all())
    return _definitions(channel)


def _definitions(channel: RecordingChannel) -> dict[str, list[dict[str, Any]]]:
    return {
        "exchanges": list(channel.exchanges.values()),
        "queues": list(channel.queues.values()),
        "bindings": channel.bindings,
    }


if __name__ == "__main__":
    print(json.dumps(declared_definitions(Settings()), indent=2))
