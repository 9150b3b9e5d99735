"""The enrollment service (:8001): trainees, placement, withdrawal (R-1 to R-6), and the
organisation they belong to: branches and the staff who train and examine (R-2, R-5). It also
serves the workbench, the pages people work in (``/app/``, :mod:`.web`)."""

from __future__ import annotations

from fastapi import FastAPI

from shared import workers
from shared.api import create_service_app
from shared.policy_routes import install_policies
from shared.settings import Settings

from . import organisation_reads, organisation_routes, reads, retention, routes, web
from .domain.events import registry
from .policies import POLICIES
from .projections import DIRECTORY, ORGANISATION

SERVICE = "enrollment"
REGISTRY = registry  # the CLI's event catalog looks services' registries up by this name
PROJECTIONS = [DIRECTORY, ORGANISATION, retention.RETENTION]


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
            retention.router,
            web.router,
        ],
        background=[workers.relay(), workers.projections(PROJECTIONS), workers.sealer()],
    )
    install_policies(app, POLICIES, registry)
    return app
