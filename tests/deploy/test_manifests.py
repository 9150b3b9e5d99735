"""deploy/ checked statically: no Docker engine, no cluster, no broker, no network.

- the Dockerfile: the base, a non-root user, the project installed by pip, what it copies exists
  and is not filtered out of the build context, the health check;
- ``gradeline-serve`` and ``gradeline-healthcheck``, the image's two scripts, run for real;
- compose.yaml: parsed with PyYAML, its servers where ``make run`` looks for them, the four
  services with their ports, health checks, ``depends_on`` conditions and GRADELINE_* settings
  that ``shared.settings.Settings`` accepts;
- the RabbitMQ files: the definitions declare exactly the exchanges, queues (arguments included)
  and bindings that the services' ``create_app`` declares at start-up (recorded by
  ``tests.deploy.topology``), the plugins and the development user;
- the Kubernetes manifests: valid against the Kubernetes JSON schemas shipped by the
  ``kubernetes-validate`` package (strict, offline), and consistent with one another and with the
  code (ports, probes, settings, Secret keys, selectors).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

from shared.settings import DEVELOPMENT_JWT_SECRET, SERVICE_PORTS, Settings
from shared.topology import CONSUMERS, Topology
from tests.deploy.topology import declared_definitions, producer_definitions, service_wiring

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
RABBITMQ = DEPLOY / "rabbitmq"
PREFIX = "GRADELINE_"
SECRET_SETTINGS = {"jwt_secret", "seal_key", "pg_dsn", "amqp_url"}
# The oldest Kubernetes minor the manifests target (1.29) or the oldest schema shipped after it,
# and the newest schema the installed validator ships.
_SHIPPED = [v for v in all_versions() if tuple(map(int, v.split(".")[:2])) >= (1, 29)]
K8S_VERSIONS = (_SHIPPED[0], _SHIPPED[-1])
PLACEHOLDER = "REPLACE-ME"


@pytest.fixture(autouse=True)
def no_gradeline_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings built here come from the files only, not from the machine's GRADELINE_*."""
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)


# --- helpers ---------------------------------------------------------------------------------


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def load_compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def interpolate(value: Any) -> str:
    """Compose's ``${VAR:-default}`` with VAR unset; a bare ``${VAR}`` is an error here."""
    text = str(value)
    bare = re.search(r"\$\{(\w+)\}", text)
    assert bare is None, f"{text!r} needs {bare and bare.group(1)} set: give it a default"
    return re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", text)


def settings_from_environment(environment: dict[str, Any], where: str) -> Settings:
    """The Settings a process gets from ``environment``; every name must be a setting."""
    values: dict[str, str] = {}
    for name, value in environment.items():
        assert name.startswith(PREFIX), f"{where}: {name} is not a GRADELINE_* setting"
        field = name.removeprefix(PREFIX).lower()
        assert field in Settings.model_fields, f"{where}: {name} is not in shared.settings"
        values[field] = interpolate(value)
    return Settings.model_validate(values)


def published(ports: list[str]) -> dict[int, tuple[str, int]]:
    """compose port strings -> {container port: (host address, host port)}."""
    found: dict[int, tuple[str, int]] = {}
    for entry in ports:
        parts = str(entry).split(":")
        address = parts[0] if len(parts) == 3 else "0.0.0.0"
        found[int(parts[-1])] = (address, int(parts[-2]))
    return found


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += " " + stripped.removesuffix("\\").strip()
        if stripped.endswith("\\"):
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name.replace(".", "_"), DEPLOY / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                documents.append((path.name, document))
    return documents


def k8s_objects(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in k8s_documents() if d["kind"] == kind}


def only(kind: str) -> dict[str, Any]:
    objects = k8s_objects(kind)
    assert len(objects) == 1, f"expected one {kind}, found {sorted(objects)}"
    return next(iter(objects.values()))


