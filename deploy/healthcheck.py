#!/usr/bin/env python3
"""gradeline-healthcheck [PATH]: the container's health check, without curl in the image.

GETs ``http://127.0.0.1:<port><PATH>`` (``/health`` by default: liveness, no dependency
consulted; ``/ready`` checks the database, the broker and the background tasks) and exits 0 on a
200 answer, 1 otherwise. The port is the one uvicorn was started with: the last ``--port`` on the
command line of the container's first process (``gradeline-serve`` execs uvicorn with it, and a
plain ``uvicorn ... --port N`` command has it too), else uvicorn's default 8000.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

UVICORN_DEFAULT_PORT = 8000
TIMEOUT_SECONDS = 3.0


def port_from_command_line(argv: Sequence[str]) -> int:
    """The last ``--port N`` or ``--port=N`` in ``argv``, else uvicorn's default."""
    port = UVICORN_DEFAULT_PORT
    for index, arg in enumerate(argv):
        if arg == "--port" and index + 1 < len(argv):
            port = int(argv[index + 1])
        elif arg.startswith("--port="):
            port = int(arg.split("=", 1)[1])
    return port


def read_command_line(path: str = "/proc/1/cmdline") -> list[str]:
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def main(argv: Sequence[str], cmdline_path: str = "/proc/1/cmdline") -> int:
    path = argv[1] if len(argv) > 1 else "/health"
    url = f"http://127.0.0.1:{port_from_command_line(read_command_line(cmdline_path))}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: {url} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
