"""The policies training applies and serves (docs/policy.md): one registration per policy, with
the roles that may publish a version (exec_vp unless named)."""

from __future__ import annotations

from shared.policy_store import PolicyRegistration, registration

from .policy.plan_content import PLAN_CONTENT

POLICIES: list[PolicyRegistration] = [registration("plan_content", PLAN_CONTENT)]  # R-7a, R-8a
