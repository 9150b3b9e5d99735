"""Error logs: structured tracebacks that never carry the frames' local variables."""

from __future__ import annotations

import orjson
import structlog

from shared.logging import configure_logging


def test_an_error_log_has_the_traceback_but_not_the_secrets_in_its_frames(capsys):
    configure_logging("INFO")
    log = structlog.get_logger("test")
    token = "Bearer eyJhbGciOiJIUzI1NiJ9.secret-payload.signature"

    def handler(authorization: str) -> None:
        raise RuntimeError("database away")

    try:
        handler(token)
    except RuntimeError:
        log.exception("unhandled_error")

    line = capsys.readouterr().out.strip().splitlines()[-1]
    record = orjson.loads(line)
    frames = record["exception"][0]["frames"]
    assert record["exception"][0]["exc_value"] == "database away"
    assert frames[-1]["name"] == "handler"
    assert "secret-payload" not in line
    assert all("locals" not in frame for frame in frames)