def container_of(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: one container expected"
    return containers[0]


def container_port(container: dict[str, Any], port: int | str) -> int:
    """A probe's or Service's port, by number or by the container port's name."""
    for declared in container["ports"]:
        if port in (declared["containerPort"], declared.get("name")):
            return int(declared["containerPort"])
    raise AssertionError(f"{container['name']}: no container port {port!r}")


def deployment_environment(deployment: dict[str, Any]) -> dict[str, str]:
    """The GRADELINE_* a Deployment's container gets from the ConfigMap, Secret and values."""
    configmaps, secrets = k8s_objects("ConfigMap"), k8s_objects("Secret")
    container, environment = container_of(deployment), {}
    for source in container.get("envFrom", []):
        reference = source["configMapRef"]["name"]
        assert reference in configmaps, f"envFrom names a missing ConfigMap {reference}"
        environment.update(configmaps[reference]["data"])
    for variable in container.get("env", []):
        if "value" in variable:
            environment[variable["name"]] = variable["value"]
            continue
        reference = variable["valueFrom"]["secretKeyRef"]
        secret = secrets.get(reference["name"])
        assert secret is not None, f"{variable['name']}: missing Secret {reference['name']}"
        assert reference["key"] in secret["stringData"], (
            f"{variable['name']}: Secret {reference['name']} has no key {reference['key']}"
        )
        environment[variable["name"]] = secret["stringData"][reference["key"]]
    return environment


def rabbitmq_password_hash_matches(password_hash: str, password: str) -> bool:
    """rabbit_password_hashing_sha256: base64(salt(4) + sha256(salt + password))."""
    raw = base64.b64decode(password_hash)
    salt, digest = raw[:4], raw[4:]
    return hashlib.sha256(salt + password.encode()).digest() == digest


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network fails the test: CI has the registries at install only."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


# --- the image -------------------------------------------------------------------------------


def test_image_is_python_311_slim_running_as_a_non_root_user() -> None:
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim")
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users, "the runtime stage never leaves root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    last_user = max(i for i, (keyword, _) in enumerate(stage) if keyword == "USER")
    assert last_user < max(i for i, (keyword, _) in enumerate(stage) if keyword == "CMD")


def test_image_installs_the_project_with_pip_and_copies_every_package() -> None:
    instructions = dockerfile_instructions()
    runs = [arguments for keyword, arguments in instructions if keyword == "RUN"]
    assert any(re.search(r"pip install (\S+ )*\.$", run) for run in runs), runs
    copied = {
        Path(part).as_posix()
        for keyword, arguments in instructions
        if keyword == "COPY" and "--from=" not in arguments
        for part in arguments.split()[:-1]
        if not part.startswith("--")
    }
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    for pattern in packages:  # "shared*": the package directory shared/
        assert pattern.rstrip("*") in copied, f"{pattern} is installed but not copied"
    assert {"pyproject.toml", pyproject["project"]["readme"]} <= copied


def test_every_file_the_image_copies_exists_and_is_in_the_build_context() -> None:
    ignored = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ".venv" in ignored, "the virtual environment would be sent as build context"
    for keyword, arguments in dockerfile_instructions():
        if keyword != "COPY" or "--from=" in arguments:
            continue
        for source in [p for p in arguments.split()[:-1] if not p.startswith("--")]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            hits = [p for p in ignored if fnmatch(source, p) or source.startswith(p + "/")]
            assert not hits, f"COPY {source} is excluded from the build context by {hits}"


def test_image_health_check_runs_the_health_script_on_health() -> None:
    stage = final_stage()
    checks = [arguments for keyword, arguments in stage if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    command = json.loads(checks[0].split(" CMD ", 1)[1])
    assert command == ["gradeline-healthcheck", "/health"]
    installed = {
        arguments.split()[-1]: arguments.split()[-2]
        for keyword, arguments in stage
        if keyword == "COPY" and "--from=" not in arguments
    }
    assert installed["/usr/local/bin/gradeline-healthcheck"] == "deploy/healthcheck.py"
    assert installed["/usr/local/bin/gradeline-serve"] == "deploy/serve.sh"


def test_image_exposes_the_ports_of_the_four_services() -> None:
    exposed = [arguments for keyword, arguments in final_stage() if keyword == "EXPOSE"]
    assert sorted(int(p) for line in exposed for p in line.split()) == sorted(
        SERVICE_PORTS.values()
    )


# --- the image's scripts ---------------------------------------------------------------------


@pytest.fixture
def fake_uvicorn(tmp_path: Path) -> dict[str, str]:
    """PATH with a ``uvicorn`` that prints its arguments, then this venv's python."""
    stub = tmp_path / "uvicorn"
    stub.write_text('#!/bin/sh\necho "uvicorn $*"\n')
    stub.chmod(0o755)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    environment["PATH"] = os.pathsep.join(
        [str(tmp_path), str(Path(sys.executable).parent), environment.get("PATH", "")]
    )
    environment["PYTHONPATH"] = str(ROOT)
    return environment


def serve(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """deploy/serve.sh with ``arguments``, in ``env``; its exit status left to the caller."""
    return subprocess.run(
        ["sh", str(DEPLOY / "serve.sh"), *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_serve_runs_uvicorn_with_the_service_factory_on_its_port(
    fake_uvicorn: dict[str, str],
) -> None:
    fake_uvicorn["GRADELINE_PORT_OFFSET"] = "100"
    ran = serve(fake_uvicorn, "training", "--workers", "1")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == [
        "uvicorn",
        "services.training.app:create_app",
        "--factory",
        "--host",
        "0.0.0.0",
        "--port",
        str(SERVICE_PORTS["training"] + 100),
        "--no-access-log",
        "--workers",
        "1",
    ]


def test_serve_refuses_an_unknown_service_and_invalid_settings(
    fake_uvicorn: dict[str, str],
) -> None:
    unknown = serve(fake_uvicorn, "billing")
    assert unknown.returncode != 0
    assert "unknown service 'billing'" in unknown.stderr
    assert "uvicorn" not in unknown.stdout
    fake_uvicorn["GRADELINE_ENVIRONMENT"] = "production"  # with the development JWT secret
    refused = serve(fake_uvicorn, "enrollment")
    assert refused.returncode != 0
    assert "GRADELINE_JWT_SECRET" in refused.stderr
    assert "uvicorn" not in refused.stdout


def test_health_check_finds_the_port_uvicorn_was_started_with() -> None:
    healthcheck = load_script("healthcheck.py")
    port = healthcheck.port_from_command_line
    assert port(["uvicorn", "services.training.app:create_app", "--port", "8002"]) == 8002
    assert port(["uvicorn", "x:app", "--port=8003"]) == 8003
    assert port(["uvicorn", "x:app", "--port", "8001", "--port", "9001"]) == 9001
    assert port(["uvicorn", "x:app"]) == 8000


class _Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 503)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_service(tmp_path: Path) -> Iterator[Path]:
    """A server answering /health 200 and anything else 503; yields a fake /proc/1/cmdline."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"\0".join([b"uvicorn", b"--port", str(server.server_port).encode()]))
    try:
        yield cmdline
    finally:
        server.shutdown()
        server.server_close()


def test_health_check_passes_on_200_and_fails_otherwise(local_service: Path) -> None:
    healthcheck = load_script("healthcheck.py")
    assert healthcheck.main(["gradeline-healthcheck"], str(local_service)) == 0
    assert healthcheck.main(["gradeline-healthcheck", "/ready"], str(local_service)) == 1
    nobody = local_service.with_name("nobody")
    nobody.write_bytes(b"uvicorn\0--port\0" + str(_free_port()).encode())
    assert healthcheck.main(["gradeline-healthcheck"], str(nobody)) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- compose ---------------------------------------------------------------------------------


def test_compose_runs_postgres_and_rabbitmq_with_health_checks() -> None:
    services = load_compose()["services"]
    assert services["postgres"]["image"] == "postgres:15"
    assert services["rabbitmq"]["image"] == "rabbitmq:3.13-management"
    for name in ("postgres", "rabbitmq"):
        check = services[name]["healthcheck"]["test"]
        assert check[0] in {"CMD", "CMD-SHELL"} and len(check) > 1, name
    # pg_isready over the socket says yes to the image's temporary first-start server.
    assert "-h" in services["postgres"]["healthcheck"]["test"]


def test_compose_servers_are_where_make_run_looks_for_them() -> None:
    """ops/launcher.py starts `postgres` and `rabbitmq`, then connects with the defaults."""
    services, defaults = load_compose()["services"], Settings()
    pg, amqp = urlsplit(defaults.pg_dsn), urlsplit(defaults.amqp_url)
    assert published(services["postgres"]["ports"])[5432] == (pg.hostname, pg.port)
    assert published(services["rabbitmq"]["ports"])[5672] == (amqp.hostname, amqp.port)
    if pg.password is None:  # the default DSN carries no password
        assert services["postgres"]["environment"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"


def test_make_run_starts_compose_services_that_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the servers are down and a Docker engine runs, the launcher asks compose for them."""
    from ops import launcher

    commands: list[list[str]] = []

    async def missing(settings: Settings) -> list[str]:
        return ["down"] if not commands else []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(launcher, "missing_servers", missing)
    monkeypatch.setattr(launcher, "docker_engine_running", lambda: True)
    monkeypatch.setattr(launcher.subprocess, "run", run)
    assert launcher.ensure_servers(Settings())
    (command,) = commands
    assert Path(command[command.index("-f") + 1]) == DEPLOY / "compose.yaml"
    wanted = command[command.index("up") + 1 :]
    named = [word for word in wanted if not word.startswith("-")]
    assert named and set(named) <= set(load_compose()["services"]), named


def test_compose_runs_each_service_from_the_one_image_on_its_port() -> None:
    compose = load_compose()
    services = compose["services"]
    images = set()
    for name, port in SERVICE_PORTS.items():
        service = services[name]
        images.add(service["image"])
        build = service["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (
            DEPLOY / "Dockerfile"
        )
        assert service["command"] == ["gradeline-serve", name]
        container, (address, host) = next(iter(published(service["ports"]).items()))
        assert container == port and host == port, f"{name}: {service['ports']}"
        assert address == "127.0.0.1"
        assert service["healthcheck"]["test"] == ["CMD", "gradeline-healthcheck", "/ready"]
    assert images == {f"gradeline:{project_version()}"}


def test_compose_services_wait_for_healthy_servers() -> None:
    services = load_compose()["services"]
    for name in SERVICE_PORTS:
        depends = services[name]["depends_on"]
        assert set(depends) == {"postgres", "rabbitmq"}, name
        for server in depends.values():
            assert server["condition"] == "service_healthy", name


def test_compose_services_get_valid_settings_pointing_at_the_compose_servers() -> None:
    services = load_compose()["services"]
    for name in SERVICE_PORTS:
        environment = services[name]["environment"]
        for required in ("GRADELINE_PG_DSN", "GRADELINE_AMQP_URL", "GRADELINE_JWT_SECRET"):
            assert required in environment, f"{name}: {required} missing"
        settings = settings_from_environment(environment, f"compose {name}")
        assert urlsplit(settings.pg_dsn).hostname == "postgres"
        assert urlsplit(settings.amqp_url).hostname == "rabbitmq"
        assert settings.port_offset == 0  # the published ports are the services' own
        assert settings.port(name) == SERVICE_PORTS[name]


def test_compose_mounts_the_plugins_configuration_and_definitions() -> None:
    rabbitmq = load_compose()["services"]["rabbitmq"]
    mounts = {}
    for volume in rabbitmq["volumes"]:
        source, target, *_ = volume.split(":")
        mounts[target] = source
    assert mounts["/etc/rabbitmq/enabled_plugins"] == "./rabbitmq/enabled_plugins"
    assert mounts["/etc/rabbitmq/definitions.json"] == "./rabbitmq/definitions.json"
    configuration = [t for t, s in mounts.items() if s == "./rabbitmq/rabbitmq.conf"]
    assert configuration and configuration[0].startswith("/etc/rabbitmq/conf.d/")
    for source in mounts.values():
        if source.startswith("./"):
            assert (DEPLOY / source).is_file(), source


# --- RabbitMQ --------------------------------------------------------------------------------


def rabbitmq_conf() -> dict[str, str]:
    entries = {}
    for line in (RABBITMQ / "rabbitmq.conf").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            entries[key.strip()] = value.strip()
    return entries


def definitions() -> dict[str, Any]:
    return json.loads((RABBITMQ / "definitions.json").read_text())


def compose_service_settings() -> Settings:
    environment = load_compose()["services"]["training"]["environment"]
    return settings_from_environment(environment, "compose training")


def test_rabbitmq_enables_the_consistent_hash_exchange_plugin() -> None:
    text = (RABBITMQ / "enabled_plugins").read_text().strip()
    assert re.fullmatch(r"\[[a-z_,\s]*\]\.", text), f"not an Erlang list term: {text!r}"
    plugins = {p.strip() for p in text[1:-2].split(",")}
    # The mounted file replaces the management image's own: keep its UI enabled too.
    assert {"rabbitmq_consistent_hash_exchange", "rabbitmq_management"} <= plugins


def test_rabbitmq_loads_the_definitions_mounted_by_compose() -> None:
    assert rabbitmq_conf()["load_definitions"] == "/etc/rabbitmq/definitions.json"


def test_rabbitmq_definitions_are_what_the_services_declare() -> None:
    """Exchanges, queues (with their arguments: a mismatch fails the services' own declare with
    PRECONDITION_FAILED) and bindings, exactly; regenerate with ``python -m
    tests.deploy.topology``."""
    expected = declared_definitions(compose_service_settings())
    found = definitions()
    assert expected["queues"], "no consuming service found: the recording is broken"
    for part in ("exchanges", "queues"):
        assert {e["name"]: e for e in found[part]} == {e["name"]: e for e in expected[part]}
    key = json.dumps
    assert sorted(map(key, found["bindings"])) == sorted(map(key, expected["bindings"]))


def test_the_topology_table_is_what_each_consuming_service_binds() -> None:
    """``shared.topology.CONSUMERS`` is the one definition: the consumers wired by each
    service's ``create_app`` take their binding keys from it."""
    consuming = {
        w.service: w.binding_keys
        for w in service_wiring(compose_service_settings()).values()
        if w.binding_keys is not None
    }
    assert consuming == CONSUMERS


def test_rabbitmq_definitions_are_what_the_producers_declare_before_publishing() -> None:
    """Each producer's relay declares the queues of every service consuming it before its first
    publish (issue 14, item 0): together the producers declare the whole file's topology."""
    expected = producer_definitions(compose_service_settings())
    found = definitions()
    for part in ("exchanges", "queues"):
        assert {e["name"]: e for e in found[part]} == {e["name"]: e for e in expected[part]}
    key = json.dumps
    assert sorted(map(key, found["bindings"])) == sorted(map(key, expected["bindings"]))


def test_rabbitmq_definitions_partition_every_consuming_service_by_its_binding_keys() -> None:
    settings = compose_service_settings()
    found = definitions()
    queues = {q["name"]: q for q in found["queues"]}
    exchanges = {e["name"]: e for e in found["exchanges"]}
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in found["bindings"]}
    consuming = {
        w.service: w.binding_keys
        for w in service_wiring(settings).values()
        if w.binding_keys is not None
    }
    assert set(consuming) == {"training", "assessment", "compensation"}
    assert consuming["training"] == ("enrollment.*", "assessment.*")  # R-18a: dispositions
    for service, keys in consuming.items():
        topology = Topology(settings.namespace, service, settings.consumer_partitions)
        assert exchanges[topology.partition_exchange]["type"] == "x-consistent-hash"
        for key in keys:
            assert (settings.exchange_name(), topology.partition_exchange, key) in bindings
        for index in range(4):
            queue = queues[topology.partition_queue(index)]
            assert queue["arguments"]["x-queue-type"] == "quorum"
            assert queue["arguments"]["x-single-active-consumer"] is True
            assert queue["arguments"]["x-dead-letter-exchange"] == topology.dead_letter_exchange
            assert (topology.partition_exchange, queue["name"], "1") in bindings
        assert topology.partition_queue(4) not in queues
        assert queues[topology.dead_letter_queue]["arguments"]["x-queue-type"] == "quorum"
    assert not any(".enrollment." in name for name in queues), "enrollment consumes nothing"


def test_rabbitmq_definitions_let_the_configured_user_in() -> None:
    """Boot-time definitions skip the default user: the file must bring the services' user."""
    found = definitions()
    users = {u["name"]: u for u in found["users"]}
    for url in (compose_service_settings().amqp_url, Settings().amqp_url):
        parts = urlsplit(url)
        vhost = parts.path[1:] or "/"
        user = users[parts.username]
        assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
        assert rabbitmq_password_hash_matches(user["password_hash"], parts.password or "")
        assert {"name": vhost} in found["vhosts"]
        assert {
            "user": parts.username,
            "vhost": vhost,
            "configure": ".*",
            "write": ".*",
            "read": ".*",
        } in found["permissions"]
        assert all(e["vhost"] == vhost for e in found["exchanges"] + found["queues"])
    # The host reaches the container through Docker's port mapping, not over loopback.
    assert rabbitmq_conf()["loopback_users.guest"] == "false"


def test_password_hash_check_detects_a_wrong_password() -> None:
    guest = next(u for u in definitions()["users"] if u["name"] == "guest")
    assert not rabbitmq_password_hash_matches(guest["password_hash"], "not-guest")


# --- Kubernetes ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_manifests_match_the_schemas_offline(version: str, no_network: None) -> None:
    documents = k8s_documents()
    assert len(documents) >= 3 + 2 * len(SERVICE_PORTS)
    for filename, document in documents:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(map(str, exc.path))
            pytest.fail(f"{filename} {document['kind']}: {path}: {exc.message}")


def test_kubernetes_validator_rejects_broken_manifests(no_network: None) -> None:
    """The schemas really are applied: a wrong type and a misspelt field are caught."""
    deployment = k8s_objects("Deployment")["training"]
    wrong_type = json.loads(json.dumps(deployment))
    wrong_type["spec"]["replicas"] = "two"
    misspelt = json.loads(json.dumps(deployment))
    container_of(misspelt)["readinesProbe"] = container_of(misspelt).pop("readinessProbe")
    for broken in (wrong_type, misspelt):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)


def test_kubernetes_objects_live_in_the_gradeline_namespace() -> None:
    namespace = only("Namespace")["metadata"]["name"]
    for filename, document in k8s_documents():
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == namespace, filename
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["namespace"] == namespace
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def service_of(deployment: dict[str, Any]) -> str:
    """The Gradeline service a Deployment runs (its component label, and its command's)."""
    return str(deployment["metadata"]["labels"]["app.kubernetes.io/component"])


def role_of(deployment: dict[str, Any]) -> str:
    return str(deployment["spec"]["template"]["metadata"]["labels"]["gradeline/role"])


def test_kubernetes_runs_api_replicas_and_one_worker_deployment_per_service_with_probes() -> None:
    """Per service, the Deployment ``<service>`` (the API, replicas left to its HPA) and
    ``<service>-workers`` (one replica): the same image and command, probes on the right port."""
    deployments = k8s_objects("Deployment")
    assert set(deployments) == set(SERVICE_PORTS) | {f"{s}-workers" for s in SERVICE_PORTS}
    images = set()
    for name, deployment in deployments.items():
        service = service_of(deployment)
        port = SERVICE_PORTS[service]
        assert name in (service, f"{service}-workers")
        assert role_of(deployment) == ("api" if name == service else "workers"), name
        if name == service:
            assert "replicas" not in deployment["spec"], f"{name}: the HPA owns the replica count"
        else:
            assert deployment["spec"]["replicas"] == 1, name
        container = container_of(deployment)
        images.add(container["image"])
        assert container["command"] == ["gradeline-serve", service]
        assert [p["containerPort"] for p in container["ports"]] == [port]
        for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{name} {probe}"
            assert container_port(container, get["port"]) == port, f"{name} {probe}"
        resources = container["resources"]
        assert resources["requests"]["cpu"] and resources["requests"]["memory"], name
        assert resources["limits"]["memory"], name
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        selector = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), f"{name}: selector misses its pods"
        for other_name, other in deployments.items():  # no Deployment adopts another's pods
            other_labels = other["spec"]["template"]["metadata"]["labels"]
            assert other_name == name or not selector.items() <= other_labels.items()
    assert images == {f"gradeline:{project_version()}"}


def test_kubernetes_services_and_budgets_select_their_deployment_pods() -> None:
    """``<service>`` sends requests to the API replicas only; ``<service>-workers`` (headless)
    reaches the worker pod for Prometheus; the budget keeps an API replica up."""
    deployments, services = k8s_objects("Deployment"), k8s_objects("Service")
    budgets = k8s_objects("PodDisruptionBudget")
    assert set(services) == set(deployments)
    for name, port in SERVICE_PORTS.items():
        for target in (name, f"{name}-workers"):
            service = services[target]
            for other, deployment in deployments.items():
                labels = deployment["spec"]["template"]["metadata"]["labels"]
                selected = service["spec"]["selector"].items() <= labels.items()
                assert selected == (other == target), f"Service {target} and Deployment {other}"
            (exposed,) = service["spec"]["ports"]
            assert exposed["port"] == port and exposed["name"] == "http"
            container = container_of(deployments[target])
            assert container_port(container, exposed["targetPort"]) == port
        assert services[f"{name}-workers"]["spec"]["clusterIP"] == "None"
        selector = budgets[name]["spec"]["selector"]["matchLabels"]
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), name
    assert set(budgets) == set(SERVICE_PORTS)


