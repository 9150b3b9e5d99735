"""Helpers for the assessment integration tests: upstream facts through the consumer handler,
tokens of each role, and the scoring requests of a whole sitting."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import aio_pika

from services.assessment.consumers import handle
from shared.auth import Role
from shared.consumer import Topology, handle_once
from shared.events import Actor, Envelope
from tests.support import delivered

DEPARTMENTS = ("technical", "process_engineering", "quality", "after_sales", "production")
EXAMPLE_A = ("96", "95", "97", "98", "94")  # mean 96
UPSTREAM_USER = Actor("upstream-user", "after_sales_manager")


async def delete_topology(settings, services) -> None:
    """Remove the test's queues and exchanges, by name, on a connection of its own (a shared
    broker may have closed the test's connections meanwhile)."""
    for attempt in range(5):
        try:
            connection = await aio_pika.connect(settings.amqp_url)
        except (OSError, aio_pika.exceptions.AMQPConnectionError):
            await asyncio.sleep(0.5 * (attempt + 1))
            continue
        async with connection:
            channel = await connection.channel()
            for service in services:
                topology = Topology(settings.namespace, service, settings.consumer_partitions)
                for index in range(topology.partitions):
                    await channel.queue_delete(topology.partition_queue(index))
                await channel.queue_delete(topology.dead_letter_queue)
                await channel.exchange_delete(topology.partition_exchange)
                await channel.exchange_delete(topology.dead_letter_exchange)
            await channel.exchange_delete(settings.exchange_name())
        return


class Assessment:
    """The running assessment app plus what its tests keep doing."""

    def __init__(self, service) -> None:
        self.service = service
        self.client = service.client
        self.pool = service.pool
        self.versions: Counter[str] = Counter()
        self.positions = 0

    # --- tokens -------------------------------------------------------------------------------

    def manager(self):
        return self.service.as_("mgr", Role.AFTER_SALES_MANAGER)

    def examiner(self, department="hr"):
        return self.service.as_(f"ex-{department}", Role.EXAMINER, department=department)

    def trainee(self, trainee_id):
        return self.service.as_(trainee_id, Role.TRAINEE)

    def clerk(self, branch="dl-north"):
        return self.service.as_(f"clerk-{branch}", Role.BRANCH_CLERK, branch_id=branch)

    def management(self):
        return self.service.as_("boss", Role.MANAGEMENT)

    def auditor(self):
        return self.service.as_("aud", Role.AUDITOR)

    # --- upstream events, as the consumer would receive them ----------------------------------

    async def upstream(self, service, stream, type_, data, branch_id=None) -> Envelope:
        self.versions[stream] += 1
        self.positions += 1
        envelope = delivered(
            service,
            type_,
            stream,
            data,
            self.versions[stream],
            position=self.positions,
            at=datetime.now(UTC),
            branch_id=branch_id,
            actor=UPSTREAM_USER,
        )
        assert await handle_once(self.pool, handle, envelope)
        return envelope

    async def enrol(
        self,
        trainee_id,
        branch="dl-north",
        education="high_school",
        experience="4",
        series=("X1", "X2", "X3"),
        certificates=(),
    ):
        data = {
            "trainee_id": trainee_id,
            "name": f"name of {trainee_id}",
            "category": "branch_commissioned",
            "branch_id": branch,
            "education": education,
            "experience_years": experience,
            "certificates": list(certificates),
            "product_series": list(series),
            "enrolled_on": "2026-03-01",
        }
        await self.upstream("enrollment", f"trainee-{trainee_id}", "TraineeEnrolled", data, branch)

    async def plan(self, trainee_id, stages, revision=1, approve=True):
        """``stages``: (no, product series or None, trainer id); the revision drafted and, as
        training requires before any stage is signed (R-9), approved unless ``approve`` is
        False."""
        specs = [
            {
                "no": no,
                "content": f"stage {no}",
                "department": "technical",
                "trainer_id": trainer,
                "product_series": series,
                "topic": "product",
                "planned_start": "2026-03-02",
                "planned_end": "2026-03-06",
            }
            for no, series, trainer in stages
        ]
        stream = f"plan-{trainee_id}"
        data = {
            "trainee_id": trainee_id,
            "revision": revision,
            "stages": specs,
            "drafted_by": "mgr",
        }
        await self.upstream("training", stream, "PlanDrafted", data)
        if approve:
            approved = {"trainee_id": trainee_id, "revision": revision, "approved_by": "vp"}
            await self.upstream("training", stream, "PlanApproved", approved)

    async def sign(self, trainee_id, no, trainer, series=None):
        data = {
            "trainee_id": trainee_id,
            "stage_no": no,
            "trainer_id": trainer,
            "product_series": series,
            "assessment": "good",
            "disputed": False,
            "comment": None,
        }
        await self.upstream("training", f"plan-{trainee_id}", "StageSignedOff", data)

    async def send_back(self, trainee_id, from_stage, to_stage):
        data = {
            "trainee_id": trainee_id,
            "from_stage": from_stage,
            "to_stage": to_stage,
            "reason": "goal not reached",
            "returned_by": "tr-late",
        }
        await self.upstream("training", f"plan-{trainee_id}", "StageReturned", data)

    # --- assessment requests ------------------------------------------------------------------

    async def open_session(self, session_id="s-1", series="X1", headers=None):
        body = {"session_id": session_id, "product_series": series, "held_on": "2026-03-20"}
        return await self.client.post("/sessions", json=body, headers=headers or self.manager())

    async def written(self, session_id, trainee_id, score, headers=None):
        return await self.client.post(
            f"/sessions/{session_id}/written",
            json={"trainee_id": trainee_id, "score": score},
            headers=headers or self.examiner("hr"),
        )

    async def practical(self, session_id, trainee_id, department, score, headers=None):
        return await self.client.post(
            f"/sessions/{session_id}/practical",
            json={"trainee_id": trainee_id, "department": department, "score": score},
            headers=headers or self.examiner(department),
        )

    async def sit(self, session_id, trainee_id, written="95", practical=EXAMPLE_A):
        """All six scores of one trainee; the last answer (which carries the decision)."""
        answer = await self.written(session_id, trainee_id, written)
        assert answer.status_code == 201, answer.text
        for department, score in zip(DEPARTMENTS, practical, strict=True):
            answer = await self.practical(session_id, trainee_id, department, score)
            assert answer.status_code == 201, answer.text
        return answer

    async def grade(self, trainee_id, headers=None):
        return await self.client.get(
            f"/trainees/{trainee_id}/grade", headers=headers or self.management()
        )

    async def eventually(self, path, headers, predicate, timeout=10.0):
        """GET ``path`` until ``predicate(json)`` holds (projections run in the background)."""
        async with asyncio.timeout(timeout):
            while True:
                answer = await self.client.get(path, headers=headers)
                assert answer.status_code == 200, answer.text
                if predicate(answer.json()):
                    return answer.json()
                await asyncio.sleep(0.05)
