"""A person's access request across the four services (PIPL Art. 45; docs/privacy.md).

``GET /people/{person_id}/data`` gathers enrollment's own part and each other service's
``GET /people/{person_id}/data/local`` (:mod:`shared.personal_access`), asked over HTTP with the
caller's token; ``GET /people/{person_id}/data.xlsx`` is the same as a workbook
(:mod:`.access_export`). The answer is complete or it is not given: a service that cannot be
reached or does not answer makes it a 503 or 502 naming the service, never a partial answer.
"""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from shared.auth import CurrentPrincipal
from shared.personal_access import LocalData, PersonIdPath, local_part, may_access
from shared.problems import Problem

from .access_export import XLSX, workbook

SERVICE = "enrollment"
PEERS = ("training", "assessment", "compensation")
PEER_TIMEOUT_SECONDS = 60.0

router = APIRouter(tags=["personal data"])


class PersonData(BaseModel):
    """Everything the four services hold about a person, by service."""

    person_id: str
    services: dict[str, LocalData]  # enrollment, training, assessment, compensation


@router.get("/people/{person_id}/data")
async def person_data(
    person_id: PersonIdPath, principal: CurrentPrincipal, request: Request
) -> PersonData:
    """Everything the four services hold about the person: every event of theirs (personal
    fields revealed) and every read-model row naming them, by service. To the person themself
    (the token's ``sub``) or ``admin``; anyone else 403. 502/503 naming the service that did not
    answer: nothing is answered incomplete."""
    may_access(principal, person_id)
    return await gathered(request, person_id)


@router.get(
    "/people/{person_id}/data.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def person_data_xlsx(
    person_id: PersonIdPath, principal: CurrentPrincipal, request: Request
) -> Response:
    """``GET /people/{person_id}/data`` as a workbook: per service a sheet of events and a sheet
    of read-model rows, headers in Chinese and English."""
    may_access(principal, person_id)
    data = await gathered(request, person_id)
    disposition = f'attachment; filename="personal-data-{person_id}.xlsx"'
    return Response(
        workbook(data.person_id, data.services),
        media_type=XLSX,
        headers={"Content-Disposition": disposition},
    )


async def gathered(request: Request, person_id: str) -> PersonData:
    own = await local_part(request.app.state, SERVICE, person_id)
    parts = await asyncio.gather(*(_ask(request, peer, person_id) for peer in PEERS))
    return PersonData(
        person_id=person_id, services={SERVICE: own, **dict(zip(PEERS, parts, strict=True))}
    )


async def _ask(request: Request, peer: str, person_id: str) -> LocalData:
    """The peer's part, asked with the caller's token."""
    state = request.app.state
    headers = {"Authorization": request.headers.get("Authorization", "")}
    transport = getattr(state, "peer_transports", {}).get(peer)  # tests: the peer in process
    base = state.settings.base_url(peer)
    async with httpx.AsyncClient(
        base_url=base, transport=transport, timeout=PEER_TIMEOUT_SECONDS
    ) as client:
        try:
            answer = await client.get(f"/people/{person_id}/data/local", headers=headers)
        except httpx.HTTPError as failed:
            raise _unanswered(503, peer, f"{peer} cannot be reached: {failed}") from None
    if answer.status_code != 200:
        raise _unanswered(502, peer, f"{peer} answered {answer.status_code}")
    try:
        part = LocalData.model_validate(answer.json())
    except ValueError:  # not JSON, or not the shape of a part
        raise _unanswered(502, peer, f"{peer} answered what is not its part") from None
    if (part.service, part.person_id) != (peer, person_id):
        raise _unanswered(502, peer, f"{peer} answered for {part.service}/{part.person_id}")
    return part


def _unanswered(status: int, peer: str, detail: str) -> Problem:
    text = f"{detail}; the person's data is not answered incomplete"
    return Problem(status, detail=text, headers={"Retry-After": "5"}, service=peer)
