"""The policies enrollment applies and serves (docs/policy.md): one registration per policy, with
the roles that may publish a version (exec_vp unless named)."""

from __future__ import annotations

from shared.auth import Role
from shared.policy_store import PolicyRegistration, registration

from .policy.placement import PLACEMENT
from .policy.retention import RETENTION

POLICIES: list[PolicyRegistration] = [
    registration("placement", PLACEMENT),
    # issue 19: how long people's data is kept once they left; the administrator, who erases
    registration("retention", RETENTION, Role.ADMIN),
]
