"""Request bodies and answers of the plan's follow-ups (docs/http.md, "training"): a send-back's
explanation and its acceptance (R-12a), concerns about a trainee who cannot keep up and their
handling (R-12b). Bodies refuse unknown fields and blank texts (422 naming the field)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from .followup_rows import ConcernRow
from .schemas import ID_PATTERN, Body, Note, StageNo, Text

ConcernIdPath = Annotated[str, Path(pattern=ID_PATTERN)]


class ExplanationBody(Body):
    explanation: Text  # why the returned stage's goal was in fact reached (R-12a)


class AcceptBody(Body):
    comment: Note | None = None


class ConcernBody(Body):
    stage_no: StageNo  # one of the noting trainer's own stages
    text: Text  # what the trainee cannot keep up with (R-12b)


class HandlingBody(Body):
    verified: bool  # the manager found the concern founded
    handling: Text  # how it will be handled


class ConcernNoted(BaseModel):
    trainee_id: str
    concern_id: str = Field(description="the concern's id: name it to record its handling")
    version: int = Field(description="the plan's version (its ETag) after the note")


class QueuedConcern(ConcernRow):
    """A concern as the after-sales manager's work queue lists it."""

    trainee_id: str
    trainee_name: str = Field(description="the trainee's name; its id until its enrolment")
    branch_id: str | None
    category: str | None = Field(description="branch_commissioned: the branch is told (R-12b)")


class ConcernList(BaseModel):
    items: list[QueuedConcern]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")
