"""The assessment words the workbench shows by label (labels-assess.js): a label for every value
the assessment API answers of them, in both languages (test_workbench_files.py checks those)."""

from __future__ import annotations

from services.assessment.domain.vocabulary import (
    Department,
    Disposition,
    DisputeOutcome,
    ExamKind,
    Level,
)
from services.assessment.policy.grading import PRACTICAL_SPREAD
from services.enrollment.web import WORKBENCH
from tests.unit.test_workbench_files import label_keys


def test_every_assessment_word_the_workbench_shows_has_a_label():
    known = label_keys(WORKBENCH / "labels-assess.js")
    wanted = {
        *(f"a_dept_{d.value}" for d in Department),
        *(f"a_level_{v.value}" for v in Level),
        *(f"a_disposition_{v.value}" for v in Disposition),
        *(f"a_outcome_{v.value}" for v in DisputeOutcome),
        *(f"a_{v.value}" for v in ExamKind),
        *(f"a_session_{s}" for s in ("open", "closed")),
        *(f"a_dispute_status_{s}" for s in ("filed", "resolved")),
        f"a_flag_{PRACTICAL_SPREAD}",
    }
    assert wanted <= known, sorted(wanted - known)
