"""Trainees enrolled from a spreadsheet (``POST /imports/trainees``, the workbench's "enrol many
at once"): the import machinery of :mod:`.imports` applied to enrolments. Every row is checked
first, as its own ``POST /trainees`` would be (the request model, then the decider on the
trainee's stream with the branch the registry holds: R-1, R-2, R-3), plus what only a file has
(the same trainee id twice) and who may enrol where (R-2: a branch clerk into its own branch
only). A file without a bad row is enrolled whole, in one transaction; otherwise nothing is
stored and the 422 lists each problem by row and column.

A row naming another branch than a clerk's own is that row's problem (field ``branch_id``, rule
R-2), and is checked no further: the answer says nothing about the other branch (registered,
closed) that the clerk may not know.
"""

from __future__ import annotations

import re
from typing import Any

from shared.commands import CommandContext
from shared.execution import Aggregates
from shared.sheet_imports import Layout, Transaction, checked, problem, rows_of, sheet_of

from . import handlers
from .domain.commands import EnrollTrainee
from .domain.trainee import TRAINEE, stream_id
from .imports import Registered, register_all, with_branches
from .schemas import EnrollRequest

TRAINEES = Layout(
    columns={
        "trainee_id": ("trainee_id", "学员编号"),
        "name": ("name", "姓名"),
        "category": ("category", "类别", "人员类别"),
        "branch_id": ("branch_id", "网点编号", "所属网点"),
        "education": ("education", "学历"),
        "experience_years": ("experience_years", "工作年限"),
        "certificates": ("certificates", "证书"),
        "product_series": ("product_series", "产品系列"),
        "enrolled_on": ("enrolled_on", "报名日期"),
    },
    words={
        # R-1's names as the regulation writes them, and their short forms.
        "category": {
            "公司专职售后人员": "hq_full_time",
            "专职": "hq_full_time",
            "生产储备/兼职售后人员": "production_reserve",
            "生产储备": "production_reserve",
            "兼职售后人员": "production_reserve",
            "办事处/经销商委培售后人员": "branch_commissioned",
            "委培": "branch_commissioned",
        },
        #
        "education": {
            "初中": "junior_high",
            "高中": "high_school",
            "中专": "vocational_secondary",
            "大专": "junior_college",
            "本科": "bachelor",
            "研究生": "postgraduate",
        },
    },
    lists=frozenset({"certificates", "product_series"}),
    optional=frozenset({"trainee_id", "certificates", "product_series"}),
    # Not at spaces: a certificate's name has them ("electrician licence").
    separators=re.compile(r"[,，、;；]+"),
)


def _with_ids(rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    """Each row without a trainee id gets a new one, as ``POST /trainees`` gives it."""
    return [(n, {"trainee_id": handlers.new_trainee_id(), **body}) for n, body in rows]


TRAINEE_ROWS = Registered(TRAINEE, "trainee_id", stream_id, handlers.enroll)


async def import_trainees(
    aggregates: Aggregates, data: bytes, context: CommandContext, transaction: Transaction
) -> list[tuple[int, str]]:
    """Enrol everyone in the file, or no one; each row's number and trainee id, in file order."""
    rows = _with_ids(rows_of(sheet_of(data), TRAINEES))
    valid, problems = checked(rows, EnrollRequest, "trainee_id")
    mine: list[tuple[int, EnrollTrainee]] = []
    for number, request in valid:
        if handlers.may_enrol(context.principal, request.branch_id):
            mine.append((number, handlers.enrolment(request, context.today)))
        else:
            own = context.principal.branch_id
            message = f"a branch clerk of {own} enrols into {own} only"
            problems.append(problem(number, "branch_id", message, "R-2"))
    commands = await with_branches(aggregates, mine)
    await register_all(aggregates, TRAINEE_ROWS, commands, problems, context, transaction)
    return [(n, c.trainee_id) for n, c in commands]
