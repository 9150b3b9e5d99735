"""The policies assessment applies and serves (docs/policy.md): one registration per policy, with
the roles that may publish a version (exec_vp unless named)."""

from __future__ import annotations

from shared.policy_store import PolicyRegistration, registration

from .policy.grading import FINES, GRADING

GRADING_POLICY = registration("grading", GRADING)
FINES_POLICY = registration("fines", FINES)
POLICIES: list[PolicyRegistration] = [GRADING_POLICY, FINES_POLICY]
