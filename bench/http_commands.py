"""One representative command per service, as endless supplies of pre-encoded HTTP requests.

Each supply is an iterator of complete request bytes for ``bench.loadgen`` (shared by its 64
connections, which take requests in turn). Consecutive requests touch different streams, so that
the figures measure the command path, not retries after conflicts on one hot stream:

- enrollment: ``POST /trainees``, a new trainee each time (5 branches, R-1/R-2);
- training: ``PUT /plans/{id}``, a draft or re-draft of a seeded trainee's plan (R-8), each one
  different from the last so that it is a new revision and never the no-op of an identical PUT;
- assessment: the six scores of a sitting (R-15 written, R-16 five practical) of seeded trainees
  in seeded sessions; the sixth decides the grade (R-18, R-20, R-21), as in production;
- compensation: ``POST /employees/{id}/travel``, a month's travel days of a seeded employee
  (HQ full-time: the company pays them, R-31).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import orjson

from bench import loadgen
from ops.organisation import STANDARD_BRANCHES
from services.enrollment.domain.vocabulary import Category
from shared.auth import Role, mint_token

HOST = "127.0.0.1"
TOKEN_TTL = 24 * 3600
# HQ staff are enrolled at the HQ; commissioned staff at a branch office or a dealer.
BRANCHES = {
    "hq": Category.HQ_FULL_TIME,
    "bo-east": Category.BRANCH_COMMISSIONED,
    "bo-west": Category.BRANCH_COMMISSIONED,
    "dl-north": Category.BRANCH_COMMISSIONED,
    "dl-south": Category.BRANCH_COMMISSIONED,
}
# Seeded trainees are HQ full-time: every service acts on them (compensation pays them, R-31).
SEED_BRANCHES = {"hq": Category.HQ_FULL_TIME}
# Trainee ids have a fixed width, so that every request of a template has the same length and
# the pre-encoded Content-Length holds; the placeholder is replaced by the id at send time.
ID_WIDTH = 16
PLACEHOLDER = b"#" * ID_WIDTH
PRACTICAL = ("technical", "process_engineering", "quality", "after_sales", "production")


def bearer(
    secret: str, sub: str, role: Role, branch_id: str | None = None, department: str | None = None
) -> dict[str, str]:
    token = mint_token(
        secret, sub, [role], branch_id=branch_id, department=department, ttl_seconds=TOKEN_TTL
    )
    return {"Authorization": f"Bearer {token}"}


def send(method: str, path: str, auth: dict[str, str], key: str, body: object) -> bytes:
    headers = {**auth, "Idempotency-Key": key}
    return loadgen.request(method, path, HOST, headers, orjson.dumps(body))


# --- enrollment --------------------------------------------------------------------------------


def branch_registrations(secret: str) -> list[bytes]:
    """The five branches registered by the organisation's administrator (``POST /branches``):
    every enrolment names a registered branch (R-2), so they go first."""
    auth = bearer(secret, "admin-org", Role.ADMIN)
    return [
        send("POST", "/branches", auth, f"branch-{b['branch_id']}", b) for b in STANDARD_BRANCHES
    ]


def enrol_body(branch_id: str, category: Category) -> bytes:
    """A valid enrolment (R-3) with the placeholder as trainee id; about 300 bytes of JSON."""
    return orjson.dumps(
        {
            "trainee_id": PLACEHOLDER.decode(),
            "name": "Zhang Wei",
            "category": category.value,
            "branch_id": branch_id,
            "education": "junior_college",
            "experience_years": "3.5",
            "certificates": ["low-voltage electrician", "forklift operator"],
            "product_series": ["XG-200"],
            "enrolled_on": "2025-03-03",
        }
    )


def request_template(branch_id: str, category: Category, secret: str) -> list[bytes]:
    """The request for one branch, split around the two places the trainee id goes."""
    auth = bearer(secret, f"clerk-{branch_id}", Role.BRANCH_CLERK, branch_id=branch_id)
    headers = {**auth, "Idempotency-Key": f"enrol-{PLACEHOLDER.decode()}"}
    request = loadgen.post("/trainees", HOST, headers, enrol_body(branch_id, category))
    parts = request.split(PLACEHOLDER)
    assert len(parts) == 3, "the placeholder must appear in the key and the body only"
    return parts


def trainee_id(prefix: str, n: int) -> str:
    return f"{prefix}-{n:0{ID_WIDTH - len(prefix) - 1}d}"


class Enrolments:
    """An endless supply of enrolment requests, each with a trainee id never used before.

    One supply serves every run of the suite, so ids stay unique across runs and servers.
    """

    def __init__(
        self, secret: str, branches: dict[str, Category] = BRANCHES, prefix: str = "t"
    ) -> None:
        self.templates = [request_template(b, c, secret) for b, c in branches.items()]
        self.prefix = prefix
        self.counter = itertools.count()

    def request(self, n: int) -> bytes:
        """The enrolment of trainee ``n`` of this supply's prefix."""
        template = self.templates[n % len(self.templates)]
        return trainee_id(self.prefix, n).encode().join(template)

    def __iter__(self) -> Iterator[bytes]:
        return map(self.request, self.counter)


