"""``gradeline people retention``: the people the ``retention`` policy proposes for erasure
(``GET /people/erasure-proposals``), and with ``--approve`` their erasure, one
``POST /people/{id}/erasure`` each, as the administrator (docs/http.md; issue 19)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from ops.credentials import command_token
from shared.auth import Role
from shared.settings import Settings

SERVICE = "enrollment"
ROLE = Role.ADMIN  # proposals and erasures are the organisation administrator's


class RetentionFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Erased:
    person_id: str
    status: int  # 202: erased (or erased before: the route appends nothing twice)


def _client(settings: Settings, host: str, transport: httpx.BaseTransport | None) -> httpx.Client:
    token = command_token(settings, [ROLE], what="gradeline people retention", ttl_seconds=600)
    return httpx.Client(
        base_url=f"http://{host}:{settings.port(SERVICE)}",
        headers={"Authorization": f"Bearer {token}"},
        transport=transport,
        timeout=60,
    )


def _checked(answer: httpx.Response, expected: int) -> Any:
    if answer.status_code != expected:
        detail = (
            answer.json().get("detail")
            if answer.headers.get("content-type", "").endswith("json")
            else answer.text[:200]
        )
        raise RetentionFailed(f"{answer.request.url} answered {answer.status_code}: {detail}")
    return answer.json()


def proposals(
    settings: Settings,
    as_of: date | None = None,
    host: str = "127.0.0.1",
    transport: httpx.BaseTransport | None = None,
) -> dict[str, Any]:
    """The proposals as enrollment answers them: ``{as_of, policy_version, proposals}``."""
    params = {"as_of": as_of.isoformat()} if as_of else {}
    try:
        with _client(settings, host, transport) as client:
            return dict(_checked(client.get("/people/erasure-proposals", params=params), 200))
    except httpx.HTTPError as exc:
        raise RetentionFailed(f"{SERVICE} is not reachable on {host}: {exc}") from exc


def reason(proposal: dict[str, Any], policy_version: str) -> str:
    """What the erasure records as its reason: the rule that made it due."""
    return (
        f"retention {policy_version}: {proposal['category']} since {proposal['since']},"
        f" due {proposal['due_on']}"
    )


def approve(
    settings: Settings,
    answer: dict[str, Any],
    host: str = "127.0.0.1",
    transport: httpx.BaseTransport | None = None,
) -> list[Erased]:
    """Erase every proposed person (the approval): the first refusal stops the run."""
    done = []
    try:
        with _client(settings, host, transport) as client:
            for proposal in answer["proposals"]:
                person = proposal["person_id"]
                erased = client.post(
                    f"/people/{person}/erasure",
                    json={"reason": reason(proposal, answer["policy_version"])},
                    headers={"Idempotency-Key": f"retention-erasure-{person}"},
                )
                _checked(erased, 202)
                done.append(Erased(person, erased.status_code))
    except httpx.HTTPError as exc:
        raise RetentionFailed(f"{SERVICE} is not reachable on {host}: {exc}") from exc
    return done
