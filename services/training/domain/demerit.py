"""A trainer's demerits 记过 (stream ``trainer-<trainer_id>``): R-13, pure."""

from __future__ import annotations

from dataclasses import dataclass, replace

from shared.decider import Decider, required_text
from shared.events import Event

from .commands import RecordDemerit
from .events import TrainerDemeritRecorded


@dataclass(frozen=True)
class TrainerRecord:
    trainer_id: str | None = None
    demerits: tuple[TrainerDemeritRecorded, ...] = ()


def stream_id(trainer_id: str) -> str:
    return f"trainer-{trainer_id}"


def initial() -> TrainerRecord:
    return TrainerRecord()


def evolve(state: TrainerRecord, event: Event) -> TrainerRecord:
    if isinstance(event, TrainerDemeritRecorded):
        return replace(state, trainer_id=event.trainer_id, demerits=(*state.demerits, event))
    return state


def decide(command: RecordDemerit, state: TrainerRecord) -> list[Event]:
    """R-13: a demerit is recorded once the perfunctory work is verified, with the reason."""
    trainer_id = required_text("trainer_id", command.trainer_id, "R-13")
    reason = required_text("reason", command.reason, "R-13", "a demerit needs the verified reason")
    return [
        TrainerDemeritRecorded(
            trainer_id=trainer_id,
            reason=reason,
            trainee_id=(command.trainee_id or "").strip() or None,
            recorded_by=command.actor_id,
            recorded_on=command.today,
        )
    ]


DEMERITS = Decider(initial, evolve, decide)