def seed_enrolments(secret: str, count: int) -> list[bytes]:
    """The enrolments of the trainees the other services' commands act on."""
    return list(itertools.islice(Enrolments(secret, SEED_BRANCHES, prefix="s"), count))


def seeded_ids(count: int) -> list[str]:
    return [trainee_id("s", n) for n in range(count)]


# --- training ----------------------------------------------------------------------------------


def plan_body(revision: int) -> dict[str, object]:
    stage = {
        "no": 1,
        "content": f"XG-200 commissioning, revision {revision}",
        "department": "technical",
        "trainer_id": "tr-bench",
        "product_series": "XG-200",
        "topic": "product",
        "planned_start": "2025-03-10",
        "planned_end": "2025-03-21",
    }
    return {"stages": [stage]}


def plan_drafts(secret: str, trainees: Sequence[str]) -> Iterator[bytes]:
    """The after-sales manager drafts, then re-drafts, the plans of ``trainees`` in turn (R-8)."""
    auth = bearer(secret, "mgr-bench", Role.AFTER_SALES_MANAGER)
    for n in itertools.count():
        trainee = trainees[n % len(trainees)]
        yield send("PUT", f"/plans/{trainee}", auth, f"plan-{n}", plan_body(n))


# --- assessment --------------------------------------------------------------------------------


def session_id(n: int) -> str:
    return f"sess-{n:04d}"


def open_sessions(secret: str, count: int) -> list[bytes]:
    auth = bearer(secret, "mgr-bench", Role.AFTER_SALES_MANAGER)
    return [
        send(
            "POST",
            "/sessions",
            auth,
            f"session-{n}",
            {"session_id": session_id(n), "product_series": "XG-200", "held_on": "2025-06-02"},
        )
        for n in range(count)
    ]


def exam_scores(secret: str, trainees: Sequence[str], sessions: int) -> Iterator[bytes]:
    """Every seeded trainee's six scores in each session, one kind of score at a time, so that
    consecutive requests go to different sittings; the last kind completes each sitting."""
    written = bearer(secret, "ex-hr", Role.EXAMINER, department="hr")  # graded by HR
    practical = {d: bearer(secret, f"ex-{d}", Role.EXAMINER, department=d) for d in PRACTICAL}
    for s in range(sessions):
        path = f"/sessions/{session_id(s)}"
        for trainee in trainees:
            body = {"trainee_id": trainee, "score": "88.5"}
            yield send("POST", f"{path}/written", written, f"w-{s}-{trainee}", body)
        for department, auth in practical.items():
            for trainee in trainees:
                body = {"trainee_id": trainee, "department": department, "score": "91.0"}
                key = f"p-{s}-{department}-{trainee}"
                yield send("POST", f"{path}/practical", auth, key, body)


# --- compensation ------------------------------------------------------------------------------


def travel_days(secret: str, employees: Sequence[str]) -> Iterator[bytes]:
    """Payroll records each employee's travel days of one month, then the next month's."""
    auth = bearer(secret, "pay-bench", Role.PAYROLL)
    for m in itertools.count():
        month = f"{2000 + m // 12:04d}-{m % 12 + 1:02d}"
        for n, employee in enumerate(employees):
            body = {"month": month, "days": n % 20}
            yield send("POST", f"/employees/{employee}/travel", auth, f"travel-{m}-{n}", body)


# --- one service's command ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """The command a service is measured on: its route, answer and request supply."""

    service: str
    route: str
    expected: int  # the status every request must get
    requests: Iterator[bytes]
    about: str  # what each request does, for the report


def commands(secret: str, trainees: Sequence[str], sessions: int) -> list[Command]:
    seeded = f"{len(trainees):,} seeded HQ full-time trainees"
    return [
        Command(
            "enrollment",
            "POST /trainees",
            201,
            iter(Enrolments(secret)),
            "a new trainee each time over 5 branches, a branch clerk's JWT",
        ),
        Command(
            "training",
            "PUT /plans/{id}",
            200,
            plan_drafts(secret, trainees),
            f"the after-sales manager drafts or re-drafts (a new revision each time) the "
            f"plan of one of {seeded}, in turn",
        ),
        Command(
            "assessment",
            "POST /sessions/{id}/written, /practical",
            201,
            exam_scores(secret, trainees, sessions),
            f"examiners' scores of {seeded} in {sessions} open sessions: each sitting's "
            "written score, then its five practical ones, the last deciding the grade",
        ),
        Command(
            "compensation",
            "POST /employees/{id}/travel",
            201,
            travel_days(secret, trainees),
            f"payroll records a month's travel days of each of {seeded}, month after month",
        ),
    ]
