"""R-2: the branches trainees belong to (reference data)."""

from __future__ import annotations

from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, TypeAdapter

from ..domain.vocabulary import BranchKind


class Branch(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    branch_id: str
    kind: BranchKind
    name: str


def _load() -> dict[str, Branch]:
    raw = orjson.loads(Path(__file__).with_name("branches.json").read_bytes())
    branches = TypeAdapter(list[Branch]).validate_python(raw["branches"])
    return {b.branch_id: b for b in branches}


BRANCHES = _load()
