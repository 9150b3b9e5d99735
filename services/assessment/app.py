"""The assessment service (:8003): exam sessions, scores, grades, dispositions, disputes, trainer
penalties, the boards and the audit (R-14 to R-24), fed by the enrollment and training events it
consumes into its inbox."""

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

from . import board_export, reads, retraining, routes, trends, web, what_if_routes
from .consumers import BINDING_KEYS, HANDLER
from .domain.events import registry
from .policies import POLICIES
from .projections import GRADE_BOARD, TRAINER_BOARD

SERVICE = "assessment"
REGISTRY = registry  # ops/services.py and the event catalog look it up by this name
PROJECTIONS = [GRADE_BOARD, TRAINER_BOARD, trends.TRENDS, erasure_projection()]
MIGRATIONS = [directory.MIGRATIONS, Path(__file__).parent / "migrations"]


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_service_app(
        settings or Settings(),
        service=SERVICE,
        title="Gradeline assessment",
        routers=[
            routes.router,
            reads.router,
            board_export.router,
            retraining.router,
            trends.router,
            web.router,
            what_if_routes.router,
            personal_data_router(SERVICE),
        ],
        migrations=MIGRATIONS,
        background=workers.consuming_service(HANDLER, BINDING_KEYS, PROJECTIONS),
        # The reasons people write about a trainee are sealed with its key (docs/privacy.md).
        personal_fields=personal_map(registry),
    )
    install_policies(app, POLICIES, registry)
    return app
