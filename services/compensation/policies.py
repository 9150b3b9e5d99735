"""The policies compensation applies and serves (docs/policy.md): one registration per policy,
with the roles that may publish a version (exec_vp unless named; HR's payroll for pay)."""

from __future__ import annotations

from shared.auth import Role
from shared.policy_store import PolicyRegistration, registration

from .policy.pay import FEES, PAY

PAY_POLICY = registration("pay", PAY, Role.PAYROLL, Role.EXEC_VP)
FEES_POLICY = registration("fees", FEES)
POLICIES: list[PolicyRegistration] = [PAY_POLICY, FEES_POLICY]
