"""The demo loader: five branches post a realistic training round to the running services.

HQ, two branch offices and two dealers each run as their own asyncio task and post
concurrently, over HTTP only, with development tokens of the roles the contract names: the branch
clerk enrols, an examiner scores the placement, the after-sales manager (production manager for
production reserve) drafts the plan, the executive vice-president approves it, trainers log days
and sign stages, trainees confirm and countersign (a few dissent, dispute or are sent back),
examiners score the final exams, the manager disposes of the failed, a dealer's trainee keeps
training at the dealer's cost, a grade is disputed and corrected; then the exam sessions close (a
trainer is fined), payroll records the month's inputs and runs the month.

Every POST and PUT carries an ``Idempotency-Key`` made of the scenario's deterministic ids, so
running the demo again against the same databases replays the first answers and appends nothing.
Cross-service propagation is awaited by polling, each wait bounded and named when it times out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ops import scenario as sc
from shared.auth import mint_token

SERVICES = ("enrollment", "training", "assessment", "compensation")
GRADES = (
    ("technician", "junior"),
    ("technician", "intermediate"),
    ("technician", "senior"),
    ("engineer", "junior"),
    ("engineer", "intermediate"),
    ("engineer", "senior"),
)
DEFAULT_SEED = 7
DEFAULT_TRAINEES = 200
PER_BRANCH = 3  # trainees a branch works on at once
T = TypeVar("T")
JsonDict = dict[str, Any]


class DemoError(RuntimeError):
    """The demo cannot go on: a service refused a request, or a wait timed out."""


@dataclass(frozen=True)
class Who:
    """A principal of the contract, as a development token will claim it."""

    sub: str
    role: str
    branch_id: str | None = None
    department: str | None = None


MANAGER = Who("mgr-xu", "after_sales_manager")
PRODUCTION = Who("pm-gao", "production_manager")
EXEC_VP = Who("vp-song", "exec_vp")
PAYROLL = Who("pay-qian", "payroll")
MANAGEMENT = Who("gm-lin", "management")
AUDITOR = Who("aud-he", "auditor")


def clerk(branch_id: str) -> Who:
    return Who(f"clerk-{branch_id}", "branch_clerk", branch_id=branch_id)


def examiner(department: str) -> Who:
    return Who(f"ex-{department}", "examiner", department=department)


def trainer(trainer_id: str) -> Who:
    return Who(trainer_id, "trainer")


def trainee(trainee_id: str) -> Who:
    return Who(trainee_id, "trainee")


@dataclass
class Stats:
    writes: int = 0
    replayed: int = 0
    reads: int = 0


@dataclass
class DemoSummary:
    """What the demo posted, what the scenario expects, and what the services answered."""

    seed: int
    prefix: str
    anchor: date
    month: str
    scenario: dict[str, Any]
    expected_board: dict[tuple[str, str, str], list[str]]
    board_rows: list[JsonDict]
    expected_fines: list[sc.Fine]
    fines: list[JsonDict]
    expected_fees: dict[str, Decimal]
    fees: list[JsonDict]
    expected_payslips: list[str]
    payslips: list[JsonDict]
    disputes: list[JsonDict]
    stats: Stats
    seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def board(self) -> dict[tuple[str, str, str], int]:
        return {(r["branch_id"], r["position"], r["level"]): r["count"] for r in self.board_rows}


def service_urls(host: str = "127.0.0.1", port_offset: int = 0) -> dict[str, str]:
    from shared.settings import SERVICE_PORTS

    return {s: f"http://{host}:{SERVICE_PORTS[s] + port_offset}" for s in SERVICES}


class Api:
    """One HTTP client per service (a few connections each), tokens, retries and bounded waits."""

    def __init__(
        self,
        urls: Mapping[str, str],
        secret: str,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None,
        wait_seconds: float,
    ) -> None:
        limits = httpx.Limits(max_connections=6, max_keepalive_connections=6)
        self.clients = {
            s: httpx.AsyncClient(
                base_url=urls[s],
                transport=(transports or {}).get(s),
                limits=limits,
                timeout=httpx.Timeout(60.0, connect=10.0),
            )
            for s in SERVICES
        }
        self.secret = secret
        self.wait_seconds = wait_seconds
        self.stats = Stats()
        self._tokens: dict[Who, str] = {}

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    def auth(self, who: Who) -> dict[str, str]:
        token = self._tokens.get(who)
        if token is None:
            token = mint_token(
                self.secret,
                who.sub,
                [who.role],
                branch_id=who.branch_id,
                department=who.department,
                ttl_seconds=8 * 3600,
            )
            self._tokens[who] = token
        return {"Authorization": f"Bearer {token}"}

    async def write(
        self,
        service: str,
        method: str,
        path: str,
        body: JsonDict,
        who: Who,
        key: str,
        *,
        stored_not_found: bool = False,
    ) -> JsonDict:
        """POST/PUT with an Idempotency-Key, retried while the answer says "not yet".

        A 404 with Retry-After (the upstream event is on its way) is retried with the same key.
        ``stored_not_found``: this service remembers a 404 under the key; the caller waited for
        the upstream fact already, so a 404 is a race: retry under a derived key (a re-run
        replays the same sequence of answers)."""
        deadline = time.monotonic() + self.wait_seconds
        attempt, pause = 0, 0.1
        while True:
            headers = {
                **self.auth(who),
                "Idempotency-Key": key if not attempt else f"{key}~{attempt}",
            }
            try:
                answer = await self.clients[service].request(
                    method, path, json=body, headers=headers
                )
            except httpx.TransportError as exc:
                if time.monotonic() > deadline:
                    raise DemoError(f"{method} {service}{path}: {exc!r}") from exc
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            self.stats.writes += 1
            if answer.headers.get("idempotent-replayed") == "true":
                self.stats.replayed += 1
            if 200 <= answer.status_code < 300:
                result: JsonDict = answer.json()
                return result
            retry = _retryable(answer)
            if (
                answer.status_code == 404
                and stored_not_found
                and "retry-after" not in answer.headers
            ):
                attempt, retry = attempt + 1, True
            if not retry or time.monotonic() > deadline:
                hint = ""
                if answer.status_code == 422 and "Idempotency-Key" in answer.text:
                    hint = (
                        " (these ids were loaded with different data: another version of the"
                        " demo? use another --seed or GRADELINE_NAMESPACE)"
                    )
                raise DemoError(f"{method} {service}{path} as {who.sub}: {_problem(answer)}{hint}")
            await asyncio.sleep(min(pause, float(answer.headers.get("retry-after", pause))))
            pause = min(pause * 1.5, 1.0)

    async def post(
        self, service: str, path: str, body: JsonDict, who: Who, key: str, **kw: Any
    ) -> JsonDict:
        return await self.write(service, "POST", path, body, who, key, **kw)

    async def get(
        self, service: str, path: str, who: Who, params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.1
        while True:
            self.stats.reads += 1
            try:
                return await self.clients[service].get(path, headers=self.auth(who), params=params)
            except httpx.TransportError as exc:
                if time.monotonic() > deadline:
                    raise DemoError(f"GET {service}{path}: {exc!r}") from exc
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)

    async def get_json(self, service: str, path: str, who: Who, **params: str) -> JsonDict:
        answer = await self.get(service, path, who, params)
        if answer.status_code != 200:
            raise DemoError(f"GET {service}{path} as {who.sub}: {_problem(answer)}")
        result: JsonDict = answer.json()
        return result

    async def until(
        self, what: str, check: Callable[[], Awaitable[T | None]], seconds: float | None = None
    ) -> T:
        """Poll ``check`` until it answers something, at most ``seconds`` (else DemoError)."""
        limit = self.wait_seconds if seconds is None else seconds
        deadline = time.monotonic() + limit
        pause = 0.05
        while True:
            try:
                result = await check()
            except httpx.TransportError:
                result = None
            if result is not None:
                return result
            if time.monotonic() > deadline:
                raise DemoError(f"gave up after {limit:.0f} s waiting for {what}")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 0.5)


def _retryable(answer: httpx.Response) -> bool:
    if answer.status_code in (429, 502, 503, 504) or answer.status_code >= 500:
        return True
    if answer.status_code == 404 and "retry-after" in answer.headers:
        return True
    return answer.status_code == 409 and "concurrency" in answer.text


def _problem(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return f"{answer.status_code} {answer.text[:200]}"
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("title")
        errors = body.get("errors")
        return f"{answer.status_code} {detail}" + (f" {errors}" if errors else "")
    return f"{answer.status_code} {body}"


# --- the flows --------------------------------------------------------------------------------


class Demo:
    def __init__(self, api: Api, scenario: sc.Scenario, progress: Progress | None) -> None:
        self.api = api
        self.s = scenario
        self.progress = progress
        self.problems: list[str] = []
        self.disputes: list[JsonDict] = []
        self.decided_on: dict[str, date] = {}

    def key(self, *parts: object) -> str:
        return ":".join(["demo", self.s.prefix, *map(str, parts)])

    def advance(self, task: Any, description: str | None = None) -> None:
        if self.progress is not None and task is not None:
            self.progress.update(task, advance=1, description=description)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)

    # --- one branch, concurrently with the others -------------------------------------------

    async def branch(self, branch_id: str, task: Any) -> None:
        limit = asyncio.Semaphore(PER_BRANCH)

        async def one(t: sc.Trainee) -> None:
            async with limit:
                await self.trainee_round(t, task)

        async with asyncio.TaskGroup() as group:
            for t in self.s.of_branch(branch_id):
                group.create_task(one(t))

    async def trainee_round(self, t: sc.Trainee, task: Any) -> None:
        label = f"{t.branch_id:<8} {t.trainee_id:<20}"
        await self.enrol(t)
        self.advance(task, f"{label}: enrolled, placed")
        await self.plan(t)
        self.advance(task, f"{label}: plan approved")
        await self.train(t)
        self.advance(task, f"{label}: trained")
        await self.examine(t)
        self.advance(task, f"{label}: examined")
        await self.dispose(t)
        await self.dispute(t)
        self.advance(task, f"{label}: done")

    async def enrol(self, t: sc.Trainee) -> None:
        body = {
            "trainee_id": t.trainee_id,
            "name": t.name,
            "category": t.category,
            "branch_id": t.branch_id,
            "education": t.education,
            "experience_years": str(t.experience_years),
            "certificates": list(t.certificates),
            "product_series": list(t.enrolled_series),
            "enrolled_on": t.enrolled_on.isoformat(),
        }
        await self.api.post(
            "enrollment", "/trainees", body, clerk(t.branch_id), self.key("enrol", t.trainee_id)
        )
        placement: JsonDict = {"written": str(t.placement_written)}
        if t.placement_practical is not None:
            placement["practical"] = str(t.placement_practical)
        placed = await self.api.post(
            "enrollment",
            f"/trainees/{t.trainee_id}/placement",
            placement,
            examiner("hr"),
            self.key("placement", t.trainee_id),
        )
        self.check(
            placed.get("plan_level") == t.plan_level,
            f"{t.trainee_id}: placement gave plan level {placed.get('plan_level')},"
            f" expected {t.plan_level} (R-6)",
        )

    async def plan(self, t: sc.Trainee) -> None:
        stages = []
        for stage in t.stages:
            start, end = t.planned(stage.no)
            stages.append(
                {
                    "no": stage.no,
                    "content": stage.content,
                    "department": sc.TRAINERS[stage.trainer_id].department,
                    "trainer_id": stage.trainer_id,
                    "product_series": stage.product_series,
                    "topic": stage.topic,
                    "planned_start": start.isoformat(),
                    "planned_end": end.isoformat(),
                }
            )
        drafter = MANAGER if t.drafter == "after_sales_manager" else PRODUCTION
        # 404 with Retry-After until training has learnt the enrolment from the bus.
        await self.api.write(
            "training",
            "PUT",
            f"/plans/{t.trainee_id}",
            {"stages": stages},
            drafter,
            self.key("plan", t.trainee_id),
        )
        await self.api.post(
            "training",
            f"/plans/{t.trainee_id}/approve",
            {},
            EXEC_VP,
            self.key("approve", t.trainee_id),
        )

    async def train(self, t: sc.Trainee) -> None:
        plan = f"/plans/{t.trainee_id}"
        trainer_of = {s.no: s.trainer_id for s in t.stages}
        me = trainee(t.trainee_id)
        last: JsonDict = {}
        for n, step in enumerate(t.steps):  # n: a stage sent back is signed twice
            if isinstance(step, sc.TrainingDay):
                await self.day(t, step)
            elif isinstance(step, sc.SignOff):
                path = f"{plan}/stages/{step.stage}"
                await self.api.post(
                    "training",
                    f"{path}/sign-off",
                    {"assessment": step.assessment},
                    trainer(trainer_of[step.stage]),
                    self.key("sign", t.trainee_id, step.stage, n),
                )
                body: JsonDict = {"agree": step.agree}
                if step.comment:
                    body["comment"] = step.comment
                last = await self.api.post(
                    "training",
                    f"{path}/countersign",
                    body,
                    me,
                    self.key("countersign", t.trainee_id, step.stage, n),
                )
            else:
                await self.api.post(
                    "training",
                    f"{plan}/stages/{step.from_stage}/return",
                    {"to_stage": step.to_stage, "reason": step.reason},
                    trainer(trainer_of[step.from_stage]),
                    self.key("return", t.trainee_id, step.from_stage, step.to_stage, n),
                )
        self.check(
            last.get("status") == "completed",
            f"{t.trainee_id}: training ended {last.get('status')}, not completed",
        )

    async def day(self, t: sc.Trainee, day: sc.TrainingDay) -> None:
        stage = f"/plans/{t.trainee_id}/stages/{day.stage}"
        body = {
            "date": day.on.isoformat(),
            "content": day.content,
            "method": day.method,
            "hours": day.hours,
            "performance": day.performance,
            "effect": day.effect,
        }
        lead = next(s.trainer_id for s in t.stages if s.no == day.stage)
        await self.api.post(
            "training",
            f"{stage}/days",
            body,
            trainer(lead),
            self.key("day", t.trainee_id, day.stage, day.on),
        )
        confirm: JsonDict = {"agree": day.agree}
        if not day.agree:
            confirm["comment"] = sc.DISSENT[day.stage % 2]
        await self.api.post(
            "training",
            f"{stage}/days/{day.on.isoformat()}/confirm",
            confirm,
            trainee(t.trainee_id),
            self.key("confirm", t.trainee_id, day.stage, day.on),
        )

    async def known_to_assessment(self, t: sc.Trainee) -> None:
        """Assessment grades on what it learnt from enrollment and training (R-14, R-21): wait
        until its inbox holds the enrolment and the completed training."""

        async def arrived() -> bool | None:
            answer = await self.api.get("assessment", f"/trainees/{t.trainee_id}/audit", AUDITOR)
            if answer.status_code != 200:
                return None
            seen = {(e["service"], e["type"]) for e in answer.json()["events"]}
            wanted = {("enrollment", "TraineeEnrolled"), ("training", "TrainingCompleted")}
            return True if wanted <= seen else None

        await self.api.until(
            f"assessment to learn {t.trainee_id}'s enrolment and training", arrived
        )

    async def examine(self, t: sc.Trainee) -> None:
        await self.known_to_assessment(t)
        session = f"/sessions/{self.s.session_id(t.main_series)}"
        body: JsonDict = {"trainee_id": t.trainee_id, "score": str(t.written)}
        await self.api.post(
            "assessment",
            f"{session}/written",
            body,
            examiner(t.written_examiner),
            self.key("written", t.trainee_id),
            stored_not_found=True,
        )
        answer: JsonDict = {}
        for department, score in zip(sc.DEPARTMENTS, t.practical, strict=True):
            body = {"trainee_id": t.trainee_id, "department": department, "score": str(score)}
            answer = await self.api.post(
                "assessment",
                f"{session}/practical",
                body,
                examiner(department),
                self.key("practical", t.trainee_id, department),
                stored_not_found=True,
            )
        expected = self.first_grade(t)
        decision = answer.get("decision") or {}
        got = (decision.get("type"), decision.get("position"), decision.get("level"))
        want = (
            "GradeAssigned" if expected.passed else "AssessmentFailed",
            expected.position,
            expected.level,
        )
        self.check(got == want, f"{t.trainee_id}: decided {got}, expected {want}")

    def first_grade(self, t: sc.Trainee) -> sc.Grade:
        for d in self.s.disputes:
            if d.trainee_id == t.trainee_id and d.before is not None:
                return d.before
        return t.grade

    async def dispose(self, t: sc.Trainee) -> None:
        """R-18 for the failed; R-19: a dealer that insists pays for the days trained after."""
        if t.disposition is None:
            return
        reasons = {
            "continue_training": "经销商坚持继续培训 the dealer insists on further training",
            "reserve": "理论基础薄弱，转储备 weak theory: kept in reserve",
            "workshop": "实操不达标，下放车间 practical below standard: back to the workshop",
        }
        decided = await self.api.post(
            "assessment",
            f"/trainees/{t.trainee_id}/disposition",
            {
                "outcome": t.disposition,
                "reason": reasons[t.disposition],
                "session_id": self.s.session_id(t.main_series),
            },
            MANAGER,
            self.key("disposition", t.trainee_id),
        )
        if t.disposition != "continue_training":
            return
        on = date.fromisoformat(str(decided["decided_on"]))
        self.decided_on[t.trainee_id] = on
        product = [s for s in t.stages if s.product_series]
        for stage in product:  # two records on one date: R-19 charges the date once
            content = f"复训 retraining: {stage.content.split(': ')[-1]}"
            await self.day(
                t,
                sc.TrainingDay(
                    stage.no, on, True, content, sc.METHODS[0], sc.PERFORMANCE[3], sc.EFFECT[1], "8"
                ),
            )

    async def dispute(self, t: sc.Trainee) -> None:
        for d in self.s.disputes:
            if d.trainee_id != t.trainee_id:
                continue
            who = trainee(t.trainee_id) if d.by == "trainee" else clerk(t.branch_id)
            filed = await self.api.post(
                "assessment",
                f"/trainees/{t.trainee_id}/disputes",
                {"reason": d.reason},
                who,
                self.key("dispute", t.trainee_id),
            )
            body: JsonDict = {"outcome": d.outcome}
            if d.written is not None:
                body["written"] = str(d.written)
            resolved = await self.api.post(
                "assessment",
                f"/disputes/{filed['dispute_id']}/resolve",
                body,
                MANAGER,
                self.key("resolve", t.trainee_id),
            )
            grade = resolved.get("grade") or {}
            got = (grade.get("position"), grade.get("level"))
            self.check(
                got == (t.grade.position, t.grade.level),
                f"{t.trainee_id}: dispute gave {got}, expected {(t.grade.position, t.grade.level)}",
            )
            self.disputes.append(
                {
                    "trainee_id": t.trainee_id,
                    "dispute_id": filed["dispute_id"],
                    "outcome": d.outcome,
                    "before": None if d.before is None else f"{d.before.position} {d.before.level}",
                    "after": f"{t.grade.position} {t.grade.level}",
                }
            )

    # --- central: sessions, payroll -----------------------------------------------------------

    async def open_sessions(self) -> None:
        for series in self.s.sessions:
            body = {
                "session_id": self.s.session_id(series),
                "product_series": series,
                "held_on": self.s.anchor.isoformat(),
            }
            await self.api.post(
                "assessment", "/sessions", body, MANAGER, self.key("session", series)
            )

    async def close_sessions(self) -> date:
        closed_on = []
        fines = {(f.trainer_id, f.session_id): f.amount for f in self.s.expected_fines()}
        for series in self.s.sessions:
            sid = self.s.session_id(series)
            closed = await self.api.post(
                "assessment", f"/sessions/{sid}/close", {}, MANAGER, self.key("close", series)
            )
            closed_on.append(date.fromisoformat(str(closed["closed_on"])))
            for p in closed["penalties"]:
                want = fines.get((p["trainer_id"], sid), Decimal(0))
                self.check(
                    Decimal(p["fine"]) == want,
                    f"{sid}: {p['trainer_id']} fined {p['fine']}, expected {want} (R-24)",
                )
        series, lead = self.s.fined_group
        failed = [
            t.trainee_id
            for t in self.s.failed
            if t.main_series == series and t.main_trainer == lead
        ]
        body: JsonDict = {"reason": "培训流于形式、应付了事 perfunctory training, verified (R-13)"}
        if failed:
            body["trainee_id"] = failed[0]
        await self.api.post(
            "training",
            f"/trainers/{lead}/demerits",
            body,
            MANAGER,
            self.key("demerit", lead, series),
        )
        return max(closed_on)

    def expected_rate(self, t: sc.Trainee) -> tuple[str, str | None]:
        if t.grade.position is None:
            return "reserve", None  # failed and disposed of, or passed without eligibility
        return t.grade.position, t.grade.level

    async def pay_month(self, month: str) -> tuple[list[JsonDict], list[JsonDict], list[JsonDict]]:
        paid = self.s.paid()
        limit = asyncio.Semaphore(6)

        async def rate_of(t: sc.Trainee) -> None:
            async with limit:
                await self.rate_arrived(t)
                if t.grade.position is None:
                    return
                inputs = [("travel", {"month": month, "days": int(t.pay_inputs["travel"])})]
                if t.category == "hq_full_time":
                    inputs.append(
                        ("performance", {"month": month, "rating": t.pay_inputs["rating"]})
                    )
                else:
                    inputs.append(
                        ("piece-rate", {"month": month, "amount": t.pay_inputs["piece_rate"]})
                    )
                for kind, body in inputs:
                    await self.api.post(
                        "compensation",
                        f"/employees/{t.trainee_id}/{kind}",
                        body,
                        PAYROLL,
                        self.key(kind, t.trainee_id, month),
                        stored_not_found=True,
                    )

        async with asyncio.TaskGroup() as group:
            for t in paid:
                group.create_task(rate_of(t))
        return await self.run_payroll(month)

    async def rate_arrived(self, t: sc.Trainee) -> None:
        want = self.expected_rate(t)

        async def arrived() -> bool | None:
            answer = await self.api.get(
                "compensation", f"/employees/{t.trainee_id}/pay-rate", PAYROLL
            )
            if answer.status_code != 200:
                return None
            rate = answer.json()
            return True if (rate["position"], rate.get("level")) == want else None

        await self.api.until(f"compensation to set {t.trainee_id}'s pay rate {want}", arrived)

    async def run_payroll(
        self, month: str
    ) -> tuple[list[JsonDict], list[JsonDict], list[JsonDict]]:
        """Run the month until what it owes is in: fees and fines come from events compensation
        consumes on its own time, and a later run charges what an earlier one could not yet."""
        fees_due = {
            tid: amount
            for tid, amount in self.s.expected_fees().items()
            if self.decided_on.get(tid, date.min).strftime("%Y-%m") == month
        }
        fines_due = {(f.trainer_id, f.session_id): f.amount for f in self.s.expected_fines()}
        paid = set(self.s.payslips())
        deadline = time.monotonic() + self.api.wait_seconds
        attempt = 0
        while True:
            attempt += 1
            await self.api.post(
                "compensation", f"/payroll/{month}/run", {}, PAYROLL,
                self.key("payroll", month, attempt),
            )  # fmt: skip
            payroll = await self.api.get_json("compensation", f"/payroll/{month}", PAYROLL)
            fees = await self.api.get_json("compensation", f"/branch-fees/{month}", PAYROLL)
            fines = await self.api.get_json("compensation", f"/trainer-fines/{month}", PAYROLL)
            charged = {r["trainee_id"]: Decimal(r["amount"]) for r in fees["rows"]}
            issued = {
                (r["trainer_id"], r["session_id"]): Decimal(r["amount"]) for r in fines["rows"]
            }
            slips = {p["employee_id"] for p in payroll["payslips"]}
            missing = [f"fee of {k}" for k, v in fees_due.items() if charged.get(k) != v]
            missing += [
                f"fine of {k[0]} in {k[1]}" for k, v in fines_due.items() if issued.get(k) != v
            ]
            missing += [f"payslip of {e}" for e in sorted(paid - slips)]
            if not missing:
                return payroll["payslips"], fees["rows"], fines["rows"]
            if time.monotonic() > deadline:
                raise DemoError(f"the {month} payroll still lacks: {', '.join(missing)}")
            await asyncio.sleep(1.0)  # the inputs are on their way to compensation: run again

    async def board(self) -> list[JsonDict]:
        want = {k: len(v) for k, v in self.s.expected_board().items()}
        rows: list[JsonDict] = []

        async def settled() -> list[JsonDict] | None:
            nonlocal rows
            rows = (await self.api.get_json("assessment", "/board/grades", MANAGEMENT))["rows"]
            got = {(r["branch_id"], r["position"], r["level"]): r["count"] for r in rows}
            return rows if got == want else None

        try:
            return await self.api.until("the grade board to show every grade", settled, 30)
        except DemoError as exc:
            self.problems.append(str(exc))
            return rows


# --- entry points -----------------------------------------------------------------------------


async def wait_ready(api: Api, seconds: float = 90.0) -> None:
    """Each service's /ready (database, broker, consumers declared) answers 200."""

    async def all_ready() -> bool | None:
        answers = await asyncio.gather(
            *(api.clients[s].get("/ready") for s in SERVICES), return_exceptions=True
        )
        down = [
            s
            for s, a in zip(SERVICES, answers, strict=True)
            if isinstance(a, BaseException) or a.status_code != 200
        ]
        return True if not down else None

    try:
        await api.until("every service to be ready", all_ready, seconds)
    except DemoError:
        states = []
        for s in SERVICES:
            try:
                states.append(f"{s}: {(await api.clients[s].get('/ready')).status_code}")
            except httpx.TransportError as exc:
                states.append(f"{s}: {exc!r}")
        raise DemoError("services not ready: " + ", ".join(states)) from None


