"""The payroll, fee and fine tables of the exports: Chinese headers (or the field names), names
beside the ids (the id while a name is unknown), money and rates as numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from services.compensation.export import (
    FEE_COLUMNS,
    FINE_COLUMNS,
    PAYROLL_COLUMNS,
    ZH_HEADERS,
    fee_table,
    fine_table,
    header_row,
    payroll_table,
    to_csv,
    to_xlsx,
)


def test_every_column_has_a_chinese_header():
    for columns in (PAYROLL_COLUMNS, FEE_COLUMNS, FINE_COLUMNS):
        assert all(ZH_HEADERS[c] for c in columns)
    assert header_row(PAYROLL_COLUMNS)[:3] == ["员工编号", "姓名", "岗位工资"]
    assert header_row(FEE_COLUMNS)[:5] == [
        "分支机构编号",
        "分支机构/网点",
        "分支机构/网点（英文）",
        "学员编号",
        "学员姓名",
    ]
    assert header_row(FINE_COLUMNS, "key") == list(FINE_COLUMNS)


def test_a_name_not_known_reads_as_the_id():
    payslip = {
        "employee_id": "t-1",
        "lines": [{"name": "position", "amount": "2240.00"}],
        "total": "2240.00",
        "payslip_id": "p-1",
        "supersedes": None,
        "difference": None,
    }
    (row,) = payroll_table({"payslips": [payslip]})[1]
    assert row[:3] == ["t-1", "t-1", "2240.00"]
    fee = {"branch_id": "hq", "trainee_id": "t-1", "days": 1, "amount": "200.00", "dates": []}
    assert fee_table([fee])[1][0][:5] == ["hq", "hq", "hq", "t-1", "t-1"]
    fine = {
        "trainer_id": "tr-1",
        "session_id": "s-1",
        "product_series": "X1",
        "failure_rate": "0.4",
        "amount": "150.00",
    }
    assert fine_table([fine])[1][0][:2] == ["tr-1", "tr-1"]


def test_fines_keep_the_rate_and_the_amount_numbers_in_both_formats():
    fine = {
        "trainer_id": "tr-1",
        "trainer_name": "孙老师",
        "session_id": "s-1",
        "product_series": "X1",
        "content": None,
        "failure_rate": "0.4",
        "amount": "150.00",
        "status": "issued",
    }
    table = fine_table([fine])
    text = to_csv(table).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["培训师编号", "培训师", "考试场次", "产品系列", "培训内容", "不合格率", "金额", "状态"],
        ["tr-1", "孙老师", "s-1", "X1", "", "0.4", "150.00", "已发放"],
    ]
    sheet = load_workbook(io.BytesIO(to_xlsx(table, "fines"))).active
    rate, amount = sheet["F2"], sheet["G2"]
    assert (rate.data_type, rate.number_format, Decimal(str(rate.value))) == (
        "n",
        "0.0%",
        Decimal("0.4"),
    )
    assert (amount.data_type, amount.number_format) == ("n", "0.00")


def test_a_content_sessions_fine_names_its_content_and_a_fee_not_issued_reads_assessed_r24_r33():
    fine = {
        "trainer_id": "tr-1",
        "session_id": "s-c",
        "product_series": None,
        "content": "SAFETY",
        "failure_rate": "0.5",
        "amount": "200.00",
        "status": "assessed",
    }
    (row,) = fine_table([fine])[1]
    assert row[2:] == ["s-c", None, "SAFETY", "0.5", "200.00", "已核定未发放"]
    (keyed,) = fine_table([fine], "key")[1]
    assert keyed[-1] == "assessed"  # a sheet read by column keeps the wire's word
    fee = {
        "branch_id": "dl-north",
        "trainee_id": "t-1",
        "days": 2,
        "amount": "400.00",
        "dates": ["2026-03-20", "2026-03-23"],
        "status": "assessed",
    }
    (fee_row,) = fee_table([fee])[1]
    assert fee_row[-2:] == ["2026-03-20 2026-03-23", "已核定未发放"]
