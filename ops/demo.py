"""The demo loader: five branches post a realistic training round to the running services.

The organisation's administrator registers the branches, trainers and examiners first (a branch
or member of staff already there is left as it is: a re-run, another seed). Then HQ, two branch
offices and two dealers each run as their own asyncio task and post concurrently, over HTTP
only, with development tokens of the roles the contract names: each branch takes its trainees
through their rounds (:mod:`ops.rounds`: enrolment, placement, plan, training, exams,
dispositions, disputes); around them, the exam sessions open and close (a trainer is fined),
the failed sit a session on one training content and its trainer is fined too (R-24),
payroll records the month's inputs and runs the month.

Every POST and PUT carries an ``Idempotency-Key`` made of the scenario's deterministic ids, so
running the demo again against the same databases replays the first answers and appends nothing.
Cross-service propagation is awaited by polling, each wait bounded and named when it times out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
from rich.console import Console

from ops import organisation
from ops import scenario as sc
from ops.client import Api, DemoError, JsonDict, http_clients, wait_ready
from ops.content_round import ContentRound
from ops.report import DemoSummary, board_counts, progress_bars
from ops.rounds import MANAGEMENT, MANAGER, PAYROLL

DEFAULT_SEED = 7
DEFAULT_TRAINEES = 200


class Demo(ContentRound):
    """The whole story: the central steps around the branches' rounds."""

    async def register_organisation(self) -> None:
        """The five branches, the trainers and the examiners, registered by the organisation's
        administrator before anyone is enrolled (R-2); those already there are left as they are."""
        await organisation.register_organisation(
            self.api, organisation.STANDARD_BRANCHES, organisation.demo_staff()
        )

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
                "compensation",
                f"/payroll/{month}/run",
                {},
                PAYROLL,
                self.key("payroll", month, attempt),
            )
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
            return rows if board_counts(rows) == want else None

        try:
            return await self.api.until("the grade board to show every grade", settled, 30)
        except DemoError as exc:
            self.problems.append(str(exc))
            return rows


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
    api = Api(http_clients(urls, transports), secret, wait_seconds)
    console = console or Console()
    try:
        await wait_ready(api, ready_seconds)
        probe = sc.build(seed, trainees, datetime.now(UTC).date())
        anchor = await find_anchor(api, probe)
        scenario = probe if anchor == probe.anchor else sc.build(seed, trainees, anchor)
        progress = progress_bars(console) if show_progress else None
        demo = Demo(api, scenario, progress)
        with progress or nullcontext():
            central = progress.add_task("exam sessions", total=3) if progress else None
            await demo.register_organisation()
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
            closed_on = max(closed_on, await demo.content_session())  # R-24 for a content
            month = closed_on.strftime("%Y-%m")
            demo.advance(central, f"sessions closed; payroll {month}")
            payslips, fees, fines = await demo.pay_month(month)
            demo.advance(central, f"payroll {month} run")
            rows = await demo.board()
            retraining = await demo.retraining()  # whom each fined trainer keeps training
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
            retraining=retraining,
        )
    except ExceptionGroup as group:
        raise first_failure(group) from None
    finally:
        await api.close()


def first_failure(error: BaseException) -> BaseException:
    """The first failure inside (nested) task groups: the error to report."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error
