"""The policies enrollment applies and serves (docs/policy.md): one registration per policy, with
the roles that may publish a version (exec_vp unless named)."""

from __future__ import annotations

from shared.policy_store import PolicyRegistration, registration

from .policy.placement import PLACEMENT

POLICIES: list[PolicyRegistration] = [registration("placement", PLACEMENT)]
