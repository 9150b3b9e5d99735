"""Spreadsheet formula injection: text a user typed (a stage's content, a trainer's assessment, an
id) that starts like a formula must reach the spreadsheet as text. In xlsx every text cell has
the string type and its value unchanged; in CSV such a field gets OWASP's single-quote prefix,
while numbers (negative money included) stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from services.compensation.export import fee_table, fine_table, payroll_table, to_csv, to_xlsx
from services.training.export import plan_workbook

# What OWASP's CSV-injection guidance lists as a formula's first character, plus an error code,
# which openpyxl would also store as something other than text.
HOSTILE = [
    '=HYPERLINK("http://evil.example","pay")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "#N/A",
]


def read_back(text: str) -> str:
    """``text`` as an XML reader returns it: XML turns a raw carriage return into a line feed."""
    return text.replace("\r", "\n")


def sheet_cells(data: bytes):
    sheet = load_workbook(io.BytesIO(data)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def assert_text_cells_only(data: bytes, expected_texts: list[str]) -> None:
    cells = sheet_cells(data)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type not in ("s", "n")]
    assert formulas == [], f"cells that are not text or numbers: {formulas}"
    texts = {c.value for c in cells if c.data_type == "s"}
    for text in expected_texts:
        assert any(read_back(text) in str(value) for value in texts), (text, texts)


def plan(text: str) -> dict:
    day = {
        "date": "2026-03-02",
        "hours": "4",
        "content": text,
        "method": text,
        "agree": False,
        "comment": text,
    }
    stage = {
        "no": 1,
        "content": text,
        "department": "technical",
        "trainer_id": "tr-1",
        "product_series": None,
        "planned_start": "2026-03-02",
        "planned_end": "2026-03-31",
        "countersigned": True,
        "disputed": True,
        "trainer_assessment": text,
        "days": [day],
    }
    return {"trainee_id": "t-1", "stages": [stage]}


@pytest.mark.parametrize("text", HOSTILE)
def test_plan_export_writes_stage_content_and_assessment_as_text(text):
    data = plan_workbook(plan(text))

    assert_text_cells_only(data, [text])
    cells = sheet_cells(data)
    row = [c for c in cells if c.row == 2]
    assert row[1].value == read_back(text)  # 受训内容, unchanged
    assert row[5].value == read_back(text)  # 培训人评估, unchanged


def payroll_view(text: str) -> dict:
    line = {"name": "position", "amount": "2600.00", "rule": "R-25"}
    payslip = {
        "employee_id": text,
        "employee_name": text,  # a name is typed by people too
        "lines": [line],
        "total": "2600.00",
        "payslip_id": text,
        "supersedes": text,
        "difference": "-120.50",
    }
    return {"payslips": [payslip]}


def fee_rows(text: str) -> list[dict]:
    names = {"branch_name_zh": text, "branch_name_en": text, "trainee_name": text}
    return [
        {"branch_id": text, "trainee_id": text, "days": 2, "amount": "400.00", "dates": [text]}
        | names
    ]


def fine_rows(text: str) -> list[dict]:
    return [
        {
            "trainer_id": text,
            "trainer_name": text,
            "session_id": text,
            "product_series": text,
            "failure_rate": "0.4",
            "amount": "150.00",
        }
    ]


@pytest.mark.parametrize("text", HOSTILE)
def test_payroll_and_fee_xlsx_write_every_text_cell_as_text(text):
    tables = (payroll_table(payroll_view(text)), fee_table(fee_rows(text)))
    for table in (*tables, fine_table(fine_rows(text))):
        data = to_xlsx(table, "sheet")

        assert_text_cells_only(data, [text])
        row = [c for c in sheet_cells(data) if c.row == 2]
        assert row[0].value == read_back(text) and row[0].data_type == "s"


def test_money_in_the_xlsx_stays_a_number_even_when_negative():
    cells = sheet_cells(to_xlsx(payroll_table(payroll_view("e-1")), "payroll", header="key"))
    header = [c.value for c in cells if c.row == 1]
    row = [c for c in cells if c.row == 2]

    difference = row[header.index("difference")]
    assert (difference.data_type, Decimal(str(difference.value))) == ("n", Decimal("-120.5"))


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("text", HOSTILE)
def test_payroll_and_fee_csv_neutralise_formula_text_with_a_quote(text):
    payroll = csv_rows(to_csv(payroll_table(payroll_view(text)), header="key"))[0]
    fees = csv_rows(to_csv(fee_table(fee_rows(text)), header="key"))[0]
    fines = csv_rows(to_csv(fine_table(fine_rows(text)), header="key"))[0]

    dangerous = text[0] in "=+-@\t\r"
    expected = "'" + text if dangerous else text
    assert payroll["employee_id"] == payroll["payslip_id"] == payroll["supersedes"] == expected
    assert payroll["employee_name"] == expected
    assert fees["branch_id"] == fees["trainee_id"] == fees["dates"] == expected
    assert fees["branch_name_zh"] == fees["branch_name_en"] == fees["trainee_name"] == expected
    assert fines["trainer_id"] == fines["trainer_name"] == fines["session_id"] == expected


def test_csv_keeps_negative_money_a_number_and_plain_text_unchanged():
    payroll = csv_rows(to_csv(payroll_table(payroll_view("e-1")), header="key"))[0]

    assert payroll["difference"] == "-120.50"
    assert payroll["total"] == "2600.00"
    assert payroll["employee_id"] == "e-1"
