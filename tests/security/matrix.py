"""The security matrix: one row per route of the four services (docs/http.md, plus the routes
the services add), saying which roles may call it and how the others are refused.

- ``roles``: pass whatever the resource (the contract's unconditional roles);
- ``scoped``: pass only for their *own* resource: a branch clerk for its branch (R-2), a trainee for
  itself, a trainer for the stages it trains, a production manager for production reserve
  trainees; for another's resource they are refused;
- ``hides``: that refusal is a 404 rather than a 403 (the contract allows it where confirming the
  resource exists would leak another branch's data);
- every other role is refused with 403, and a request without a valid token with 401.

``path`` and ``body`` name the resource with ``{own}``/``{other}`` placeholders that the tests fill
with the seeded world (tests/security/world.py): ``{trainee}`` is the trainee of the caller's own
branch or of the other one, ``{branch}`` the branch itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from shared.auth import Role

ALL_ROLES: tuple[str, ...] = tuple(Role)
PAIRS: list[tuple[str, str]] = list(combinations(ALL_ROLES, 2))
CLERK, TRAINEE, TRAINER = Role.BRANCH_CLERK, Role.TRAINEE, Role.TRAINER
MANAGER, PRODUCTION = Role.AFTER_SALES_MANAGER, Role.PRODUCTION_MANAGER
EXEC_VP, EXAMINER, PAYROLL = Role.EXEC_VP, Role.EXAMINER, Role.PAYROLL
MANAGEMENT, AUDITOR, ADMIN = Role.MANAGEMENT, Role.AUDITOR, Role.ADMIN


@dataclass(frozen=True)
class Row:
    service: str
    method: str
    path: str  # the route template, as the app declares it
    roles: frozenset[str]
    scoped: frozenset[str] = frozenset()
    hides: bool = False
    url: str = ""  # the request path; default: ``path`` with the placeholders filled
    body: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def id(self) -> str:
        return f"{self.service}:{self.method} {self.path}"

    def expects(self, role: str, relation: str) -> str:
        """``"allow"`` (authorization passes), ``"403"`` or ``"404"`` for this role and the
        relation (``"own"`` or ``"other"``) of the resource to the caller."""
        if role in self.roles or (role in self.scoped and relation == "own"):
            return "allow"
        if role in self.scoped:
            return "404" if self.hides else "403"
        return "403"

    def expects_of_token(self, relations: dict[str, str]) -> str:
        """What a token holding several roles gets, ``relations`` giving each role's relation to
        the resource. Each role grants only its own rights (docs/http.md), so the token is let
        through when one of its roles alone would be; otherwise it gets the refusal of a role the
        route admits (a 404 where the route hides), else 403."""
        answers = {self.expects(role, relation) for role, relation in relations.items()}
        if "allow" in answers:
            return "allow"
        return "404" if "404" in answers else "403"

    def pairs_decided_by_the_resource(self) -> list[tuple[str, str]]:
        """The pairs of roles whose answer depends on whose resource it is: the route admits one
        of the two, and neither passes whatever the resource. (The role gate refuses a pair it
        admits neither of; a role that passes whatever the resource lets its pair through.)"""
        admitted = self.roles | self.scoped
        return [p for p in PAIRS if admitted.intersection(p) and not self.roles.intersection(p)]


def row(service: str, method: str, path: str, roles: tuple[str, ...], **kw: Any) -> Row:
    scoped = frozenset(kw.pop("scoped", ()))
    return Row(service, method, path, frozenset(roles), scoped, **kw)


# The organisation's administrator has the organisation's routes, and nothing else.
EVERYONE_BUT_SCOPED = tuple(r for r in ALL_ROLES if r not in (CLERK, TRAINEE, ADMIN))
ENROL_BODY = {
    "trainee_id": "t-new-{branch}",
    "name": "新人",
    "category": "branch_commissioned",
    "branch_id": "{branch}",
    "education": "high_school",
    "experience_years": 1,
    "certificates": [],
    "product_series": ["X1"],
    "enrolled_on": "2026-03-02",
}
DAY_BODY = {
    "date": "2026-03-03",
    "content": "wiring",
    "method": "demo",
    "hours": 4,
    "performance": "ok",
    "effect": "ok",
}
BRANCH_QUERY = "?branch_id={branch}"

ENROLLMENT = [
    row(
        "enrollment",
        "POST",
        "/trainees",
        (MANAGER,),
        scoped=[CLERK],
        url="/trainees",
        body=ENROL_BODY,
    ),
    row(
        "enrollment",
        "POST",
        "/trainees/{trainee_id}/placement",
        (MANAGER, EXAMINER),
        body={"written": 85},
    ),
    row(
        "enrollment",
        "POST",
        "/trainees/{trainee_id}/withdraw",
        (MANAGER,),
        scoped=[CLERK],
        hides=True,
        url="/trainees/w-{branch}/withdraw",
        body={"reason": "moved"},
    ),
    row(
        "enrollment",
        "GET",
        "/trainees/{trainee_id}",
        EVERYONE_BUT_SCOPED,
        scoped=[CLERK, TRAINEE],
        hides=True,
    ),
    row(
        "enrollment",
        "GET",
        "/trainees",
        (MANAGER, MANAGEMENT),
        scoped=[CLERK],
        url="/trainees" + BRANCH_QUERY,
    ),
    # The file decides the branches: the role gate admits clerks, and each row naming another
    # branch than a clerk's own is refused as that row's problem (R-2; the whole file with it,
    # tests/integration/enrollment/test_trainee_imports_http.py). Here the body is empty: 422.
    row("enrollment", "POST", "/imports/trainees", (MANAGER, CLERK)),
]

# The organisation (docs/organisation.md): the admin changes it, everyone reads the
# branches, those who plan training and exams read the staff. ``{branch}`` is a branch the world
# registered; ``annex-{branch}`` one of its own for the matrix to rename and close, and
# ``leaver-{branch}`` a member of staff for it to see leave (once: later calls are 409).
STAFF_READERS = (ADMIN, MANAGER, PRODUCTION, MANAGEMENT)
ORGANISATION = [
    row(
        "enrollment",
        "POST",
        "/branches",
        (ADMIN,),
        body={
            "branch_id": "new-{branch}",
            "kind": "branch_office",
            "name_zh": "新办事处",
            "name_en": "New office",
        },
    ),
    row(
        "enrollment",
        "PATCH",
        "/branches/{branch_id}",
        (ADMIN,),
        url="/branches/annex-{branch}",
        body={"name_en": "Annex"},
    ),
    row(
        "enrollment",
        "POST",
        "/branches/{branch_id}/close",
        (ADMIN,),
        url="/branches/annex-{branch}/close",
        body={"closed_on": "2026-03-02", "reason": "merged"},
    ),
    row("enrollment", "GET", "/branches", ALL_ROLES),
    row("enrollment", "GET", "/branches/{branch_id}", ALL_ROLES, url="/branches/{branch}"),
    row("enrollment", "POST", "/imports/branches", (ADMIN,)),
    row(
        "enrollment",
        "POST",
        "/staff",
        (ADMIN,),
        body={
            "staff_id": "st-new-{branch}",
            "name": "新员工",
            "department": "technical",
            "roles": ["trainer"],
            "branch_id": "{branch}",
        },
    ),
    row(
        "enrollment",
        "POST",
        "/staff/{staff_id}/leave",
        (ADMIN,),
        url="/staff/leaver-{branch}/leave",
        body={"left_on": "2026-03-02"},
    ),
    row("enrollment", "POST", "/imports/staff", (ADMIN,)),
    row("enrollment", "GET", "/staff", STAFF_READERS),
    # Retention (issue 19): who is due for erasure is the administrator's, who erases.
    row("enrollment", "GET", "/people/erasure-proposals", (ADMIN,)),
    row("enrollment", "GET", "/staff/{staff_id}", STAFF_READERS, url="/staff/tr-{branch}"),
    # Erasure of a person's personal data (issue 19): the admin alone. A person the world lacks,
    # so the matrix erases no one (the admin passes the gate and gets a 404).
    row(
        "enrollment",
        "POST",
        "/people/{person_id}/erasure",
        (ADMIN,),
        url="/people/nobody-{branch}/erasure",
        body={"reason": "matrix"},
    ),
]

# The contract names "manager, exec_vp, the trainee, its trainers, its branch" (so neither
# management nor auditors); the production manager reads its production reserve trainees' (R-8).
PLAN_READERS = (MANAGER, EXEC_VP)
PLAN_AUDIENCE = [CLERK, TRAINEE, TRAINER, PRODUCTION]
TRAINING = [
    row(
        "training",
        "PUT",
        "/plans/{trainee_id}",
        (MANAGER,),
        scoped=[PRODUCTION],
        body={"stages": "{stages}"},
    ),
    row("training", "POST", "/plans/{trainee_id}/approve", (EXEC_VP,), body={}),
    row(
        "training",
        "POST",
        "/plans/{trainee_id}/stages/{no}/days",
        (),
        scoped=[TRAINER],
        url="/plans/{trainee}/stages/5/days",
        body=DAY_BODY,
    ),
    row(
        "training",
        "POST",
        "/plans/{trainee_id}/stages/{no}/days/{date}/confirm",
        (),
        scoped=[TRAINEE],
        url="/plans/{trainee}/stages/5/days/2026-03-02/confirm",
        body={"agree": True},
    ),
    row(
        "training",
        "POST",
        "/plans/{trainee_id}/stages/{no}/sign-off",
        (),
        scoped=[TRAINER],
        url="/plans/{trainee}/stages/5/sign-off",
        body={"assessment": "good"},
    ),
    row(
        "training",
        "POST",
        "/plans/{trainee_id}/stages/{no}/countersign",
        (),
        scoped=[TRAINEE],
        url="/plans/{trainee}/stages/5/countersign",
        body={"agree": True},
    ),
    row(
        "training",
        "POST",
        "/plans/{trainee_id}/stages/{no}/return",
        (),
        scoped=[TRAINER],
        url="/plans/{trainee}/stages/5/return",
        body={"to_stage": 1, "reason": "again"},
    ),
    # R-12a: {no} is the returned stage; the trainer of stage 5 explains it, or accepts for stage 1
    # as the trainer of a later stage (with no send-back open, both answer 409 R-12a).
    row(
        "training",
        "POST",
        "/plans/{trainee_id}/stages/{no}/return/explanation",
        (),
        scoped=[TRAINER],
        url="/plans/{trainee}/stages/5/return/explanation",
        body={"explanation": "the goal was reached"},
    ),
    row(
        "training",
        "POST",
        "/plans/{trainee_id}/stages/{no}/return/accept",
        (),
        scoped=[TRAINER],
        url="/plans/{trainee}/stages/1/return/accept",
        body={},
    ),
    row(
        "training",
        "POST",
        "/plans/{trainee_id}/concerns",
        (),
        scoped=[TRAINER],
        body={"stage_no": 5, "text": "cannot keep up"},
    ),
    row(
        "training",
        "POST",
        "/plans/{trainee_id}/concerns/{concern_id}/handling",
        (MANAGER,),
        url="/plans/{trainee}/concerns/c-unknown/handling",
        body={"verified": True, "handling": "more practice"},
    ),
    row("training", "GET", "/concerns", (MANAGER,), url="/concerns?status=open"),
    row(
        "training",
        "POST",
        "/trainers/{trainer_id}/demerits",
        (MANAGER,),
        url="/trainers/tr-{branch}/demerits",
        body={"reason": "perfunctory"},
    ),
    # The lists of plans: the production manager's holds its production reserve trainees' only.
    row("training", "GET", "/plans", (MANAGER, EXEC_VP, PRODUCTION), url="/plans?status=draft"),
    row("training", "GET", "/plans/{trainee_id}", PLAN_READERS, scoped=PLAN_AUDIENCE, hides=True),
    row(
        "training",
        "GET",
        "/trainers/{trainer_id}/stages",
        (MANAGEMENT, MANAGER, EXEC_VP),
        scoped=[TRAINER],
        url="/trainers/tr-{branch}/stages",
    ),
    row(
        "training",
        "GET",
        "/plans/{trainee_id}/export.xlsx",
        PLAN_READERS,
        scoped=PLAN_AUDIENCE,
        hides=True,
    ),
    row(
        "training",
        "GET",
        "/board/progress",
        (MANAGEMENT, MANAGER, EXEC_VP),
        scoped=[CLERK],
        url="/board/progress" + BRANCH_QUERY,
    ),
    row(
        "training",
        "GET",
        "/board/progress/export.xlsx",
        (MANAGEMENT, MANAGER, EXEC_VP),
        scoped=[CLERK],
        url="/board/progress/export.xlsx" + BRANCH_QUERY,
    ),
]

WHAT_IF_BODY = {"policies": {}, "from": "2026-03-01", "to": "2026-03-31"}
ASSESSMENT = [
    row("assessment", "POST", "/what-if", (MANAGEMENT, EXEC_VP), body=WHAT_IF_BODY),
    row("assessment", "GET", "/what-if/policies", (MANAGEMENT, EXEC_VP)),
    row("assessment", "POST", "/what-if/report.xlsx", (MANAGEMENT, EXEC_VP), body=WHAT_IF_BODY),
    row(
        "assessment",
        "POST",
        "/sessions",
        (MANAGER,),
        body={"session_id": "s-{branch}", "product_series": "X1", "held_on": "2026-03-20"},
    ),
    row(
        "assessment",
        "POST",
        "/sessions/{session_id}/written",
        (EXAMINER,),
        url="/sessions/s-1/written",
        body={"trainee_id": "{trainee}", "score": 90},
    ),
    row(
        "assessment",
        "POST",
        "/sessions/{session_id}/practical",
        (EXAMINER,),
        url="/sessions/s-1/practical",
        body={"trainee_id": "{trainee}", "department": "after_sales", "score": 90},
    ),
    row(
        "assessment",
        "POST",
        "/trainees/{trainee_id}/disposition",
        (MANAGER,),
        body={"outcome": "reserve", "reason": "r"},
    ),
    row(
        "assessment",
        "POST",
        "/sessions/{session_id}/close",
        (MANAGER,),
        url="/sessions/s-unknown/close",
        body={},
    ),
    row(
        "assessment",
        "POST",
        "/trainees/{trainee_id}/disputes",
        (MANAGER,),
        scoped=[TRAINEE, CLERK],
        hides=True,
        body={"reason": "recount"},
    ),
    row(
        "assessment",
        "POST",
        "/disputes/{dispute_id}/resolve",
        (MANAGER,),
        url="/disputes/d-unknown/resolve",
        body={"outcome": "upheld"},
    ),
    row(
        "assessment",
        "GET",
        "/trainees/{trainee_id}/grade",
        (MANAGEMENT, AUDITOR),
        scoped=[TRAINEE, CLERK],
        hides=True,
    ),
    row(
        "assessment",
        "GET",
        "/board/grades",
        (MANAGEMENT, AUDITOR),
        scoped=[CLERK],
        url="/board/grades" + BRANCH_QUERY,
    ),
    # Issue 20: the trainees behind one cell of the board, paged; the board's readers.
    row(
        "assessment",
        "GET",
        "/board/grades/{branch_id}/{position}/{level}",
        (MANAGEMENT, AUDITOR),
        scoped=[CLERK],
        url="/board/grades/{branch}/engineer/senior",
    ),
    row(
        "assessment",
        "GET",
        "/board/grades/export.xlsx",
        (MANAGEMENT, AUDITOR),
        scoped=[CLERK],
        url="/board/grades/export.xlsx" + BRANCH_QUERY,
    ),
    row(
        "assessment",
        "GET",
        "/board/trends",
        (MANAGEMENT, AUDITOR),
        scoped=[CLERK],
        url="/board/trends" + BRANCH_QUERY,
    ),
    row("assessment", "GET", "/board/trainers", (MANAGEMENT, MANAGER)),
    row("assessment", "GET", "/board/trainers/export.xlsx", (MANAGEMENT, MANAGER)),
    # the trainees a fined trainer keeps training; a trainer reads its own list only.
    row(
        "assessment",
        "GET",
        "/trainers/{trainer_id}/retraining",
        (MANAGEMENT, MANAGER),
        scoped=[TRAINER],
        url="/trainers/tr-{branch}/retraining",
    ),
    row("assessment", "GET", "/trainees/{trainee_id}/audit", (AUDITOR, MANAGER)),
    row(
        "assessment",
        "GET",
        "/sessions/{session_id}",
        (MANAGER, EXAMINER, MANAGEMENT, AUDITOR),
        url="/sessions/s-1",
    ),
    row(
        "assessment",
        "GET",
        "/disputes/{dispute_id}",
        (MANAGER, MANAGEMENT, AUDITOR),
        scoped=[TRAINEE, CLERK],
        hides=True,
        url="/disputes/{dispute}",
    ),
    row("assessment", "GET", "/sessions", (MANAGER, EXAMINER, MANAGEMENT, AUDITOR)),
    row(
        "assessment",
        "GET",
        "/sessions/{session_id}/sittings",
        (MANAGER, EXAMINER, MANAGEMENT, AUDITOR),
        url="/sessions/s-1/sittings",
    ),
    # A clerk lists its own branch's disputes, a trainee its own: the list is filtered, not refused.
    row("assessment", "GET", "/disputes", (MANAGER, MANAGEMENT, AUDITOR, CLERK, TRAINEE)),
]

MONTH = "2026-03"
COMPENSATION = [
    row(
        "compensation",
        "POST",
        "/employees/{employee_id}/travel",
        (PAYROLL,),
        url="/employees/{trainee}/travel",
        body={"month": MONTH, "days": 2},
    ),
    row(
        "compensation",
        "POST",
        "/employees/{employee_id}/piece-rate",
        (PAYROLL,),
        url="/employees/{trainee}/piece-rate",
        body={"month": MONTH, "amount": "100.00"},
    ),
    row(
        "compensation",
        "POST",
        "/employees/{employee_id}/performance",
        (PAYROLL,),
        url="/employees/{trainee}/performance",
        body={"month": MONTH, "rating": 90},
    ),
    row(
        "compensation",
        "GET",
        "/employees/{employee_id}/pay-rate",
        (PAYROLL, MANAGEMENT),
        scoped=[TRAINEE],
        url="/employees/{trainee}/pay-rate",
    ),
    row(
        "compensation",
        "GET",
        "/employees/{employee_id}/payslips",
        (PAYROLL, MANAGEMENT),
        scoped=[TRAINEE],
        url="/employees/{trainee}/payslips",
    ),
    row(
        "compensation",
        "POST",
        "/payroll/{month}/run",
        (PAYROLL,),
        url=f"/payroll/{MONTH}/run",
        body={},
    ),
    row("compensation", "GET", "/payroll/{month}", (PAYROLL, MANAGEMENT), url=f"/payroll/{MONTH}"),
    row(
        "compensation",
        "GET",
        "/payroll/{month}/inputs",
        (PAYROLL, MANAGEMENT),
        url=f"/payroll/{MONTH}/inputs",
    ),
    # The body is empty (not a workbook): a 422 listing the file's problem, past the role gate.
    row(
        "compensation",
        "POST",
        "/imports/pay-inputs/{month}",
        (PAYROLL,),
        url=f"/imports/pay-inputs/{MONTH}",
    ),
    row(
        "compensation",
        "GET",
        "/payroll/{month}/export.xlsx",
        (PAYROLL, MANAGEMENT),
        url=f"/payroll/{MONTH}/export.xlsx",
    ),
    row(
        "compensation",
        "GET",
        "/payroll/{month}/export.csv",
        (PAYROLL, MANAGEMENT),
        url=f"/payroll/{MONTH}/export.csv",
    ),
    row(
        "compensation",
        "GET",
        "/branch-fees/{month}",
        (PAYROLL, MANAGEMENT),
        scoped=[CLERK],
        url=f"/branch-fees/{MONTH}" + BRANCH_QUERY,
    ),
    row(
        "compensation",
        "GET",
        "/branch-fees/{month}/export.xlsx",
        (PAYROLL, MANAGEMENT),
        scoped=[CLERK],
        url=f"/branch-fees/{MONTH}/export.xlsx" + BRANCH_QUERY,
    ),
    row(
        "compensation",
        "GET",
        "/branch-fees/{month}/export.csv",
        (PAYROLL, MANAGEMENT),
        scoped=[CLERK],
        url=f"/branch-fees/{MONTH}/export.csv" + BRANCH_QUERY,
    ),
    row(
        "compensation",
        "GET",
        "/trainer-fines/{month}",
        (PAYROLL, MANAGEMENT),
        url=f"/trainer-fines/{MONTH}",
    ),
    row(
        "compensation",
        "GET",
        "/trainer-fines/{month}/export.xlsx",
        (PAYROLL, MANAGEMENT),
        url=f"/trainer-fines/{MONTH}/export.xlsx",
    ),
    row(
        "compensation",
        "GET",
        "/trainer-fines/{month}/export.csv",
        (PAYROLL, MANAGEMENT),
        url=f"/trainer-fines/{MONTH}/export.csv",
    ),
    row(
        "compensation",
        "GET",
        "/branches/{branch_id}/feedback",
        (MANAGER, MANAGEMENT),
        scoped=[CLERK],
        url="/branches/{branch}/feedback",
    ),
]

COMPENSATION += [
    row("compensation", "POST", "/what-if", (MANAGEMENT, EXEC_VP), body=WHAT_IF_BODY),
    row("compensation", "POST", "/what-if/pay", (MANAGEMENT, EXEC_VP), body=WHAT_IF_BODY),
]


# Policies as data (docs/policy.md): everyone reads the versions; the executive vice-president
# publishes and previews (payroll too, for pay). The bodies are left out: a publisher's call is
# a 422 that changes nothing. A name another service applies is a 404 for anyone signed in.
def _policy_rows(service: str, name: str, publishers: tuple[str, ...]) -> list[Row]:
    return [
        row(service, "GET", f"/policies/{name}", ALL_ROLES),
        row(service, "POST", f"/policies/{name}", publishers),
        row(service, "POST", f"/policies/{name}/diff", publishers),
    ]


POLICIES = [
    *_policy_rows("enrollment", "placement", (EXEC_VP,)),
    *_policy_rows("enrollment", "retention", (ADMIN,)),
    *_policy_rows("training", "plan_content", (EXEC_VP,)),
    *_policy_rows("assessment", "grading", (EXEC_VP,)),
    *_policy_rows("assessment", "fines", (EXEC_VP,)),
    *_policy_rows("compensation", "pay", (PAYROLL, EXEC_VP)),
    *_policy_rows("compensation", "fees", (EXEC_VP,)),
    *(
        row(service, method, "/policies/{name}", ALL_ROLES, url=f"/policies/{elsewhere}")
        for service, elsewhere in (
            ("enrollment", "grading"),
            ("training", "placement"),
            ("assessment", "pay"),
            ("compensation", "placement"),
        )
        for method in ("GET", "POST")
    ),
    *(
        row(service, "POST", "/policies/{name}/diff", ALL_ROLES, url=f"/policies/{elsewhere}/diff")
        for service, elsewhere in (
            ("enrollment", "grading"),
            ("training", "placement"),
            ("assessment", "pay"),
            ("compensation", "placement"),
        )
    ),
]

# A person's data (issue 19, docs/privacy.md): to the person themself (the token's ``sub``: the
# own trainee's for a trainee) and to the administrator; enrollment gathers every service's part.
PEOPLE = "/people/{person_id}"
PERSONAL_DATA = [
    *(
        row(
            "enrollment",
            "GET",
            PEOPLE + tail,
            (ADMIN,),
            scoped=[TRAINEE],
            url=f"/people/{{trainee}}{tail}",
        )
        for tail in ("/data", "/data.xlsx")
    ),
    *(
        row(
            service,
            "GET",
            PEOPLE + "/data/local",
            (ADMIN,),
            scoped=[TRAINEE],
            url="/people/{trainee}/data/local",
        )
        for service in ("enrollment", "training", "assessment", "compensation")
    ),
]

MATRIX: list[Row] = [
    *ENROLLMENT,
    *ORGANISATION,
    *TRAINING,
    *ASSESSMENT,
    *COMPENSATION,
    *POLICIES,
    *PERSONAL_DATA,
]
SERVICES = ("enrollment", "training", "assessment", "compensation")

# Served by every app or by the dashboard, outside the contract's role model: reachable without a
# token (probes, scrapes, the API's own description, the problem types' pages, the pages, which
# ask their user to sign in before they call anything, and how they sign in).
UNGUARDED = frozenset(
    {
        "/health",
        "/ready",
        "/metrics",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        "/docs/assets/{name}",
        "/problems/{slug}",
        "/problems/rules/{rule_id}",
        "/dashboard",
        "/dashboard/{name}",
        "/pages/{name}",
        "/app/",
        "/app/{name}",
        "/auth/config",
    }
)


def rows_of(service: str) -> list[Row]:
    return [r for r in MATRIX if r.service == service]


def fill(template: Any, values: dict[str, Any]) -> Any:
    """``template`` with every ``{name}`` placeholder replaced (a whole-string placeholder may
    stand for a non-string value, e.g. ``"{stages}"``)."""
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in values:
            return values[template[1:-1]]
        for name, value in values.items():
            if isinstance(value, str):
                template = template.replace("{" + name + "}", value)
        return template
    return template
