"""The request of ``POST /what-if`` and how its drafts become policy values (docs/what-if.md).

Both services that evaluate drafts (assessment: grading and fines; compensation: pay and fees)
read the same request and fill a draft the same way: a document without ``version`` and
``effective_from`` becomes version ``draft`` in force from the period's first day, validated by
the very model the policy in force is (a bad draft is refused whole, every problem listed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import ConfigDict, Field, ValidationError

from shared.policy import PolicyVersion
from shared.problems import Problem, field_name, validation_failed
from shared.requests import RegisteredBranch, RequestBody

DRAFT_VERSION = "draft"
MAX_PERIOD_DAYS = 731  # two years: what a meeting weighs, and a bounded amount of work
NOT_COVERED = ("placement", "plan_content")  # drafts what-if does not re-derive
P = TypeVar("P", bound=PolicyVersion)
Problems = list[dict[str, Any]]


class WhatIfRequest(RequestBody):
    """``{policies: {name: document}, from, to, branch_ids?}``: drafts and the period weighed."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    policies: Annotated[dict[str, dict[str, Any]], Field(max_length=8)] = {}
    from_: date = Field(alias="from", description="the period's first day")
    to: date = Field(description="the period's last day")
    branch_ids: Annotated[list[RegisteredBranch] | None, Field(max_length=200)] = None


def check_request(
    request: WhatIfRequest, covered: Iterable[str], elsewhere: Mapping[str, str] | None = None
) -> Problems:
    """The request's problems besides the documents: the period, and drafts not weighed here
    (``elsewhere``: policy name -> the service whose ``POST /what-if`` weighs it)."""
    problems: Problems = []
    if request.to < request.from_:
        problems.append(_problem("to", "the period ends before it begins", "period"))
    elif (request.to - request.from_).days >= MAX_PERIOD_DAYS:
        problems.append(_problem("to", f"a period is at most {MAX_PERIOD_DAYS} days", "period"))
    known = set(covered)
    for name in request.policies:
        if name in NOT_COVERED:
            text = f"what-if does not cover {name} drafts: it re-derives grades, fines, fees, pay"
            problems.append(_problem(f"policies.{name}", text, "not_covered"))
        elif elsewhere and name in elsewhere:
            text = f"a {name} draft is weighed by {elsewhere[name]}'s POST /what-if"
            problems.append(_problem(f"policies.{name}", text, "elsewhere"))
        elif name not in known:
            problems.append(_problem(f"policies.{name}", f"unknown policy {name!r}", "unknown"))
    return problems


def fill_draft(
    model: type[P], document: Mapping[str, Any], start: date, name: str, problems: Problems
) -> P | None:
    """The draft as a policy value, or None with its problems added to ``problems``."""
    try:
        return model.model_validate(
            {**document, "version": DRAFT_VERSION, "effective_from": start.isoformat()}
        )
    except ValidationError as invalid:
        for error in invalid.errors():
            loc = ("policies", name, *error.get("loc", ()))
            problems.append(_problem(field_name(loc), str(error["msg"]), str(error["type"])))
        return None


def refused(problems: Problems) -> Problem:
    return validation_failed("The draft cannot be evaluated: every problem is listed.", problems)


def _problem(field: str, message: str, kind: str) -> dict[str, Any]:
    return {"field": field, "message": message, "type": kind}
