"""The compensation events round-trip through the registry; money travels as two-decimal strings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.compensation.domain.events import PayslipIssued, registry
from services.compensation.domain.payslip import MonthInputs, prepare_payslip
from shared.events import SYSTEM_ACTOR, Envelope

from .support import JUNIOR, POLICY, PRODUCTION, TECHNICIAN, full_month, rate


def envelope_of(event) -> Envelope:
    new = registry.encode(event)
    now = datetime(2026, 5, 1, tzinfo=UTC)
    return Envelope(
        new.event_id,
        "payroll-2026-03",
        1,
        1,
        new.type,
        new.schema_version,
        now,
        now,
        new.data,
        SYSTEM_ACTOR,
    )


def test_a_payslip_round_trips_with_money_as_strings():
    computed = prepare_payslip(
        "e-1",
        uuid.uuid4(),
        "2026-03",
        full_month(rate(PRODUCTION, TECHNICIAN, JUNIOR), 31),
        MonthInputs(travel_days=3),
        POLICY,
    )
    issued = PayslipIssued(
        payslip_id=computed.payslip_id,
        month="2026-03",
        employee_id="e-1",
        lines=list(computed.lines),
        total=computed.total,
        inputs_digest=computed.inputs_digest,
        supersedes=None,
        difference=None,
        policy_version=computed.policy_version,
        rule_trace=list(computed.rule_trace),
    )
    data = registry.encode(issued).data
    assert [line["amount"] for line in data["lines"]] == ["50.00", "0.00", "354.55"]
    assert data["total"] == "404.55"
    assert registry.decode(envelope_of(issued)) == issued


def test_every_pay_rate_round_trips():
    for row in POLICY.rows:
        rate_set = rate(row.category, row.position, row.level)
        assert registry.decode(envelope_of(rate_set)) == rate_set


def test_the_catalog_lists_the_events():
    assert set(registry.catalog("compensation")["events"]) == {
        "PayRateSet",
        "TravelDaysRecorded",
        "PieceRateRecorded",
        "PerformanceRated",
        "PayslipIssued",
        "BranchFeeCharged",
        "TrainerFineIssued",
        "PolicyPublished",
    }
