"""The plan table 培训计划表 as a spreadsheet in the regulation's columns. Pure: JSON in, bytes out.
Every text cell is written as text (shared.spreadsheets): stage content and assessments are typed
by users, and must never run as formulas.

One row per stage; the days of a stage are joined into the 实际培训时间及培训内容 cell, one line
each, with the trainee's dissent kept beside the day (R-10). The signature cells name who signed:
the trainer once the stage is assessed, the trainee once countersigned (with 有异议 if disputed).
A stage's send-backs (R-12) follow its assessment in 培训人评估, each with its reason and, once
given, the explanation and its acceptance (R-12a).
People are named as the table names them (``trainer_name``, ``trainee_name``), by id otherwise.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from shared.events import JsonDict
from shared.spreadsheets import append_row

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = (
    "序号",
    "受训内容",
    "培训部门/人",
    "计划培训时间",
    "实际培训时间及培训内容",
    "培训人评估",
    "培训师签名",
    "受训人签名",
)
WIDTHS = (6, 30, 22, 24, 60, 30, 14, 18)
DEPARTMENTS = {
    "technical": "技术部",
    "process_engineering": "工艺工程部",
    "system": "体系部",
    "after_sales": "售后部",
    "hr": "人力资源部",
    "production": "生产部",
    "quality": "品管",
}

# R-7a's content items as the regulation names them (seed §五.3), for the printed plan.
CONTENT_ITEMS_ZH = {
    "circuit_diagrams": "识别基本电路原理图",
    "electrical_components": "电气元件",
    "power_tools": "电动工具使用",
    "assembly": "产品熟练装卸",
    "commissioning": "产品调试",
    "working_principle": "产品工作原理",
    "product_structure": "产品结构",
    "circuit_principles": "电路原理知识",
    "mechanical_structure": "机械结构知识",
    "maintenance": "机器保养维护操作",
    "program_install": "控制程序安装/调试",
    "fault_analysis": "故障分析",
    "fault_repair": "故障解决",
    "electrical_principles": "公司产品电气原理",
    "program_modification": "控制程序修改",
    "parts_repair": "配件检修",
}


def plan_workbook(table: JsonDict) -> bytes:
    """The xlsx bytes of a plan table as ``plan_table`` returns it."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = "培训计划表"
    for cell in append_row(sheet, HEADERS):
        cell.font = Font(bold=True)
    trainee = table.get("trainee_name") or table["trainee_id"]
    for stage in table["stages"]:
        append_row(sheet, stage_row(trainee, stage))
    for column, width in zip("ABCDEFGH", WIDTHS, strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def stage_row(trainee: str, stage: JsonDict) -> tuple[Any, ...]:
    """One stage's row; ``trainee`` is how the trainee signs (its name, else its id)."""
    content = stage["content"]
    if stage["product_series"]:
        content = f"{content}（{stage['product_series']}）"
    if covers := stage.get("covers"):  # R-7a: what the approval counted
        items = "、".join(CONTENT_ITEMS_ZH.get(code, code) for code in covers)
        content = f"{content}\n培训内容项：{items}"
    department = DEPARTMENTS.get(stage["department"], stage["department"])
    trainer = stage.get("trainer_name") or stage["trainer_id"]
    trainee_signature = ""
    if stage["countersigned"]:
        trainee_signature = trainee + ("（有异议）" if stage["disputed"] else "")
    return (
        stage["no"],
        content,
        f"{department}/{trainer}",
        f"{stage['planned_start']} 至 {stage['planned_end']}",
        "\n".join(day_line(d) for d in stage["days"]),
        "\n".join(filter(None, [stage["trainer_assessment"], *send_back_lines(stage)])),
        trainer if stage["trainer_assessment"] else "",
        trainee_signature,
    )


SEND_BACK_STATUS = {
    "open": "待说明",
    "explained": "待接受",
    "accepted": "说明已接受",
    "signed_off": "已重新签字",
}


def send_back_lines(stage: JsonDict) -> list[str]:
    """R-12/R-12a: each send-back of the stage, its reason, the explanation and its acceptance."""
    lines = []
    for back in stage.get("send_backs") or ():
        status = SEND_BACK_STATUS.get(back["status"], back["status"])
        line = f"[第{back['from_stage']}阶段退回（{status}）：{back['reason']}"
        if back["explanation"]:
            line += f"；说明：{back['explanation']}"
        if back["accepted_by"]:
            comment = f"：{back['acceptance_comment']}" if back["acceptance_comment"] else ""
            line += f"；{back['accepted_by']}接受{comment}"
        lines.append(line + "]")
    return lines


def day_line(day: JsonDict) -> str:
    line = f"{day['date']} {day['hours']}小时：{day['content']}"
    if day["method"]:
        line += f"（{day['method']}）"
    if day["agree"] is False:
        line += f" [受训人不同意{'：' + day['comment'] if day['comment'] else ''}]"
    return line
