"""The trainer board in pages (issue 20): ``GET /board/trainers?limit=&cursor=`` walks the rows by
session, then trainer, each page with the cursor of the next; the pages together are the whole
board, which ``GET /board/trainers`` without ``limit`` still answers at once (the contract's
shape). The penalties are appended to the service's store as its session closes record them."""

from __future__ import annotations

from shared.events import NewEvent
from shared.eventstore import ANY_VERSION

SESSIONS, TRAINERS = ("s-1", "s-2", "s-3"), ("tr-a", "tr-b", "tr-c")


def penalty(session_id: str, trainer_id: str) -> NewEvent:
    trainees = [f"t-{session_id}-{trainer_id}-{n}" for n in range(4)]
    data = {
        "session_id": session_id,
        "trainer_id": trainer_id,
        "product_series": "X1",
        "trainees": trainees,
        "failed": trainees[:2],
        "failure_rate": "0.5",
        "fine": "200",
        "policy_version": "2026-01",
        "rule_trace": ["R-24: 2 of 4"],
        "assessed_on": "2026-03-20",
        "content": None,
    }
    return NewEvent("TrainerPenaltyAssessed", data)


async def pages(svc, **query: str) -> list[list[tuple[str, str]]]:
    found, cursor = [], None
    while True:
        params = {"limit": "4", **query} | ({"cursor": cursor} if cursor else {})
        answer = await svc.client.get("/board/trainers", params=params, headers=svc.management())
        assert answer.status_code == 200, answer.text
        found.append([(r["session_id"], r["trainer_id"]) for r in answer.json()["rows"]])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return found


async def test_the_pages_walk_the_whole_board(svc):
    store = svc.service.app.state.store
    for session_id in reversed(SESSIONS):
        for trainer_id in TRAINERS:
            await store.append(
                f"session-{session_id}", [penalty(session_id, trainer_id)], ANY_VERSION
            )
    whole = await svc.eventually("/board/trainers", svc.manager(), lambda b: len(b["rows"]) == 9)
    assert whole["next_cursor"] is None
    everything = [(r["session_id"], r["trainer_id"]) for r in whole["rows"]]
    assert everything == [(s, t) for s in SESSIONS for t in TRAINERS]
    assert whole["rows"][0]["trainees"] == 4 and len(whole["rows"][0]["trainee_ids"]) == 4

    walked = await pages(svc)
    assert [len(page) for page in walked] == [4, 4, 1]
    assert [key for page in walked for key in page] == everything
    one_session = await pages(svc, session_id="s-2")
    assert one_session == [[("s-2", t) for t in TRAINERS]]


async def test_bad_limits_and_cursors_are_422s_naming_the_field(svc):
    for query, field in (
        ("limit=0", "query.limit"),
        ("limit=501", "query.limit"),
        ("limit=5&cursor=not-a-cursor", "query.cursor"),
        ("limit=5&cursor=czEtMQ", "query.cursor"),  # "s1-1": one id, not a pair
    ):
        answer = await svc.client.get(f"/board/trainers?{query}", headers=svc.manager())
        assert answer.status_code == 422, (query, answer.text)
        assert field in [e["field"] for e in answer.json()["errors"]], answer.json()
