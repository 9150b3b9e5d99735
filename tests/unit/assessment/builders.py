"""Builders shared by the assessment tests: the worked examples' facts and scores as commands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from services.assessment.domain.assessment import TRAINEE_ASSESSMENT, TraineeAssessment
from services.assessment.domain.commands import ScorePractical, ScoreWritten
from services.assessment.domain.events import TraineeFacts
from services.assessment.domain.vocabulary import Education
from services.assessment.policy.grading import GRADING, GradingInputs

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
POLICY = GRADING.in_force(TODAY)
DEPARTMENTS = POLICY.practical_departments  # technical, process_engineering, quality, ...
EXAMPLE_A_PRACTICAL = ("96", "95", "97", "98", "94")


def facts(
    education: Education = Education.HIGH_SCHOOL,
    experience: str = "4",
    certificates: Sequence[str] = (),
    series: Sequence[str] = ("X1", "X2", "X3"),
) -> TraineeFacts:
    """Example A's trainee unless told otherwise: high school, 4 years, 3 series; the facts count
    the distinct ``certificates`` (a grade never needs their names)."""
    return TraineeFacts(
        education=education,
        experience_years=Decimal(experience),
        certificate_count=len(set(certificates)),
        mastered_series=list(series),
    )


def practical_scores(scores: str | Sequence[str]) -> dict:
    """Five scores in the policy's department order; one string means all five the same."""
    values = (scores,) * len(DEPARTMENTS) if isinstance(scores, str) else tuple(scores)
    return dict(zip(DEPARTMENTS, (Decimal(v) for v in values), strict=True))


def inputs(
    written: str = "95",
    practical: str | Sequence[str] = EXAMPLE_A_PRACTICAL,
    trainee: TraineeFacts | None = None,
) -> GradingInputs:
    f = trainee or facts()
    return GradingInputs(
        written=Decimal(written),
        practical=practical_scores(practical),
        education=f.education,
        experience_years=f.experience_years,
        certificate_count=f.certificate_count,
        mastered_series=tuple(f.mastered_series),
    )


def score_written(score: str, trainee: TraineeFacts | None = None, **changes) -> ScoreWritten:
    fields = dict(
        session_id="s-1",
        trainee_id="t-1",
        score=Decimal(score),
        rater="examiner-hr",
        facts=trainee or facts(),
        now=NOW,
    )
    fields.update(changes)
    return ScoreWritten(**fields)


def score_practical(
    department: str, score: str, trainee: TraineeFacts | None = None, **changes
) -> ScorePractical:
    fields = dict(
        session_id="s-1",
        trainee_id="t-1",
        department=department,
        score=Decimal(score),
        rater=f"examiner-{department}",
        facts=trainee or facts(),
        now=NOW,
    )
    fields.update(changes)
    return ScorePractical(**fields)


def sitting(
    written: str = "95",
    practical: str | Sequence[str] = EXAMPLE_A_PRACTICAL,
    trainee: TraineeFacts | None = None,
    **changes,
) -> list[ScoreWritten | ScorePractical]:
    """The six scoring commands of one trainee: written first, then the five departments."""
    scores = practical_scores(practical)
    return [
        score_written(written, trainee, **changes),
        *(score_practical(d, str(s), trainee, **changes) for d, s in scores.items()),
    ]


def given(*commands, decider=TRAINEE_ASSESSMENT):
    """The state after a sequence of accepted commands (their events folded in order)."""
    state = decider.initial()
    for command in commands:
        state = decider.fold(decider.decide(command, state), state)
    return state


def assessed(*commands) -> TraineeAssessment:
    state = given(*commands)
    assert isinstance(state, TraineeAssessment)
    return state
