"""The plan table's spreadsheet (培训计划表): a stage's content cell also names, in Chinese, the
content items it covers (R-7a), so the printed plan shows what the approval checked (R-7)."""

from __future__ import annotations

from services.training.export import CONTENT_ITEMS_ZH, stage_row
from services.training.policy.plan_content import PLAN_CONTENT


def stage(**changes):
    return {
        "no": 5,
        "content": "整机装配",
        "product_series": "X1",
        "department": "technical",
        "trainer_id": "tr-x",
        "planned_start": "2026-03-02",
        "planned_end": "2026-03-27",
        "days": [],
        "trainer_assessment": None,
        "countersigned": False,
        "disputed": False,
        "send_backs": [],
        **changes,
    }


def test_a_stage_names_the_content_items_it_covers_in_chinese_r7a():
    row = stage_row("王伟", stage(covers=["assembly", "commissioning"]))
    assert row[1] == "整机装配（X1）\n培训内容项：产品熟练装卸、产品调试"


def test_a_stage_without_covers_shows_its_content_alone():
    assert stage_row("王伟", stage(covers=[]))[1] == "整机装配（X1）"
    assert stage_row("王伟", stage())[1] == "整机装配（X1）"


def test_a_code_without_a_chinese_name_is_shown_as_it_is():
    assert stage_row("王伟", stage(covers=["new_item"]))[1].endswith("培训内容项：new_item")


def test_every_shipped_content_item_has_its_chinese_name():
    shipped = {code for version in PLAN_CONTENT.versions for code in version.known_codes()}
    assert shipped <= set(CONTENT_ITEMS_ZH)
