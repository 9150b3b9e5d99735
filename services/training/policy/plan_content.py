"""R-7a and R-8a as versioned policy data: the content items of each plan level (the codes a
stage lists in ``covers``) and the topics every plan must cover.

:data:`PLAN_CONTENT` is the shipped book: the first published versions of the ``plan_content``
policy (services/training/policies.py; docs/policy.md). The deciders never read a book: the
handler resolves the version in force on the command's day from the app's books and the command
carries it, so a decision records the version it applied (``PlanApproved.policy_version``) and a
published new version never changes a past one.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from shared.policy import PolicyBook, PolicyVersion
from shared.policy_checks import Problems, distinct, every_present

from ..domain.vocabulary import Topic


class PlanLevel(StrEnum):
    """R-6/R-7: the plan level the placement exam fixed (enrollment's ``plan_level``)."""

    BASIC = "basic"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class PlanContentPolicy(PolicyVersion):
    levels: dict[PlanLevel, tuple[str, ...]]  # R-7a: each level's items, in the regulation's order
    mandatory_topics: tuple[Topic, ...]  # R-8a

    def problems(self) -> Problems:
        """Every plan level with at least one item, each item once per level, and every R-8a
        topic named once."""
        found = every_present("levels", list(self.levels), PlanLevel)
        for level, codes in self.levels.items():
            if not codes:
                found.append((f"levels.{level.value}", "a plan level needs at least one item"))
            found += distinct(f"levels.{level.value}", codes)
        found += distinct("mandatory_topics", self.mandatory_topics)
        if not self.mandatory_topics:
            found.append(("mandatory_topics", "R-8a names topics every plan must cover"))
        return found

    def items(self, level: PlanLevel) -> tuple[str, ...]:
        return self.levels[level]

    def known_codes(self) -> frozenset[str]:
        """Every content code of some level: what a stage may list in ``covers``."""
        return frozenset(code for codes in self.levels.values() for code in codes)


PLAN_CONTENT = PolicyBook.load(PlanContentPolicy, Path(__file__).with_name("plan_content.json"))
