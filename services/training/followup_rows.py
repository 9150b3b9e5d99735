"""The plan table's rows of follow-ups (``GET /plans/{trainee_id}``): each stage's send-backs and
how they ended (R-12, R-12a), and the concerns about the trainee with their handling (R-12b)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class SendBackRow(BaseModel):
    """A send-back of the stage (R-12) and how it ended (R-12a)."""

    from_stage: int = Field(description="the later stage that sent the trainee back")
    reason: str
    returned_by: str
    status: str = Field(
        description="open (awaiting an explanation), explained (awaiting acceptance), accepted "
        "(R-12a: the stage counts as signed again) or signed_off (a new sign-off ended it)"
    )
    explanation: str | None
    explained_by: str | None
    explained_on: dt.date | None
    accepted_by: str | None
    acceptance_comment: str | None
    closed_on: dt.date | None


class ConcernRow(BaseModel):
    """A concern about the trainee (R-12b) and, once recorded, its handling."""

    concern_id: str
    stage_no: int
    text: str
    noted_by: str
    noted_on: dt.date
    handled: bool
    verified: bool | None
    handling: str | None
    handled_by: str | None
    handled_on: dt.date | None
