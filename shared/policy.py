"""Versioned policy data: rule parameters with effective dates.

A decision records the version it applied; replaying it later looks that version up by name, so
publishing a new version never changes a past decision. The versions a release ships are package
JSON (the seed, :meth:`PolicyBook.load`); a running app's book also holds every version published
since, read from its event store (:mod:`shared.policy_store`, docs/policy.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationInfo, model_validator


class PolicyVersion(BaseModel):
    """Base of a policy's versions: a name and the first day it applies.

    A subclass lists its semantic problems in :meth:`problems` (bands out of order, a level
    missing, ...): publishing refuses a document with any, naming each; loading a seed or a
    stored version refuses them too (unless validated with context ``{"semantic": False}``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    effective_from: date

    def problems(self) -> list[tuple[str, str]]:
        """(field path, what is wrong) for each semantic problem; none by default."""
        return []

    @model_validator(mode="after")
    def _semantic(self, info: ValidationInfo) -> Any:
        if info.context and info.context.get("semantic") is False:
            return self
        found = self.problems()
        if found:
            raise ValueError("; ".join(f"{path}: {text}" for path, text in found))
        return self


P = TypeVar("P", bound=PolicyVersion)


class UnknownPolicyVersion(LookupError):
    pass


class PolicyBook(Generic[P]):
    """All versions of one policy, oldest first. ``aliases``: older version names that resolve to
    a version of this book (a table split out of another policy keeps the names decisions
    recorded before the split, e.g. ``grading-2026.1`` for the fine tiers, docs/policy.md)."""

    def __init__(
        self,
        versions: Sequence[P],
        *,
        model: type[P] | None = None,
        aliases: Mapping[str, str] | None = None,
        source: Path | None = None,
    ) -> None:
        if not versions:
            raise ValueError("a policy needs at least one version")
        # Stable sort: of two versions taking effect the same day, the later published wins.
        self.versions = sorted(versions, key=lambda v: v.effective_from)
        names = [v.version for v in self.versions]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate policy versions in {names}")
        self._by_name = {v.version: v for v in self.versions}
        self.aliases = dict(aliases or {})
        for alias, target in self.aliases.items():
            if target not in self._by_name:
                raise ValueError(f"alias {alias!r} names an unknown version {target!r}")
        self.model: type[P] = model if model is not None else type(self.versions[0])
        self.source = source

    @classmethod
    def load(cls, model: type[P], path: Path) -> PolicyBook[P]:
        raw = orjson.loads(path.read_bytes())
        versions = TypeAdapter(list[model]).validate_python(raw["versions"])  # type: ignore[valid-type]
        return cls(versions, model=model, aliases=raw.get("aliases"), source=path)

    def with_versions(self, added: Sequence[P]) -> PolicyBook[P]:
        """A new book with ``added`` too (those it holds already are left out)."""
        new = [v for v in added if v.version not in self._by_name]
        if not new:
            return self
        return PolicyBook(
            [*self.versions, *new], model=self.model, aliases=self.aliases, source=self.source
        )

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
            return self._by_name[self.aliases.get(version, version)]
        except KeyError:
            raise UnknownPolicyVersion(f"unknown policy version {version!r}") from None

    def __contains__(self, version: object) -> bool:
        return isinstance(version, str) and self.aliases.get(version, version) in self._by_name
