"""The decider pattern: what every aggregate is, and how a decider refuses a command. Pure.

An aggregate is ``initial() -> state``, ``evolve(state, event) -> state`` and
``decide(command, state) -> events``, all pure: time and ids come in the command. Deciders refuse a
command by raising :class:`RuleViolation` (a business rule, HTTP 409 naming the rule) or
:class:`InvalidCommand` (a bad value, HTTP 422 naming the field), or :class:`Conflict`,
:class:`Forbidden`, :class:`NotFound`. Domain modules import this module and nothing that does
I/O: loading, deciding and appending is :mod:`shared.execution`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from shared.events import Event

S = TypeVar("S")
C = TypeVar("C")


class RuleViolation(Exception):
    """A command refused by a domain rule (``rule`` is its id in docs/rules.md, e.g. R-9)."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail


class InvalidCommand(Exception):
    """A command carrying a value the domain does not accept; ``field`` names it."""

    def __init__(self, field: str, detail: str, rule: str | None = None) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail
        self.rule = rule


def required_text(field: str, value: str, rule: str, detail: str = "must not be empty") -> str:
    """``value`` without surrounding blanks; refused under ``rule`` when nothing is left."""
    cleaned = value.strip()
    if not cleaned:
        raise InvalidCommand(field, detail, rule)
    return cleaned


class Conflict(Exception):
    """The command does not fit the aggregate's state, without a numbered rule (HTTP 409)."""


class Forbidden(Exception):
    """The actor may not do this to this aggregate, e.g. sign another trainer's stage (HTTP 403)."""


class NotFound(Exception):
    """The command or query names something that does not exist (HTTP 404)."""


@dataclass(frozen=True)
class Decider(Generic[C, S]):
    initial: Callable[[], S]
    evolve: Callable[[S, Event], S]
    decide: Callable[[C, S], Sequence[Event]]

    def fold(self, events: Sequence[Event], state: S | None = None) -> S:
        current = self.initial() if state is None else state
        for event in events:
            current = self.evolve(current, event)
        return current
