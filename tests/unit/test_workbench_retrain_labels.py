"""R-24's content sessions on the workbench (session-subject.js, labels-retrain.js): the form
offers exactly the contents assessment accepts, each with a label in both languages
(test_workbench_files.py checks those)."""

from __future__ import annotations

import re

from services.assessment.domain.vocabulary import SESSION_CONTENTS
from services.enrollment.web import WORKBENCH
from tests.unit.test_workbench_files import label_keys


def test_the_session_form_offers_the_contents_assessment_accepts():
    script = (WORKBENCH / "session-subject.js").read_text()
    listed = re.search(r"CONTENTS = \[(.*?)\];", script, re.S)
    assert listed is not None
    assert set(re.findall(r'"([a-z_]+)"', listed.group(1))) == SESSION_CONTENTS


def test_every_content_has_a_label():
    known = label_keys(WORKBENCH / "labels-retrain.js")
    assert {f"r_content_{c}" for c in SESSION_CONTENTS} <= known
