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


def test_logs_follow_stdout_when_it_is_replaced_after_configuration(monkeypatch):
    """A process (or a test runner) may swap sys.stdout after logging was configured; writing to
    the stream that was current then (now closed) raised ValueError inside unrelated code."""
    import io
    import logging
    import sys

    first = io.StringIO()
    monkeypatch.setattr(sys, "stdout", first)
    configure_logging("INFO")
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stdout", second)

    structlog.get_logger("test").info("after_the_swap")
    logging.getLogger("stdlib").warning("stdlib_after_the_swap")

    lines = [orjson.loads(line) for line in second.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["after_the_swap", "stdlib_after_the_swap"]
