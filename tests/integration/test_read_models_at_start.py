"""A read route over a projection answers from the first request a service serves, before its
projection runner has built anything: the read models' tables exist, empty, once start-up is over
(a 500 "relation proj_directory.trainees does not exist" before).

The runner of these apps never runs (``GRADELINE_WORKERS=relay``, an API-only replica): the
tables come from start-up alone, whoever builds them later and whenever.
"""

from __future__ import annotations

import pytest

from shared.auth import Role
from tests.support import long_secret, ok, running

# service -> the read routes over its projections (docs/http.md), as management reads them
READS = {
    "enrollment": ["/trainees", "/branches", "/staff"],
    "training": ["/board/progress"],
    "assessment": ["/board/grades", "/board/trainers"],
    "compensation": ["/employees/e-1/payslips"],
}


def create_app(service: str, settings):
    module = __import__(f"services.{service}.app", fromlist=["create_app"])
    return module.create_app(settings)


@pytest.mark.parametrize("service", sorted(READS))
async def test_a_read_model_not_built_yet_reads_as_empty_not_as_a_server_error(service, settings):
    settings = long_secret(settings).model_copy(update={"workers": ["relay"]})
    async with running(create_app(service, settings), settings, service) as svc:
        headers = svc.as_("mgr", Role.MANAGEMENT)
        for path in READS[service]:
            body = await ok(svc.client.get(path, headers=headers))
            assert body.get("items", body.get("rows")) == [], path  # empty, as nothing is built
        # nothing was built: the tables are start-up's, not a runner's
        assert await svc.pool.fetchval("SELECT count(*) FROM projection_versions") == 0


@pytest.mark.parametrize("service", sorted(READS))
async def test_the_first_request_after_start_up_finds_the_read_models(service, settings):
    """The whole service, asked at once: its runner is started but may not have run yet."""
    settings = long_secret(settings)
    async with running(create_app(service, settings), settings, service) as svc:
        headers = svc.as_("mgr", Role.MANAGEMENT)
        for path in READS[service]:
            await ok(svc.client.get(path, headers=headers))
