"""The training service (:8002): plans, daily records, sign-offs, send-backs, demerits (R-8 to
R-14), fed by the enrollment events it consumes."""

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

from . import followup_routes, progress_export, reads, routes
from .concern_queue import CONCERNS
from .consumers import BINDING_KEYS, HANDLER
from .domain.events import registry as REGISTRY
from .plan_list import PLANS
from .policies import POLICIES
from .projections import PROGRESS

SERVICE = "training"
MIGRATIONS = [directory.MIGRATIONS, Path(__file__).parent / "migrations"]
PROJECTIONS = [PROGRESS, PLANS, CONCERNS, erasure_projection()]
# The personal fields of training's own events (docs/privacy.md); the upstream events it consumes
# need no entry: their tokens name their subject, and the key store is the deployment's one.
PERSONAL_FIELDS = personal_map(REGISTRY)

# ops/services.py (the CLI's catalog, rebuild and verify) looks these up by name.
__all__ = ["PROJECTIONS", "REGISTRY", "SERVICE", "create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_service_app(
        settings or Settings(),
        service=SERVICE,
        title="Gradeline training",
        routers=[
            routes.router,
            reads.router,
            progress_export.router,
            followup_routes.router,
            personal_data_router(SERVICE),
        ],
        migrations=MIGRATIONS,
        background=workers.consuming_service(HANDLER, BINDING_KEYS, PROJECTIONS),
        personal_fields=PERSONAL_FIELDS,
    )
    install_policies(app, POLICIES, REGISTRY)
    return app
