"""The services this installation has, looked up by name (the CLI and the launcher use them)."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType

from shared.events import EventRegistry
from shared.projections import Projection

NAMES = ("enrollment", "training", "assessment", "compensation")


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    registry: EventRegistry
    projections: tuple[Projection, ...]


def _app_module(name: str) -> ModuleType | None:
    if importlib.util.find_spec(f"services.{name}") is None:
        return None
    if importlib.util.find_spec(f"services.{name}.app") is None:
        return None
    return importlib.import_module(f"services.{name}.app")


def available() -> list[ServiceInfo]:
    found = []
    for name in NAMES:
        module = _app_module(name)
        if module is not None:
            found.append(
                ServiceInfo(name, module.REGISTRY, tuple(getattr(module, "PROJECTIONS", ())))
            )
    return found


def get(name: str) -> ServiceInfo:
    for info in available():
        if info.name == name:
            return info
    raise KeyError(f"no service {name!r} (available: {', '.join(i.name for i in available())})")
