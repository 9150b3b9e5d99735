"""The enrollment service (:8001): trainees, placement, withdrawal (R-1 to R-6), and the
organisation they belong to: branches and the staff who train and examine (R-2, R-5). It also
serves the workbench, the pages people work in (``/app/``, :mod:`.web`)."""

from __future__ import annotations

from fastapi import FastAPI

from shared import workers
from shared.api import create_service_app
from shared.erasure import erasure_projection
from shared.personal import personal_map
from shared.personal_access import personal_data_router
from shared.policy_routes import install_policies
from shared.settings import Settings

from . import (
    access_request,
    organisation_reads,
    organisation_routes,
    people_routes,
    reads,
    retention,
    routes,
    web,
)
from .domain.events import registry
from .policies import POLICIES
from .projections import DIRECTORY, ORGANISATION

SERVICE = "enrollment"
REGISTRY = registry  # the CLI's event catalog looks services' registries up by this name
PROJECTIONS = [DIRECTORY, ORGANISATION, erasure_projection(), retention.RETENTION]


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_service_app(
        settings or Settings(),
        service=SERVICE,
        title="Gradeline enrollment",
        routers=[
            routes.router,
            reads.router,
            organisation_routes.router,
            organisation_reads.router,
            people_routes.router,
            retention.router,
            web.router,
            access_request.router,
            personal_data_router(SERVICE),
        ],
        background=[workers.relay(), workers.projections(PROJECTIONS), workers.sealer()],
        # Names, certificates and reasons sealed with their person's key (docs/privacy.md).
        personal_fields=personal_map(registry),
    )
    install_policies(app, POLICIES, registry)
    return app