async def find_anchor(api: Api, probe: sc.Scenario) -> date:
    """The exam day of an earlier run of this scenario (a re-run repeats it exactly), else
    today (UTC, the services' clock)."""
    sid = probe.session_id(probe.sessions[0])
    answer = await api.get("assessment", f"/sessions/{sid}", MANAGER)
    if answer.status_code == 200:
        return date.fromisoformat(str(answer.json()["held_on"]))
    return datetime.now(UTC).date()


async def load_demo(
    urls: Mapping[str, str],
    *,
    secret: str,
    seed: int = DEFAULT_SEED,
    trainees: int = DEFAULT_TRAINEES,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    console: Console | None = None,
    show_progress: bool = True,
    wait_seconds: float = 120.0,
    ready_seconds: float = 90.0,
) -> DemoSummary:
    """Post the scenario of ``seed`` to the services at ``urls`` (service -> base URL);
    ``transports`` (service -> httpx transport) lets tests call in-process apps. Each wait for
    another service is bounded by ``wait_seconds``; the services must be ready within
    ``ready_seconds``."""
    if trainees < 5:
        raise DemoError(f"the demo needs at least 5 trainees (one per branch), not {trainees}")
    started = time.monotonic()
    api = Api(urls, secret, transports, wait_seconds)
    console = console or Console()
    try:
        await wait_ready(api, ready_seconds)
        probe = sc.build(seed, trainees, datetime.now(UTC).date())
        anchor = await find_anchor(api, probe)
        scenario = probe if anchor == probe.anchor else sc.build(seed, trainees, anchor)
        progress = _progress(console) if show_progress else None
        demo = Demo(api, scenario, progress)
        with progress or _Nothing():
            central = progress.add_task("exam sessions", total=3) if progress else None
            await demo.open_sessions()
            demo.advance(central, "exam sessions opened; branches at work")
            tasks = {
                b: progress.add_task(b, total=5 * len(scenario.of_branch(b))) if progress else None
                for b in sc.BRANCHES
            }
            async with asyncio.TaskGroup() as group:  # the five branches post concurrently
                for branch_id in sc.BRANCHES:
                    group.create_task(demo.branch(branch_id, tasks[branch_id]))
            closed_on = await demo.close_sessions()
            month = closed_on.strftime("%Y-%m")
            demo.advance(central, f"sessions closed; payroll {month}")
            payslips, fees, fines = await demo.pay_month(month)
            demo.advance(central, f"payroll {month} run")
            rows = await demo.board()
        expected_fees = {k: v for k, v in scenario.expected_fees().items() if k in demo.decided_on}
        return DemoSummary(
            seed=seed,
            prefix=scenario.prefix,
            anchor=scenario.anchor,
            month=month,
            scenario=sc.describe(scenario),
            expected_board=scenario.expected_board(),
            board_rows=rows,
            expected_fines=scenario.expected_fines(),
            fines=fines,
            expected_fees=expected_fees,
            fees=fees,
            expected_payslips=scenario.payslips(),
            payslips=payslips,
            disputes=demo.disputes,
            stats=api.stats,
            seconds=time.monotonic() - started,
            problems=demo.problems,
        )
    except ExceptionGroup as group:
        raise _first(group) from None
    finally:
        await api.close()


