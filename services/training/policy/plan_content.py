"""R-7a and R-8a as versioned policy data: the content items of each plan level (the codes a
stage lists in ``covers``) and the topics every plan must cover.

The deciders never read :data:`PLAN_CONTENT`: the handler resolves the version in force on the
command's day (:func:`content_in_force`) and the command carries it, so a decision records the
version it applied (``PlanApproved.policy_version``) and a published new version never changes a
past one.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

from shared.policy import PolicyBook, PolicyVersion

from ..domain.vocabulary import Topic


class PlanLevel(StrEnum):
    """R-6/R-7: the plan level the placement exam fixed (enrollment's ``plan_level``)."""

    BASIC = "basic"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class PlanContentPolicy(PolicyVersion):
    levels: dict[PlanLevel, tuple[str, ...]]  # R-7a: each level's items, in the regulation's order
    mandatory_topics: tuple[Topic, ...]  # R-8a

    def items(self, level: PlanLevel) -> tuple[str, ...]:
        return self.levels[level]

    def known_codes(self) -> frozenset[str]:
        """Every content code of some level: what a stage may list in ``covers``."""
        return frozenset(code for codes in self.levels.values() for code in codes)


PLAN_CONTENT = PolicyBook.load(PlanContentPolicy, Path(__file__).with_name("plan_content.json"))


def content_in_force(today: dt.date) -> PlanContentPolicy:
    """The one place the training service picks the version a command applies."""
    return PLAN_CONTENT.in_force(today)
