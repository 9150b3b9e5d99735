"""What each upstream event tells a branch about one of its trainees (R-2, R-12b). Pure.

Every result and suggestion about a branch's trainees reaches the branch: grades (corrections
included, R-23), failures (R-18), dispositions (R-18), a trainer's note that a trainee cannot keep
up and how the after-sales manager handles it (R-12b). Each such event makes one entry of the
branch's feed; any other event makes none.

Upstream payloads are read tolerantly: only the fields shown are taken (``data.get``), an absent
one reads as None, so a producer adding fields, or one field missing, never stops the feed.

The texts people wrote about the trainee (a disposition's reason, a concern and its handling) are
personal (docs/privacy.md): once the trainee is erased they read as :data:`ERASED`
(:func:`erased_details`), whatever the event they came from held.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from shared.personal import ERASED

Data = Mapping[str, Any]
Details = dict[str, Any]
# The details that are texts about the trainee, erased with it; the rest are numbers and ids.
PERSONAL_DETAILS = ("reason", "text", "handling")


class FeedKind(StrEnum):
    GRADE = "grade"  # GradeAssigned (R-20/R-21; a correction when it supersedes one, R-23)
    FAILURE = "failure"  # AssessmentFailed
    DISPOSITION = "disposition"  # DispositionDecided
    CONCERN = "concern"  # TraineeConcernNoted (R-12b)
    CONCERN_HANDLED = "concern_handled"  # ConcernHandled (R-12b)


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a branch's feed: about ``trainee_id``, made ``on`` (the day the event names),
    with the texts and numbers people read (``details``: JSON values, exact decimals as text)."""

    kind: FeedKind
    trainee_id: str
    on: date | None
    details: Details


def _text(value: Any) -> str | None:
    """A number or a text as text (scores stay exact decimals); None stays None."""
    return None if value is None else str(value)


def _day(value: Any) -> date | None:
    """The day of a date or a timestamp in ISO form; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _grade(d: Data) -> tuple[date | None, Details]:
    return _day(d.get("assigned_at")), {
        "position": d.get("position"),
        "level": d.get("level"),
        "grade_score": _text(d.get("grade_score")),
        "written": _text(d.get("written")),
        "practical_mean": _text(d.get("practical_mean")),
        "capped_by": _list(d.get("capped_by")),
        "corrects": _text(d.get("supersedes")),
    }


def _failure(d: Data) -> tuple[date | None, Details]:
    return _day(d.get("assessed_at")), {
        "failed_exams": _list(d.get("failed_exams")),
        "written": _text(d.get("written")),
        "practical_mean": _text(d.get("practical_mean")),
        "corrects": _text(d.get("supersedes")),
    }


def _disposition(d: Data) -> tuple[date | None, Details]:
    return _day(d.get("decided_on")), {
        "outcome": d.get("outcome"),
        "reason": d.get("reason"),
        "by": d.get("decided_by"),
    }


def _concern(d: Data) -> tuple[date | None, Details]:
    return _day(d.get("noted_on")), {
        "concern_id": _text(d.get("concern_id")),
        "stage_no": d.get("stage_no"),
        "text": d.get("text"),
        "by": d.get("noted_by"),
    }


def _handled(d: Data) -> tuple[date | None, Details]:
    verified = d.get("verified")
    return _day(d.get("handled_on")), {
        "concern_id": _text(d.get("concern_id")),
        "verified": verified if isinstance(verified, bool) else None,
        "handling": d.get("handling"),
        "by": d.get("handled_by"),
    }


_READERS: dict[tuple[str, str], tuple[FeedKind, Callable[[Data], tuple[date | None, Details]]]] = {
    ("assessment", "GradeAssigned"): (FeedKind.GRADE, _grade),
    ("assessment", "AssessmentFailed"): (FeedKind.FAILURE, _failure),
    ("assessment", "DispositionDecided"): (FeedKind.DISPOSITION, _disposition),
    ("training", "TraineeConcernNoted"): (FeedKind.CONCERN, _concern),
    ("training", "ConcernHandled"): (FeedKind.CONCERN_HANDLED, _handled),
}
FEED_TYPES = frozenset(event_type for _, event_type in _READERS)


def feed_entry(service: str, event_type: str, data: Data) -> FeedEntry | None:
    """The entry an upstream event makes in its trainee's branch feed; None for any other event,
    or one that names no trainee."""
    reader = _READERS.get((service, event_type))
    trainee_id = data.get("trainee_id")
    if reader is None or not isinstance(trainee_id, str) or not trainee_id:
        return None
    kind, read = reader
    on, details = read(data)
    return FeedEntry(kind, trainee_id, on, details)


def erased_details(details: Details) -> Details:
    """An entry's details once its trainee is erased: each text about it, where there is one,
    reads as :data:`ERASED`."""
    return {k: ERASED if k in PERSONAL_DETAILS and v is not None else v for k, v in details.items()}
