"""Problem types whose ``type`` resolves (RFC 9457, section 3.1.1): every type a problem+json
answer can carry is a page that every service serves, and ``type`` is a relative reference with
the full path (``/problems/not-found``), so that, resolved against the answer's URL, it reaches
the service that answered, wherever it is deployed (an intranet host, a port offset).

The apps are built without their lifespan: the pages need no database and no broker."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from services.assessment.app import create_app as assessment_app
from services.compensation.app import create_app as compensation_app
from services.enrollment.app import create_app as enrollment_app
from services.training.app import create_app as training_app
from shared.docs_pages.rules import RULE_TITLES
from shared.problems import ProblemType, rule_uri, rule_violation
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APPS = {
    "enrollment": enrollment_app,
    "training": training_app,
    "assessment": assessment_app,
    "compensation": compensation_app,
}
EVERY_TYPE = [kind.uri for kind in ProblemType] + [rule_uri(rule) for rule in RULE_TITLES]


def client(service: str) -> httpx.AsyncClient:
    app = APPS[service](Settings(workers=[]))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc:8000")


@pytest.mark.parametrize("service", sorted(APPS))
async def test_every_problem_type_an_answer_can_carry_is_a_page_every_service_serves(service):
    async with client(service) as http:
        for uri in EVERY_TYPE:
            page = await http.get(uri)
            assert page.status_code == 200, (uri, page.status_code, page.text[:200])
            assert page.headers["content-type"] == "text/html; charset=utf-8", uri


@pytest.mark.parametrize("service", sorted(APPS))
async def test_the_type_of_an_answer_resolves_to_a_page_of_the_service_that_answered(service):
    async with client(service) as http:
        answer = await http.get("/no/such/route")
        problem_type = answer.json()["type"]
        page_url = urljoin(str(answer.url), problem_type)  # RFC 3986 section 5

        assert problem_type.startswith("/problems/"), "a relative reference with the full path"
        assert urlsplit(page_url).netloc == "svc:8000"
        page = await http.get(page_url)
        assert page.status_code == 200, page.text[:200]
        assert "404" in page.text and "not-found" in page.text


def test_a_rule_violation_names_the_rule_page_and_the_page_names_the_rule():
    """R-9 refused: the type is the rule's page."""
    assert rule_violation("R-9", "plan not approved").body()["type"] == "/problems/rules/R-9"


async def test_an_unknown_problem_type_or_rule_is_404():
    async with client("enrollment") as http:
        for uri in ("/problems/no-such-type", "/problems/rules/R-999"):
            answer = await http.get(uri)
            assert answer.status_code == 404, uri


def test_every_problem_type_page_says_its_status_and_what_to_do():
    for kind in ProblemType:
        assert kind.summary and kind.remedy, kind
        assert 400 <= kind.status < 600, kind


def test_every_rule_id_the_code_cites_has_a_page():
    """A rule id anywhere in the services' code (a refusal, a rule trace) is one of the pages."""
    cited = {
        rule
        for path in (ROOT / "services").rglob("*.py")
        for rule in re.findall(r"\bR-\d+[a-z]?\b", path.read_text())
    }
    assert cited - set(RULE_TITLES) == set()
