"""The services this installation has, looked up by name (the CLI and the launcher use them)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from shared.events import EventRegistry
from shared.projections import Projection

NAMES = ("enrollment", "training", "assessment", "compensation")

# ``audit_all(pool, store)`` of a service's ``audit`` module: one report per subject (trainee),
# each a dict with at least ``consistent`` (bool) and ``differences`` (a list of dicts).
AuditAll = Callable[[Any, Any], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    registry: EventRegistry
    projections: tuple[Projection, ...]
    audit: AuditAll | None = None  # the replay audit of every subject, when the service has one
    consumes: bool = False  # binds upstream events: has partition queues and a dead-letter queue


def _module(name: str, part: str) -> ModuleType | None:
    """``services.<name>.<part>`` when the service (and that module of it) exists."""
    if importlib.util.find_spec(f"services.{name}") is None:
        return None
    if importlib.util.find_spec(f"services.{name}.{part}") is None:
        return None
    return importlib.import_module(f"services.{name}.{part}")


def _audit(name: str) -> AuditAll | None:
    module = _module(name, "audit")
    audit: AuditAll | None = getattr(module, "audit_all", None) if module else None
    return audit


def available() -> list[ServiceInfo]:
    found = []
    for name in NAMES:
        module = _module(name, "app")
        if module is not None:
            projections = tuple(getattr(module, "PROJECTIONS", ()))
            consumes = bool(getattr(module, "BINDING_KEYS", ()))
            found.append(ServiceInfo(name, module.REGISTRY, projections, _audit(name), consumes))
    return found


def get(name: str) -> ServiceInfo:
    for info in available():
        if info.name == name:
            return info
    raise KeyError(f"no service {name!r} (available: {', '.join(i.name for i in available())})")