def _first(error: BaseException) -> BaseException:
    """The first failure inside (nested) task groups: the error to report."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


# --- the summary --------------------------------------------------------------------------------


def board_table(rows: Sequence[JsonDict], title: str = "grade board 定职定级") -> Table:
    """Counts by branch x position x level (GET /board/grades), narrow enough for 80 columns."""
    counts = {(r["branch_id"], r["position"], r["level"]): r["count"] for r in rows}
    legend = "tech 技工, eng 工程师; jr 初级, int 中级, sr 高级"
    table = Table(title=title, box=box.SIMPLE_HEAD, caption=legend)
    table.add_column("branch", no_wrap=True)
    for position, level in GRADES:
        short = {"technician": "tech", "engineer": "eng"}[position]
        abbreviation = {"junior": "jr", "intermediate": "int", "senior": "sr"}[level]
        table.add_column(f"{short} {abbreviation}", justify="right", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)
    branches = [b for b in sc.BRANCHES if any(k[0] == b for k in counts)]
    branches += sorted({k[0] for k in counts} - set(branches))
    for branch in branches:
        cells = [counts.get((branch, p, lv), 0) for p, lv in GRADES]
        table.add_row(branch, *map(str, cells), str(sum(cells)))
    totals = [sum(counts.get((b, p, lv), 0) for b in branches) for p, lv in GRADES]
    table.add_row("all", *map(str, totals), str(sum(totals)), style="bold")
    return table


def _percent(rate: str) -> str:
    return f"{Decimal(rate) * 100:.1f} %"


def print_summary(summary: DemoSummary, console: Console) -> None:
    s = summary.scenario
    branches = ", ".join(f"{b} {n}" for b, n in s["by_branch"].items())
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(s["dispositions"].items()))
    console.print(
        f"demo {summary.prefix} (seed {summary.seed}, exams held {summary.anchor}):"
        f" {s['trainees']} trainees: {branches}\n"
        f"  training: {s['trainers']} trainers, {s['training_days']} daily records"
        f" ({s['dissenting_days']} dissenting), {s['disputed_sign_offs']} disputed sign-offs,"
        f" {s['send_backs']} send-backs\n"
        f"  exams: {s['sessions']} sessions, {s['failed']} failed ({outcomes})"
    )
    console.print(board_table(summary.board_rows))
    for d in summary.disputes:
        change = f"{d['before']} -> {d['after']}" if d["before"] else f"{d['after']} stands"
        console.print(f"dispute {d['dispute_id']} on {d['trainee_id']}: {d['outcome']} ({change})")
    for fine in summary.fines:
        console.print(
            f"trainer fine {summary.month} (R-24): {fine['trainer_id']} in {fine['session_id']},"
            f" {_percent(fine['failure_rate'])} failed -> {fine['amount']} yuan"
        )
    per_branch: dict[str, list[Decimal]] = {}
    for fee in summary.fees:
        per_branch.setdefault(fee["branch_id"], []).append(Decimal(fee["amount"]))
    for branch, amounts in sorted(per_branch.items()):
        console.print(
            f"branch fee {summary.month} (R-19): {branch}, {len(amounts)} trainee(s) kept"
            f" training -> {sum(amounts, Decimal(0)):.2f} yuan"
        )
    total = sum((Decimal(p["total"]) for p in summary.payslips), Decimal(0))
    console.print(f"payroll {summary.month}: {len(summary.payslips)} payslips, {total:.2f} yuan")
    st = summary.stats
    console.print(
        f"{st.writes} writes ({st.replayed} replayed: nothing new), {st.reads} reads"
        if st.writes and st.writes == st.replayed
        else f"{st.writes} writes ({st.replayed} replayed), {st.reads} reads",
        f"in {summary.seconds:.1f} s",
    )
    for problem in summary.problems:
        console.print(f"[red]problem: {problem}")
