"""R-21 eligibility conditions as data, and the check naming each condition a trainee fails."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from ..domain.vocabulary import Education, Position
from .numbers import plain

Unmet = tuple[str, str]  # (condition: education|experience|certificate|series count, explanation)


class EducationRoute(BaseModel):
    """One way to meet the education condition (junior high needs a certificate and experience)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_education: Education
    min_certificates: int = 0
    min_experience_years: Decimal = Decimal(0)

    def unmet(self, education: Education, experience: Decimal, certificates: int) -> list[Unmet]:
        found: list[Unmet] = []
        with_education = f"with {education} education"
        if certificates < self.min_certificates:
            found.append(
                (
                    "certificate",
                    f"needs >= {self.min_certificates} certificate {with_education}, "
                    f"has {certificates}",
                )
            )
        if experience < self.min_experience_years:
            found.append(
                (
                    "experience",
                    f"needs >= {plain(self.min_experience_years)} years experience "
                    f"{with_education}, has {plain(experience)}",
                )
            )
        return found


class Eligibility(BaseModel):
    """What a position needs besides the score; any one education route suffices."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: Position
    education: tuple[EducationRoute, ...]
    min_experience_years: Decimal
    min_series: int

    def unmet(
        self,
        education: Education,
        experience: Decimal,
        certificates: int,
        mastered_series: Sequence[str],
    ) -> list[Unmet]:
        """Every condition of this position the trainee fails; empty when eligible.
        ``certificates``: how many distinct certificates the trainee holds (never their names)."""
        found = self._education_unmet(education, experience, certificates)
        if experience < self.min_experience_years:
            found.append(
                (
                    "experience",
                    f"needs >= {plain(self.min_experience_years)} years experience, "
                    f"has {plain(experience)}",
                )
            )
        series = len(set(mastered_series))
        if series < self.min_series:
            found.append(
                ("series count", f"needs >= {self.min_series} series mastered, has {series}")
            )
        return found

    def _education_unmet(
        self, education: Education, experience: Decimal, certificates: int
    ) -> list[Unmet]:
        """Met by any route; otherwise the fewest failures among the routes whose education level
        is reached (junior high without a certificate: "certificate"); else "education"."""
        best: list[Unmet] | None = None
        for route in self.education:
            if education.rank < route.min_education.rank:
                continue
            found = route.unmet(education, experience, certificates)
            if not found:
                return []
            if best is None or len(found) < len(best):
                best = found
        if best is not None:
            return best
        needed = " or ".join(str(r.min_education) for r in self.education)
        return [("education", f"needs education >= {needed}, has {education}")]
