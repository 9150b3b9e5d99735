"""The compensation service (:8004): pay rates from grades, payslips, branch fees and trainer fines
(R-19, R-24 to R-33), fed by the enrollment, assessment and training events it consumes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from shared import directory, workers
from shared.api import create_service_app
from shared.erasure import erasure_projection
from shared.personal import personal_map
from shared.personal_access import personal_data_router
from shared.policy_routes import install_policies
from shared.settings import Settings

from . import downloads, feedback, reads, routes, what_if_routes
from .consumers import BINDING_KEYS, HANDLER, SERVICE
from .domain.events import registry as REGISTRY
from .feed import BRANCH_FEED
from .policies import POLICIES
from .projections import PAYSLIPS

MIGRATIONS = [directory.MIGRATIONS, Path(__file__).parent / "migrations"]
PROJECTIONS = [PAYSLIPS, BRANCH_FEED, erasure_projection()]

__all__ = ["PROJECTIONS", "REGISTRY", "SERVICE", "create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_service_app(
        settings or Settings(),
        service=SERVICE,
        title="Gradeline compensation",
        routers=[
            routes.router,
            reads.router,
            downloads.router,
            feedback.router,
            what_if_routes.router,
            personal_data_router(SERVICE),
        ],
        migrations=MIGRATIONS,
        background=workers.consuming_service(HANDLER, BINDING_KEYS, PROJECTIONS),
        # Pay's own events hold numbers and ids only: nothing of them is personal today, and a
        # field marked so later is sealed from then on (docs/privacy.md).
        personal_fields=personal_map(REGISTRY),
    )
    install_policies(app, POLICIES, REGISTRY)
    return app
