"""The event of a policy version being published, apart from the store machinery so that the
services' event modules (pure domain code) can register it."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.events import Event


class PolicyPublished(Event):
    """A version of a policy, in force from ``effective_from`` (docs/policy.md); stream
    ``policy-<name>`` of the service that applies it. ``document``: the version's fields but
    its name and date, as JSON."""

    event_type = "PolicyPublished"
    name: str
    version: str
    effective_from: date
    document: dict[str, Any]
    published_by: str