def test_kubernetes_configmap_holds_only_non_secret_settings() -> None:
    data = only("ConfigMap")["data"]
    names = {key.removeprefix(PREFIX).lower() for key in data}
    assert all(key.startswith(PREFIX) for key in data), sorted(data)
    assert names <= set(Settings.model_fields), names - set(Settings.model_fields)
    assert not names & SECRET_SETTINGS, f"secrets in the ConfigMap: {names & SECRET_SETTINGS}"
    # The containers listen on the services' own ports, which the probes and Services name.
    assert data.get("GRADELINE_PORT_OFFSET", "0") == "0"
    assert data["GRADELINE_ENVIRONMENT"] == "production"


def test_kubernetes_secret_values_are_marked_placeholders() -> None:
    secret = only("Secret")
    assert secret["stringData"], "no Secret values"
    for key, value in secret["stringData"].items():
        assert PLACEHOLDER in value, f"{key} is not marked as a placeholder"
        assert value != DEVELOPMENT_JWT_SECRET
    assert PLACEHOLDER in (K8S / "secret.yaml").read_text().splitlines()[0]


def test_kubernetes_pods_get_valid_settings_with_their_own_database() -> None:
    deployments = k8s_objects("Deployment")
    dsns: dict[str, set[str]] = {}
    for name, deployment in deployments.items():
        environment = deployment_environment(deployment)
        for required in ("GRADELINE_PG_DSN", "GRADELINE_AMQP_URL", "GRADELINE_JWT_SECRET"):
            assert required in environment, f"{name}: {required} missing"
        settings = settings_from_environment(environment, f"Deployment {name}")
        assert settings.environment == "production"
        assert settings.port(service_of(deployment)) == SERVICE_PORTS[service_of(deployment)]
        dsns.setdefault(service_of(deployment), set()).add(settings.pg_dsn)
    # The API and the workers of a service share its database; each service has its own.
    assert all(len(found) == 1 for found in dsns.values()), dsns
    assert len(set.union(*dsns.values())) == len(SERVICE_PORTS), "a PostgreSQL DSN key each"


def test_kubernetes_settings_match_the_rabbitmq_definitions() -> None:
    """The definitions are imported into the cluster's broker: same names, same partitions."""
    environment = deployment_environment(k8s_objects("Deployment")["training"])
    settings = settings_from_environment(environment, "Deployment training")
    assert declared_definitions(settings)["queues"] == definitions()["queues"]
