"""Assessment's dispositions in (R-18, R-18a): the latest one of each trainee, kept in table
``trainee_dispositions`` for the plan's remedial revision (domain/remedial.py).

Runs inside the inbox transaction like the enrollment handlers (:mod:`.consumers`), a tolerant
reader of the upstream JSON (only ``trainee_id``, ``outcome``, ``decided_on``, ``session_id``).
A late (re-driven) older disposition does not replace a newer one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.db import Conn

UPSTREAM = "assessment"
EVENT = "DispositionDecided"

_UPSERT = (
    "INSERT INTO trainee_dispositions (trainee_id, outcome, decided_on, session_id)"
    " VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (trainee_id) DO UPDATE SET outcome = EXCLUDED.outcome,"
    " decided_on = EXCLUDED.decided_on, session_id = EXCLUDED.session_id, updated_at = now()"
    " WHERE (EXCLUDED.decided_on, EXCLUDED.session_id)"
    " >= (trainee_dispositions.decided_on, trainee_dispositions.session_id)"
)


async def disposition_decided(conn: Conn, data: dict[str, Any]) -> None:
    await conn.execute(
        _UPSERT,
        data["trainee_id"],
        str(data["outcome"]),
        dt.date.fromisoformat(str(data["decided_on"])),
        str(data.get("session_id") or ""),
    )
