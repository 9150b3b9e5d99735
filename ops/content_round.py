"""R-24 as now written, in the demo: a session held for one training content.

After the series sessions are closed and the failed disposed of, the after-sales manager holds a
session on the after-sales appraisal rules (``scenario.CONTENT``, an R-8a topic); the re-sitters
(``Scenario.resitters``) sit it with the scores they failed with and fail again. Closing it holds
the trainer of the stages teaching that topic responsible (every one failed: 200 yuan), and the
trainer board then lists, beside each fined trainer, the failed it keeps training until they pass
(``Scenario.expected_retraining``: no one passes a later sitting in the demo).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ops import scenario as sc
from ops.client import DemoError, JsonDict
from ops.rounds import MANAGEMENT, MANAGER, TraineeRounds, examiner


class ContentRound(TraineeRounds):
    """The content session's steps, beside the trainees' rounds."""

    async def content_session(self) -> date:
        """Open, sit and close the content session; the day it closed (R-33: the fine's month)."""
        sid = self.s.content_session_id
        body = {"session_id": sid, "content": sc.CONTENT, "held_on": self.s.anchor.isoformat()}
        await self.api.post("assessment", "/sessions", body, MANAGER, self.key("session", sid))
        for t in self.s.resitters:
            await self.resit(sid, t)
        closed = await self.api.post(
            "assessment", f"/sessions/{sid}/close", {}, MANAGER, self.key("close", sid)
        )
        fines = {f.trainer_id: f.amount for f in self.s.content_fines()}
        got = {p["trainer_id"]: Decimal(p["fine"]) for p in closed["penalties"]}
        self.check(got == fines, f"{sid}: fined {got}, expected {fines} (R-24)")
        self.check(
            all(p["content"] == sc.CONTENT for p in closed["penalties"]),
            f"{sid}: the penalties do not name the content {sc.CONTENT} (R-24)",
        )
        return date.fromisoformat(str(closed["closed_on"]))

    async def resit(self, sid: str, t: sc.Trainee) -> None:
        """The six scores the trainee failed with, again: failed again (R-15 to R-18)."""
        path = f"/sessions/{sid}"
        body: JsonDict = {"trainee_id": t.trainee_id, "score": str(t.written)}
        who = examiner(t.written_examiner)
        key = self.key("resit", sid, t.trainee_id)
        answer = await self.api.post("assessment", f"{path}/written", body, who, key + ":written")
        for department, score in zip(sc.DEPARTMENTS, t.practical, strict=True):
            body = {"trainee_id": t.trainee_id, "department": department, "score": str(score)}
            answer = await self.api.post(
                "assessment", f"{path}/practical", body, examiner(department), f"{key}:{department}"
            )
        decided = (answer.get("decision") or {}).get("type")
        self.check(decided == "AssessmentFailed", f"{t.trainee_id} in {sid}: decided {decided}")

    async def retraining(self) -> dict[tuple[str, str], list[str]]:
        """The trainer board's lists of the failed each fined trainer keeps training, once they
        show what the scenario expects (a problem noted otherwise)."""
        want = self.s.expected_retraining()
        shown: dict[tuple[str, str], list[str]] = {}

        async def settled() -> dict[tuple[str, str], list[str]] | None:
            nonlocal shown
            rows = (await self.api.get_json("assessment", "/board/trainers", MANAGEMENT))["rows"]
            shown = {
                (r["trainer_id"], r["session_id"]): r["retraining"]
                for r in rows
                if r["session_id"].startswith(self.s.prefix + "-") and r["retraining"]
            }
            return shown if shown == want else None

        try:
            return await self.api.until("the trainer board to list whom to retrain", settled, 30)
        except DemoError as exc:  # noted: the summary shows the difference
            self.problems.append(f"{exc}: shown {shown}, expected {want}")
            return shown
