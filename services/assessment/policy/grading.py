"""The grading policy (R-15 to R-17, R-20, R-21) and trainer fines (R-24): data plus pure functions.

Each function returns its value **and** a rule trace naming the rules it applied (R-22), so that a
replay with the recorded policy version re-derives the decision exactly. Arithmetic is Decimal
throughout and grading runs in a context that traps ``Inexact``: the mean of five one-decimal
scores and the mean of two such means always terminate, so a silent rounding cannot happen (R-17).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, Inexact, localcontext
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from shared.policy import PolicyBook, PolicyVersion
from shared.policy_checks import Problems, descending, distinct, every_present, positive, within

from ..domain.vocabulary import Department, Education, ExamKind, Level, Position, grade_rank
from .eligibility import Eligibility
from .numbers import percent, plain

PRACTICAL_SPREAD = "practical_spread"  # review flag: the five practical scores disagree too much


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Band(_Frozen):
    """R-20: a grade score of at least ``min_score`` (inclusive, R-17) earns this grade."""

    min_score: Decimal
    position: Position
    level: Level


class FineTier(_Frozen):
    """R-24: a failure rate of at least ``min_rate`` (inclusive) costs the trainer ``fine`` yuan."""

    min_rate: Decimal
    fine: Decimal


class GradingPolicy(PolicyVersion):
    written_pass_mark: Decimal
    practical_pass_mark: Decimal
    practical_departments: tuple[Department, ...]  # R-16, in the order the trace lists them
    practical_spread_review: Decimal  # max - min above this flags the practical for review
    bands: tuple[Band, ...]  # R-20, highest first
    eligibility: tuple[Eligibility, ...]  # R-21, one per position

    def problems(self) -> Problems:
        """Pass marks within 0..100, five distinct departments, bands highest first with every
        position x level once and each position's levels above the lower position's (no band
        of a lower grade above a higher one), the lowest band not below the pass marks (no
        gap between passing and a grade), one eligibility entry per position."""
        found = [
            *within("written_pass_mark", self.written_pass_mark, Decimal(0), Decimal(100)),
            *within("practical_pass_mark", self.practical_pass_mark, Decimal(0), Decimal(100)),
            *positive("practical_spread_review", self.practical_spread_review),
            *distinct("practical_departments", self.practical_departments),
            *descending("bands", [b.min_score for b in self.bands], "min_score"),
            *distinct("bands", [(b.position, b.level) for b in self.bands]),
            *every_present("bands", [(b.position, b.level) for b in self.bands], _GRADES),
            *distinct("eligibility", [e.position for e in self.eligibility]),
            *every_present("eligibility", [e.position for e in self.eligibility], Position),
        ]
        if not self.practical_departments:
            found.append(("practical_departments", "must name at least one department"))
        ranks = [grade_rank(b.position, b.level) for b in self.bands]
        if ranks != sorted(ranks, reverse=True):
            found.append(("bands", "a lower grade's band is above a higher grade's"))
        marks = max(self.written_pass_mark, self.practical_pass_mark)
        if self.bands and self.bands[-1].min_score > marks:
            lowest = self.bands[-1].min_score
            found.append(("bands", f"lowest band {lowest} leaves passing scores {marks}+ ungraded"))
        return found

    def eligibility_for(self, position: Position) -> Eligibility:
        return next(e for e in self.eligibility if e.position is position)

    def top_level(self, position: Position) -> Level:
        """The highest level of ``position`` (a capped engineer score gives technician senior)."""
        return next(b.level for b in self.bands if b.position is position)


_GRADES = [(p, lv) for p in reversed(Position) for lv in reversed(Level)]


class FinesPolicy(PolicyVersion):
    """R-24 trainer fines, a policy of its own since 2026-12 (it was part of grading: a penalty
    recorded ``grading-2026.1`` resolves to ``fines-2026.1`` through the seed's aliases)."""

    fine_tiers: tuple[FineTier, ...]  # R-24, highest first

    def problems(self) -> Problems:
        """Tiers highest rate first, rates in (0, 1], fines positive and not lower for a
        higher rate."""
        found = descending("fine_tiers", [t.min_rate for t in self.fine_tiers], "min_rate")
        for i, tier in enumerate(self.fine_tiers):
            found += within(f"fine_tiers[{i}].min_rate", tier.min_rate, Decimal(0), Decimal(1))
            found += positive(f"fine_tiers[{i}].min_rate", tier.min_rate)
            found += positive(f"fine_tiers[{i}].fine", tier.fine)
        fines = [t.fine for t in self.fine_tiers]
        if fines != sorted(fines, reverse=True):
            found.append(("fine_tiers", "a higher failure rate must not cost less"))
        return found


# The versions this release ships (the seed of the ``grading`` and ``fines`` streams): read-only.
# Deciders take the version from their command; a running app resolves it from its own book
# (app.state.policies, shared.policy_store), which also holds every version published since.
GRADING = PolicyBook.load(GradingPolicy, Path(__file__).with_name("grading.json"))
FINES = PolicyBook.load(FinesPolicy, Path(__file__).with_name("fines.json"))


@dataclass(frozen=True)
class GradingInputs:
    """Everything a grade decision depends on: the scores and the trainee's facts (R-22)."""

    written: Decimal
    practical: Mapping[Department, Decimal]
    education: Education
    experience_years: Decimal
    certificate_count: int = 0  # distinct certificates: their names are not needed
    mastered_series: Sequence[str] = ()


@dataclass(frozen=True)
class GradingResult:
    passed: bool  # both exams passed
    failed_exams: list[ExamKind]
    practical_mean: Decimal
    grade_score: Decimal | None  # None when an exam failed
    position: Position | None  # None: no grade (failed, or not technician-eligible: reserve)
    level: Level | None
    band: Band | None  # what the score alone earns, before eligibility caps it
    capped_by: list[str]  # failed R-21 conditions: education, experience, certificate, series count
    review_flags: list[str]
    policy_version: str
    rule_trace: list[str]


def grade(inputs: GradingInputs, policy: GradingPolicy) -> GradingResult:
    """R-15/R-16 pass marks, R-18 failure, R-20 band, R-21 eligibility cap, with the trace."""
    if set(inputs.practical) != set(policy.practical_departments):
        raise ValueError(f"practical scores must come from {list(policy.practical_departments)}")
    with localcontext() as ctx:
        ctx.traps[Inexact] = True
        trace: list[str] = []
        failed, mean = _exams(inputs, policy, trace)
        flags = _spread(inputs, policy, trace)
        if failed:
            names = " and ".join(failed)
            trace.append(f"R-18: failed {names} -> no grade; a disposition is required")
            return GradingResult(
                False, failed, mean, None, None, None, None, [], flags, policy.version, trace
            )
        score = (inputs.written + mean) / 2
        terms = f"{plain(inputs.written)} + {plain(mean)}"
        trace.append(f"R-20: grade score ({terms}) / 2 = {plain(score)}")
        band = _band(score, policy, trace)
        position, level, capped = _cap(band, inputs, policy, trace)
    return GradingResult(
        True, [], mean, score, position, level, band, capped, flags, policy.version, trace
    )


def _exams(
    inputs: GradingInputs, policy: GradingPolicy, trace: list[str]
) -> tuple[list[ExamKind], Decimal]:
    failed: list[ExamKind] = []
    written_ok = inputs.written >= policy.written_pass_mark
    verdict = _against(written_ok, policy.written_pass_mark)
    trace.append(f"R-15: written {plain(inputs.written)} {verdict}")
    if not written_ok:
        failed.append(ExamKind.WRITTEN)
    scores = [inputs.practical[d] for d in policy.practical_departments]
    mean = sum(scores, Decimal(0)) / len(scores)
    practical_ok = mean >= policy.practical_pass_mark
    terms = " + ".join(plain(s) for s in scores)
    trace.append(
        f"R-16: practical mean ({terms}) / {len(scores)} = {plain(mean)} "
        f"{_against(practical_ok, policy.practical_pass_mark)}"
    )
    if not practical_ok:
        failed.append(ExamKind.PRACTICAL)
    return failed, mean


def _against(passed: bool, mark: Decimal) -> str:
    return f">= {plain(mark)} -> pass" if passed else f"< {plain(mark)} -> fail"


def _spread(inputs: GradingInputs, policy: GradingPolicy, trace: list[str]) -> list[str]:
    """Policy decision: five practical scores far apart are flagged for review, not changed."""
    high, low = max(inputs.practical.values()), min(inputs.practical.values())
    spread, limit = high - low, policy.practical_spread_review
    text = f"R-16: practical spread {plain(high)} - {plain(low)} = {plain(spread)}"
    if spread > limit:
        trace.append(f"{text} > {plain(limit)} -> review")
        return [PRACTICAL_SPREAD]
    trace.append(f"{text} <= {plain(limit)} -> no review")
    return []


def _band(score: Decimal, policy: GradingPolicy, trace: list[str]) -> Band | None:
    band = next((b for b in policy.bands if score >= b.min_score), None)
    if band is None:
        trace.append(f"R-20: {plain(score)} < {plain(policy.bands[-1].min_score)} -> no grade")
    else:
        earned = f"{band.position} {band.level}"
        trace.append(f"R-20: {plain(score)} >= {plain(band.min_score)} -> {earned}")
    return band


def _cap(
    band: Band | None, inputs: GradingInputs, policy: GradingPolicy, trace: list[str]
) -> tuple[Position | None, Level | None, list[str]]:
    """R-21: the highest position at or below the band's whose eligibility is met; never higher."""
    if band is None:
        return None, None, []
    candidates = [p for p in reversed(Position) if p.rank <= band.position.rank]
    capped: list[str] = []
    for i, position in enumerate(candidates):
        level = band.level if position is band.position else policy.top_level(position)
        unmet = policy.eligibility_for(position).unmet(
            inputs.education,
            inputs.experience_years,
            inputs.certificate_count,
            inputs.mastered_series,
        )
        if not unmet:
            met = f"R-21: {position} eligibility met ({_facts(inputs)})"
            trace.append(f"{met} -> {position} {level}")
            return position, level, capped
        capped.extend(name for name, _ in unmet if name not in capped)
        lower = candidates[i + 1] if i + 1 < len(candidates) else None
        outcome = f"capped to {lower} {policy.top_level(lower)}" if lower else "no grade (reserve)"
        trace.append(f"R-21: {position} {'; '.join(text for _, text in unmet)} -> {outcome}")
    return None, None, capped


def _facts(inputs: GradingInputs) -> str:
    return (
        f"education {inputs.education}, {plain(inputs.experience_years)} years experience, "
        f"{inputs.certificate_count} certificates, "
        f"{len(set(inputs.mastered_series))} series mastered"
    )


class TrainerFine(NamedTuple):
    failure_rate: Decimal
    fine: Decimal  # yuan
    rule_trace: list[str]


def trainer_fine(trainees: int, failed: int, policy: FinesPolicy) -> TrainerFine:
    """R-24 for one trainer, one product series, one session.

    The tier is chosen by exact comparison (``failed >= min_rate * trainees``); the reported rate
    is ``failed / trainees``, exact whenever the quotient terminates (4/10 = 0.4).
    """
    if trainees < 1 or not 0 <= failed <= trainees:
        raise ValueError(f"need 0 <= failed ({failed}) <= trainees ({trainees}) and trainees >= 1")
    rate = Decimal(failed) / Decimal(trainees)
    tier = next((t for t in policy.fine_tiers if failed >= t.min_rate * trainees), None)
    text = f"R-24: {failed}/{trainees} trainees failed = {percent(rate)}"
    if tier is None:
        lowest = percent(policy.fine_tiers[-1].min_rate) if policy.fine_tiers else "any tier"
        return TrainerFine(rate, Decimal(0), [f"{text} < {lowest} -> no fine"])
    trace = f"{text} >= {percent(tier.min_rate)} -> fine {plain(tier.fine)} yuan"
    return TrainerFine(rate, tier.fine, [trace])
