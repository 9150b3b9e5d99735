"""Versioned policy data: rule parameters with effective dates, loaded from JSON files.

A decision records the version it applied; replaying it later looks that version up by name, so
publishing a new version never changes a past decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, TypeAdapter


class PolicyVersion(BaseModel):
    """Base of a policy's versions: a name and the first day it applies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    effective_from: date


P = TypeVar("P", bound=PolicyVersion)


class UnknownPolicyVersion(LookupError):
    pass


class PolicyBook(Generic[P]):
    """All versions of one policy, oldest first."""

    def __init__(self, versions: Sequence[P]) -> None:
        if not versions:
            raise ValueError("a policy needs at least one version")
        self.versions = sorted(versions, key=lambda v: v.effective_from)
        names = [v.version for v in self.versions]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate policy versions in {names}")
        self._by_name = {v.version: v for v in self.versions}

    @classmethod
    def load(cls, model: type[P], path: Path) -> PolicyBook[P]:
        raw = orjson.loads(path.read_bytes())
        return cls(TypeAdapter(list[model]).validate_python(raw["versions"]))  # type: ignore[valid-type]

    def in_force(self, on: date) -> P:
        """The version in force on ``on`` (the latest whose effective date is not after it)."""
        current = None
        for version in self.versions:
            if version.effective_from <= on:
                current = version
        if current is None:
            raise UnknownPolicyVersion(f"no version in force on {on}")
        return current

    def named(self, version: str) -> P:
        try:
            return self._by_name[version]
        except KeyError:
            raise UnknownPolicyVersion(f"unknown policy version {version!r}") from None
