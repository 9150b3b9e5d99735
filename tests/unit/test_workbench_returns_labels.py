"""Every send-back status training answers (R-12, R-12a) has a label in the follow-ups' table
(services/enrollment/workbench/labels-returns.js), and the table's every key is bilingual."""

from __future__ import annotations

from services.enrollment.web import WORKBENCH
from services.training.domain.followup_table import SEND_BACK_STATUSES
from tests.unit.test_workbench_files import label_keys


def test_every_send_back_status_has_a_label():
    known = label_keys(WORKBENCH / "labels-returns.js")
    missing = {f"rb_status_{s}" for s in SEND_BACK_STATUSES} - known
    assert not missing, missing
