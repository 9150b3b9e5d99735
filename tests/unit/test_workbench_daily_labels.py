"""The words of training's API the trainer's and the trainee's views show by label (topics,
departments, stage and plan statuses: d_topic_<value>, ...), one label per value the API
answers, in the daily views' table (services/enrollment/workbench/labels-daily.js)."""

from __future__ import annotations

from services.enrollment.web import WORKBENCH
from services.training.domain.vocabulary import Department, PlanStatus, StageStatus, Topic
from tests.unit.test_workbench_files import label_keys


def test_every_word_of_training_the_daily_views_show_has_a_label():
    known = label_keys(WORKBENCH / "labels-daily.js")
    for prefix, words in (
        ("d_topic", Topic),
        ("d_dept", Department),
        ("d_stage", StageStatus),
        ("d_plan", PlanStatus),
    ):
        missing = {f"{prefix}_{w.value}" for w in words} - known
        assert not missing, missing
