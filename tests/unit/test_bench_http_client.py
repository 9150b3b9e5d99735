"""bench/ has one hand-written HTTP/1.1 client (``bench.loadgen``): the load generator of the
``http`` and ``propagation`` suites drives its connections directly, and the load tool's
httpx-like client (``bench.load.http.LeanClient``) sends over the same connections. Both are run
here against a small HTTP/1.1 server on a local port, which answers as uvicorn does (every
response with a Content-Length)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from bench import loadgen
from bench.load import http as lean


@dataclass
class Server:
    """Answers 200 with the request's path as body; ``/slow`` never; ``/drop`` hangs up."""

    port: int = 0
    connections: int = 0
    seen: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                line, *rest = head.decode().split("\r\n")
                headers = {
                    k.lower(): v.strip() for k, _, v in (h.partition(":") for h in rest if h)
                }
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                path = line.split()[1]
                self.seen.append((line, headers, body))
                if path == "/drop":
                    return
                if path == "/slow":
                    await asyncio.sleep(5)
                answer = path.encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(answer), answer)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    listening = await asyncio.start_server(state.serve, "127.0.0.1", 0)
    state.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield state
        for handler in state.handlers:  # the one still answering /slow
            handler.cancel()
        await asyncio.gather(*state.handlers, return_exceptions=True)


async def test_a_connection_answers_the_status_the_head_and_the_body(server):
    conn = await loadgen.connect("127.0.0.1", server.port)
    try:
        status, head, body = await conn.request(
            loadgen.request("POST", "/trainees", "127.0.0.1", {"X-Key": "k"}, b'{"a": 1}')
        )
    finally:
        conn.close()

    assert (status, body) == (200, b"/trainees")
    assert loadgen.parse_headers(head)["retry-after"] == "1"
    line, headers, sent = server.seen[0]
    assert line == "POST /trainees HTTP/1.1"
    assert (headers["content-type"], headers["content-length"], headers["x-key"]) == (
        "application/json",
        "8",
        "k",
    )
    assert sent == b'{"a": 1}'


async def test_the_load_tools_client_sends_over_the_load_generators_connections(server):
    recorder = lean.Recorder()
    client = lean.LeanClient(
        "training",
        f"http://127.0.0.1:{server.port}",
        recorder,
        lean.Duplicates(fraction=0.0),
        timeout=0.5,
    )
    try:
        got = await client.get("/plans", headers={"Authorization": "Bearer t"}, params={"a": "1"})
        put = await client.request(
            "PUT", "/plans/t-1", json={"stages": []}, headers={"Idempotency-Key": "k-1"}
        )
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/drop")
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")
    finally:
        await client.aclose()

    assert (got.status_code, got.text, got.headers["retry-after"]) == (200, "/plans?a=1", "1")
    assert (put.status_code, put.content) == (200, b"/plans/t-1")
    assert (
        server.seen[0][0] == "GET /plans?a=1 HTTP/1.1" and "content-length" not in server.seen[0][1]
    )
    assert server.seen[1][1]["content-length"] == str(len(b'{"stages":[]}'))
    assert server.connections == 2  # kept alive for the first three, then a new one
    assert recorder.statuses == {200: 2}
    assert recorder.transport_errors == {"RemoteProtocolError": 1, "ReadTimeout": 1}
    assert recorder.accepted["training"]["k-1"][:3] == ("PUT", "/plans/t-1", 200)
    # One client: the load tool's has no connection protocol of its own.
    protocols = [
        c for _, c in inspect.getmembers(lean, inspect.isclass) if issubclass(c, asyncio.Protocol)
    ]
    assert protocols == []
