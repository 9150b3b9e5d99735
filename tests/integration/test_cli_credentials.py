"""The ``gradeline`` command against a production-like enrollment (ADR 0013; docs/identity.md,
"The command line"): the service trusts the development provider's tokens and refuses HS256, so
the command gets its token from the provider with the client-credentials grant of
``GRADELINE_CLI_CLIENT_ID`` / ``GRADELINE_CLI_CLIENT_SECRET``.

The command runs as an operator runs it (its typer app, settings from ``GRADELINE_*``) against
the service on a real TCP port and the real provider; every refusal is an exit code and a
message, never a traceback, and never shows the secret.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from ops import cli
from ops.credentials import forget_tokens
from ops.identity_provider import CLI_CLIENT, ServiceClient, start_provider
from services.enrollment.app import create_app
from shared.auth import Role, mint_token_for
from shared.settings import SERVICE_PORTS, Settings
from tests.e2e.test_dashboard import HttpServer
from tests.support import bearer, free_port, long_secret, running, trusting, xlsx

# A client the provider knows that holds payroll's role only: it may export pay, not import.
PAYROLL_JOB = ServiceClient("gradeline-payroll-job", "payroll-job-development-secret", ("payroll",))
SEAL_KEY = "a-production-seal-key-of-forty-bytes-x"
BRANCHES = xlsx(
    ["branch_id", "kind", "name_zh", "name_en"],
    ["bo-cli", "branch_office", "命令行办事处", "Command line branch office"],
)


@pytest.fixture(scope="module")
def provider():
    running_provider = start_provider(
        Settings(), port=free_port(), users=[], service_clients=[CLI_CLIENT, PAYROLL_JOB]
    )
    yield running_provider
    running_provider.stop()


def enrollment_socket() -> tuple[socket.socket, int]:
    """A socket on enrollment's port with some port offset, as the command will look for it."""
    for offset in random.sample(range(20_000, 50_000), 50):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", SERVICE_PORTS["enrollment"] + offset))
        except OSError:
            sock.close()
            continue
        return sock, offset
    pytest.fail("no free port for enrollment")


@pytest.fixture
async def production(settings, provider):
    """Enrollment as in production, trusting ``provider``: its settings, served on its port."""
    sock, offset = enrollment_socket()
    settings = trusting(long_secret(settings), provider).model_copy(
        update={
            "environment": "production",
            "seal_key": SecretStr(SEAL_KEY),
            "port_offset": offset,
            "pool_size": 3,
        }
    )
    async with running(create_app(settings), settings, "enrollment") as service:
        server = HttpServer(service.app, sock)
        await server.start()
        try:
            yield service
        finally:
            await server.stop()


@pytest.fixture(autouse=True)
def fresh_tokens() -> Iterator[None]:
    forget_tokens()
    yield
    forget_tokens()


def environment(settings: Settings, **client: str) -> dict[str, str]:
    """What an operator's shell would hold for this deployment."""
    return {
        "GRADELINE_ENVIRONMENT": "production",
        "GRADELINE_OIDC_ISSUER": str(settings.oidc_issuer),
        "GRADELINE_JWT_SECRET": settings.jwt_secret,
        "GRADELINE_SEAL_KEY": SEAL_KEY,
        "GRADELINE_PORT_OFFSET": str(settings.port_offset),
        "GRADELINE_CLI_CLIENT_ID": "",
        "GRADELINE_CLI_CLIENT_SECRET": "",
        **client,
    }


async def gradeline(env: dict[str, str], *args: str) -> Result:
    """The command, in a thread: the service answers on this test's event loop meanwhile."""
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, cli.app, list(args), env=env)


def client_env(settings: Settings, client: ServiceClient, secret: str | None = None):
    return environment(
        settings,
        GRADELINE_CLI_CLIENT_ID=client.client_id,
        GRADELINE_CLI_CLIENT_SECRET=secret or client.client_secret,
    )


def refused_cleanly(result: Result, *, secret: str | None = None) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if secret is not None:
        assert secret not in result.output
    return " ".join(result.output.split())  # rich wraps long lines


def branches_file(tmp_path: Path) -> Path:
    path = tmp_path / "branches.xlsx"
    path.write_bytes(BRANCHES)
    return path


async def test_the_command_imports_with_the_clients_token_where_hs256_is_refused(
    production, tmp_path
):
    settings = production.settings
    hs256 = mint_token_for(settings, "gradeline-cli", [Role.ADMIN])
    refused = await production.client.get("/people/erasure-proposals", headers=bearer(hs256))
    assert refused.status_code == 401, refused.text  # production with an issuer: HS256 refused

    result = await gradeline(
        client_env(settings, CLI_CLIENT), "import", "branches", str(branches_file(tmp_path))
    )

    assert result.exit_code == 0, result.output
    assert "imported 1 branches" in result.output and "bo-cli" in result.output
    actor = await production.pool.fetchval(
        "SELECT actor FROM events WHERE stream_id = 'branch-bo-cli'"
    )
    assert CLI_CLIENT.client_id in str(actor)  # the client's sub, as the provider issued it


async def test_retention_proposals_are_read_with_the_clients_token(production):
    result = await gradeline(
        client_env(production.settings, CLI_CLIENT), "people", "retention", "--as-of", "2026-03-01"
    )

    assert result.exit_code == 0, result.output
    assert "people due for erasure on 2026-03-01" in " ".join(result.output.split())


async def test_a_wrong_secret_is_refused_by_the_provider_with_a_message(production, tmp_path):
    wrong = "not-the-secret-of-gradeline-cli"

    result = await gradeline(
        client_env(production.settings, CLI_CLIENT, wrong),
        "import",
        "branches",
        str(branches_file(tmp_path)),
    )

    said = refused_cleanly(result, secret=wrong)
    assert "refused the client credentials of gradeline-cli" in said
    assert "invalid_client" in said and "GRADELINE_CLI_CLIENT_SECRET" in said
    assert (
        await production.pool.fetchval(
            "SELECT count(*) FROM events WHERE stream_id LIKE 'branch-%'"
        )
        == 0
    )


async def test_without_a_client_the_command_says_how_to_configure_one(production, tmp_path):
    result = await gradeline(
        environment(production.settings), "import", "branches", str(branches_file(tmp_path))
    )

    said = refused_cleanly(result)
    assert "refuse HS256 tokens in production" in said
    assert "GRADELINE_CLI_CLIENT_ID" in said and "GRADELINE_CLI_CLIENT_SECRET" in said


async def test_a_client_without_the_commands_role_is_told_which_role_it_needs(production, tmp_path):
    # A role grants only its own rights: payroll's account may not import the organisation.
    result = await gradeline(
        client_env(production.settings, PAYROLL_JOB),
        "import",
        "branches",
        str(branches_file(tmp_path)),
    )

    said = refused_cleanly(result, secret=PAYROLL_JOB.client_secret)
    assert "carry the roles payroll" in said and "needs admin" in said


async def test_the_demo_loader_refuses_where_only_the_providers_tokens_are_trusted(production):
    result = await gradeline(client_env(production.settings, CLI_CLIENT), "demo")

    said = refused_cleanly(result)
    assert "development (HS256) tokens" in said
