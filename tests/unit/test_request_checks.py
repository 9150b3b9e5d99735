"""The checks every request of every service passes through run on the event loop."""

from __future__ import annotations

import inspect

from shared.requests import single_valued_query


def test_the_query_check_runs_on_the_event_loop_not_in_a_worker_thread():
    # FastAPI hands a plain ``def`` dependency to a worker thread on each request: a thread
    # hand-off per request for a check that never waits (docs/adr/0015).
    assert inspect.iscoroutinefunction(single_valued_query)
