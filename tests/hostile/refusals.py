"""Refusals of schema-valid requests that are right, and that no schema can say: for
schemathesis' positive data acceptance, which expects a request its schema allows to succeed or
to be refused for a reason it knows of (401, 403, 404, 409, 429).

Each refusal is recognised by its problem+json (status, ``type``, and the field and kind of
every entry of ``errors``), and admitted only on the operations it belongs to: a 422 of any
other kind, or on another operation, still fails the check. Everything a schema *can* say (the
form of ids, months, dates, decimals, the If-Match header) is said by the services' schemas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema

from shared.directory import UNKNOWN_BRANCH
from shared.problems import ProblemType


@dataclass(frozen=True)
class Refusal:
    """A 422 whose every error names ``field`` with ``kind`` (and ``rule``, and a message
    ending in ``says``, when given)."""

    field: str
    kind: str
    rule: str | None = None
    says: str | None = None

    def matches(self, problem: dict[str, Any]) -> bool:
        errors = problem.get("errors") or []
        return (
            problem.get("status") == 422
            and problem.get("type") == ProblemType.VALIDATION.uri
            and bool(errors)
            and all(
                e.get("field") == self.field
                and e.get("type") == self.kind
                and (self.rule is None or e.get("rule") == self.rule)
                and (self.says is None or str(e.get("message")).endswith(self.says))
                for e in errors
            )
        )


# The registry decides which branches exist; enrollment's own routes cite R-2, the others know
# a branch once its registration has arrived from enrollment.
UNREGISTERED_BRANCH = Refusal("body.branch_id", "domain", "R-2")
UNREGISTERED_LISTED = Refusal("query.branch_id", "domain", "R-2")
UNKNOWN_BRANCH_HERE = Refusal("query.branch_id", UNKNOWN_BRANCH)
# Training knows the trainees enrollment announced; a demerit names one of them.
UNKNOWN_TRAINEE = Refusal("body.trainee_id", "domain", "R-13")


# A date the request records may not be after today, which the clock decides.
def _future(field: str, rule: str | None = None) -> Refusal:
    return Refusal(f"body.{field}", "domain", rule, "is in the future")


# The body is an .xlsx workbook: what a file must hold is the import's to say, row by row.
WORKBOOK_CONTENT = Refusal("file", "import")


class DraftRefusal(Refusal):
    """What-if: a draft document is validated by its policy's own model (no schema says what a
    policy holds, so neither can it say that a document's keys hold no U+0000), a draft may name
    a policy what-if does not weigh, and a period needs a policy in force; every error names the
    draft (``policies.<name>...``) or the period."""

    def matches(self, problem: dict[str, Any]) -> bool:
        return _all_errors_named(
            problem,
            lambda field: (
                field.startswith(("policies.", "body.policies.")) or field in ("to", "query.on")
            ),
        )


@dataclass(frozen=True)
class PolicyDraftRefusal(Refusal):
    """A policy draft's 422 (docs/policy.md): its document's fields and semantic checks, an
    effective date before today and a version not named after the policy are the policy's to
    say, listed together."""

    def matches(self, problem: dict[str, Any]) -> bool:
        return _all_errors_named(
            problem,
            lambda field: (
                field.startswith("body.document")
                or field in ("body.effective_from", "body.version")
            ),
        )


def _all_errors_named(problem: dict[str, Any], named: Callable[[str], bool]) -> bool:
    """A validation problem (422) every one of whose field errors ``named`` accepts."""
    errors = problem.get("errors") or []
    return (
        problem.get("status") == 422
        and problem.get("type") == ProblemType.VALIDATION.uri
        and bool(errors)
        and all(named(str(e.get("field", ""))) for e in errors)
    )


DRAFT = DraftRefusal("policies.", "")
POLICY_DRAFT = PolicyDraftRefusal("document", "policy")
_POLICY_OPERATIONS = {
    (service, method, path): (POLICY_DRAFT,)
    for service, names in (
        ("enrollment", ("placement", "retention")),
        ("training", ("plan_content",)),
        ("assessment", ("grading", "fines")),
        ("compensation", ("pay", "fees")),
    )
    for name in names
    for method, path in (("POST", f"/policies/{name}"), ("POST", f"/policies/{name}/diff"))
}

# Per (service, method, path): the refusals a schema-valid request may rightly get there.
BY_OPERATION: dict[tuple[str, str, str], tuple[Refusal, ...]] = {
    ("enrollment", "POST", "/trainees"): (UNREGISTERED_BRANCH, _future("enrolled_on", "R-3")),
    ("enrollment", "GET", "/trainees"): (UNREGISTERED_LISTED,),
    # No retention version is in force before the first one's day (2000-01-01).
    ("enrollment", "GET", "/people/erasure-proposals"): (Refusal("query.as_of", "domain"),),
    ("enrollment", "POST", "/staff"): (UNREGISTERED_BRANCH,),
    ("enrollment", "POST", "/staff/{staff_id}/leave"): (_future("left_on"),),
    ("enrollment", "POST", "/branches/{branch_id}/close"): (_future("closed_on"),),
    ("enrollment", "POST", "/imports/branches"): (WORKBOOK_CONTENT,),
    ("enrollment", "POST", "/imports/staff"): (WORKBOOK_CONTENT,),
    ("enrollment", "POST", "/imports/trainees"): (WORKBOOK_CONTENT,),
    ("training", "GET", "/board/progress"): (UNKNOWN_BRANCH_HERE,),
    ("training", "GET", "/board/progress/export.xlsx"): (UNKNOWN_BRANCH_HERE,),
    ("training", "POST", "/trainers/{trainer_id}/demerits"): (UNKNOWN_TRAINEE,),
    ("training", "POST", "/plans/{trainee_id}/stages/{no}/days"): (_future("date", "R-10"),),
    ("assessment", "GET", "/board/grades"): (UNKNOWN_BRANCH_HERE,),
    ("assessment", "GET", "/board/grades/export.xlsx"): (UNKNOWN_BRANCH_HERE,),
    # The trends span at most 24 months, the first not after the last (no schema relates two).
    ("assessment", "GET", "/board/trends"): (
        UNKNOWN_BRANCH_HERE,
        Refusal("query.from", "month_range"),
        Refusal("query.to", "month_range"),
    ),
    # a session is for one product series or one training content, never both or neither
    # (the schema lists both as optional), and a content is a code of R-7a or a topic of R-8a.
    ("assessment", "POST", "/sessions"): (
        Refusal("body.content", "domain"),
        Refusal("body.product_series", "domain", "R-24"),
    ),
    ("assessment", "POST", "/what-if"): (DRAFT,),
    ("assessment", "POST", "/what-if/report.xlsx"): (DRAFT,),
    ("assessment", "GET", "/what-if/policies"): (DRAFT,),
    ("compensation", "POST", "/what-if"): (DRAFT,),
    ("compensation", "POST", "/what-if/pay"): (DRAFT,),
    ("compensation", "POST", "/imports/pay-inputs/{month}"): (WORKBOOK_CONTENT,),
    ("compensation", "GET", "/branch-fees/{month}"): (UNKNOWN_BRANCH_HERE,),
    ("compensation", "GET", "/branch-fees/{month}/export.csv"): (UNKNOWN_BRANCH_HERE,),
    ("compensation", "GET", "/branch-fees/{month}/export.xlsx"): (UNKNOWN_BRANCH_HERE,),
    **_POLICY_OPERATIONS,
}
# A page cursor holds the last key of the page that gave it: one this list did not give is
# refused, whatever its form.
FOREIGN_CURSOR = Refusal("query.cursor", "cursor")


def _parameters(operation: Any) -> list[dict[str, Any]]:
    raw = operation.schema.raw_schema["paths"][operation.path][operation.method]
    parameters: list[dict[str, Any]] = raw.get("parameters", [])
    return parameters


def refused_for_cause(service: str, operation: Any, problem: dict[str, Any]) -> bool:
    """Whether ``problem`` answers a schema-valid request of ``operation`` rightly: a stale
    ``If-Match`` (412) where the operation takes one, a cursor the list did not give where it
    takes one, or one of the operation's :data:`BY_OPERATION` refusals."""
    names = {p["name"] for p in _parameters(operation)}
    if problem.get("status") == 412 and "If-Match" in names:
        return problem.get("type") == ProblemType.PRECONDITION_FAILED.uri
    refusals = BY_OPERATION.get((service, operation.method.upper(), operation.path), ())
    if "cursor" in names:
        refusals = (*refusals, FOREIGN_CURSOR)
    return any(r.matches(problem) for r in refusals)


def headers_as_declared(case: Any) -> bool:
    """Whether every header parameter the case sends holds to its schema. schemathesis' coverage
    phase draws header values from letters and digits only; for a pattern needing another
    character (``If-Match``'s quotes) it has no valid value, and sends an invalid one in cases
    it labels positive: those are no test of positive data acceptance."""
    sent = case.headers or {}
    return all(
        jsonschema.Draft202012Validator(p["schema"]).is_valid(sent[p["name"]])
        for p in _parameters(case.operation)
        if p["in"] == "header" and p["name"] in sent
    )


def positive_data_acceptance_where_schemas_can_say(
    service: str, check: Callable[..., bool | None]
) -> Callable[..., bool | None]:
    """schemathesis' ``check`` (positive data acceptance) but for the refusals above, and for
    cases that are not positive after all (:func:`headers_as_declared`)."""

    def positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
        if not headers_as_declared(case):
            return None
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if isinstance(problem, dict) and refused_for_cause(service, case.operation, problem):
            return None
        return check(ctx, response, case)

    return positive_data_acceptance
