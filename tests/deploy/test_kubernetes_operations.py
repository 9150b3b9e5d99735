"""The Kubernetes part of issue 20's operations kit, checked against the code:

- ``GRADELINE_WORKERS`` used: API-only replicas scaled by an HPA, one worker Deployment;
- one Ingress host serving the workbench, the dashboard and each API (every route of every
  service reached, through the rewrite, at the path the service serves; ``/metrics`` not);
- CORS configured for that host; assessment told where compensation is;
- a NetworkPolicy per service: in from the ingress controller, Prometheus and the services that
  call it; out to DNS, PostgreSQL and RabbitMQ (where the Secret's addresses are), the identity
  provider, and the services it calls;
- Jobs for the CLI (``rebuild``, ``verify``, ``audit``) whose commands the CLI accepts.

The manifests' validity against the Kubernetes schemas is tests/deploy/test_manifests.py's.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from fastapi.routing import iter_route_contexts
from typer.main import get_command

from ops import cli, services
from shared.settings import SERVICE_PORTS, WORKERS, Settings
from tests.deploy.test_manifests import (
    K8S_VERSIONS,
    container_of,
    deployment_environment,
    k8s_objects,
    no_network,  # noqa: F401 (a fixture)
    only,
    settings_from_environment,
)

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
JOBS = K8S / "jobs"
# Who calls whom over HTTP inside the cluster: assessment's what-if asks compensation;
# enrollment will ask the other three for a person's data (access requests, issue 19).
CALLS = {
    "enrollment": {"training", "assessment", "compensation"},
    "assessment": {"compensation"},
    "training": set(),
    "compensation": set(),
}
COMPONENT = "app.kubernetes.io/component"


def labels_of(pod_owner: dict[str, Any]) -> dict[str, str]:
    spec = pod_owner["spec"]
    template = (
        spec["jobTemplate"]["spec"]["template"] if "jobTemplate" in spec else spec["template"]
    )
    return dict(template["metadata"]["labels"])


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels is read here"
    return bool(selector["matchLabels"].items() <= labels.items())


def api_and_workers(service: str) -> tuple[dict[str, Any], dict[str, Any]]:
    deployments = k8s_objects("Deployment")
    return deployments[service], deployments[f"{service}-workers"]


# --- processes: API replicas and one worker Deployment -----------------------------------------


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_api_replicas_run_no_workers_and_the_worker_deployment_runs_them_all(service: str) -> None:
    """GRADELINE_WORKERS="" for the API, every kind (relay, consumers, projections) in the one
    worker replica: each kind runs in exactly one Deployment of the service."""
    api, workers = api_and_workers(service)
    api_settings = settings_from_environment(deployment_environment(api), f"{service} API")
    worker_settings = settings_from_environment(
        deployment_environment(workers), f"{service} workers"
    )
    assert api_settings.workers == []
    assert worker_settings.workers == list(WORKERS)
    assert workers["spec"]["replicas"] == 1
    # The same service, database, broker and keys: only the workers differ.
    assert api_settings.model_dump(exclude={"workers"}) == worker_settings.model_dump(
        exclude={"workers"}
    )


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_an_hpa_scales_the_api_replicas_on_cpu(service: str) -> None:
    hpa = k8s_objects("HorizontalPodAutoscaler")[service]
    api, _ = api_and_workers(service)
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        service,
    )
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    # Utilization is relative to the request: the container must have one.
    assert container_of(api)["resources"]["requests"]["cpu"]
    assert set(k8s_objects("HorizontalPodAutoscaler")) == set(SERVICE_PORTS), (
        "no HPA on the workers"
    )


# --- Ingress -----------------------------------------------------------------------------------


@cache
def ingresses() -> dict[str, dict[str, Any]]:
    return k8s_objects("Ingress")


def host() -> str:
    hosts = {rule["host"] for ingress in ingresses().values() for rule in ingress["spec"]["rules"]}
    assert len(hosts) == 1, f"one host for everything: {hosts}"
    return hosts.pop()


def through_ingress(path: str) -> tuple[str, str] | None:
    """The (Service, path) a request for ``path`` reaches: ingress-nginx's regex paths (with
    ``rewrite-target``'s ``$n`` filled in) or Kubernetes' Exact and Prefix matching; the longest
    plain path wins, then the regexes, as nginx's locations do for these paths."""
    plain: list[tuple[int, str, str]] = []
    for ingress in ingresses().values():
        annotations = ingress["metadata"].get("annotations", {})
        regex = annotations.get("nginx.ingress.kubernetes.io/use-regex") == "true"
        rewrite = annotations.get("nginx.ingress.kubernetes.io/rewrite-target")
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                backend = entry["backend"]["service"]["name"]
                if regex:
                    assert entry["pathType"] == "ImplementationSpecific"
                    match = re.match(entry["path"], path)
                    if match:
                        target = re.sub(
                            r"\$(\d)",
                            lambda m, found=match: found.group(int(m.group(1))),
                            rewrite or path,
                        )
                        return backend, target
                    continue
                assert not rewrite
                wanted = entry["path"]
                if entry["pathType"] == "Exact" and path == wanted:
                    return backend, path
                prefix = entry["pathType"] == "Prefix"
                if prefix and (path == wanted or path.startswith(wanted.rstrip("/") + "/")):
                    plain.append((len(wanted), backend, path))
    return (max(plain)[1], max(plain)[2]) if plain else None


@cache
def routes(service: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """(path template, methods) of every route ``service``'s app serves."""
    module = importlib.import_module(f"services.{service}.app")
    app = module.create_app(Settings())
    return tuple(
        (context.path, frozenset(getattr(context, "methods", None) or ()))
        for context in iter_route_contexts(app.routes)
    )


def serves(service: str, path: str) -> bool:
    for template, _ in routes(service):
        pattern = re.sub(r"\{\w+:path\}", ".+", template)
        pattern = re.sub(r"\{\w+\}", "[^/]+", pattern)
        if re.fullmatch(pattern, path):
            return True
    return False


def concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", template)


def test_the_ingress_serves_one_host_over_tls() -> None:
    name = host()
    assert name.endswith(".example.com"), "a placeholder host, documented as such"
    for ingress in ingresses().values():
        assert ingress["spec"]["ingressClassName"] == "nginx"
        (tls,) = ingress["spec"]["tls"]
        assert tls["hosts"] == [name] and tls["secretName"]


def test_the_ingress_backends_are_the_services_ports() -> None:
    services_ = k8s_objects("Service")
    for ingress in ingresses().values():
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                backend = entry["backend"]["service"]
                ports = {p["name"] for p in services_[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in ports
                assert not backend["name"].endswith("-workers"), "requests go to the API replicas"


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/app/", "enrollment"),
        ("/app/app.js", "enrollment"),
        ("/dashboard", "assessment"),
        ("/dashboard/app.js", "assessment"),
        ("/pages/signin.js", "enrollment"),
        ("/pages/base.css", "enrollment"),
        ("/docs/assets/oidc-client-ts.min.js", "enrollment"),
        ("/auth/config", "enrollment"),
    ],
)
def test_the_pages_and_what_they_load_reach_a_service_that_serves_them(
    path: str, service: str
) -> None:
    """The workbench (enrollment's /app/) and the dashboard (assessment's /dashboard) load their
    files, the shared /pages/ and /docs/assets/ and the sign-in configuration by absolute paths
    on their own origin: all of it is routed, unchanged, to a service that serves it."""
    assert through_ingress(path) == (service, path)
    assert serves(service, path)


def test_the_pages_name_only_paths_the_ingress_routes() -> None:
    """Every absolute path the two pages' HTML loads is one of those routed above."""
    pages = [
        ROOT / "services" / "enrollment" / "workbench" / "index.html",
        ROOT / "services" / "assessment" / "dashboard" / "index.html",
    ]
    for page in pages:
        for path in re.findall(r'(?:src|href)="(/[^"]*)"', page.read_text()):
            routed = through_ingress(path)
            assert routed is not None, f"{page.name}: {path} is not routed"
            assert serves(routed[0], routed[1]), f"{page.name}: {path} -> {routed}"


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_every_route_of_every_api_is_reached_under_its_prefix(service: str) -> None:
    """/api/<service>/<route> reaches <route> on <service>, for every route it serves; the four
    services share route names (/policies/..., /health), which is why each has a prefix."""
    checked = 0
    for template, _ in routes(service):
        path = concrete(template)
        if path == "/metrics":
            continue
        assert through_ingress(f"/api/{service}{path}") == (service, path), template
        checked += 1
    assert checked > 5


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_metrics_are_not_published_through_the_ingress(service: str) -> None:
    assert serves(service, "/metrics")
    assert through_ingress(f"/api/{service}/metrics") is None
    assert through_ingress("/metrics") is None
    assert through_ingress(f"/api/{service}/metrics-of-something") is not None


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_the_pages_are_told_api_urls_the_ingress_routes_to_each_service(service: str) -> None:
    """GET /auth/config (served to the pages by enrollment, through the Ingress) names each
    API's address as the ConfigMap sets it: a path on the pages' own origin that the Ingress
    sends, prefix cut, to that service's routes."""
    settings = settings_from_environment(
        deployment_environment(api_and_workers("enrollment")[0]), "API"
    )
    urls = settings.pages_api_urls()
    assert urls is not None, "without GRADELINE_PAGES_API_URL the pages look for ports"
    base = urls[service]
    assert base.startswith("/"), "same-origin: the Ingress host serves the pages and the APIs"
    for path in ("/health", "/auth/config", "/policies/x"):
        assert through_ingress(base + path) == (service, path)
    assert serves(service, "/health")


def test_cors_admits_the_ingress_host_only() -> None:
    settings = settings_from_environment(
        deployment_environment(api_and_workers("assessment")[0]), "API"
    )
    assert settings.allowed_origins() == [f"https://{host()}"]


@pytest.mark.parametrize(
    ("caller", "callee"), sorted((c, callee) for c, callees in CALLS.items() for callee in callees)
)
def test_each_service_calls_the_others_through_their_services(caller: str, callee: str) -> None:
    """assessment's what-if asks compensation; enrollment's GET /people/{id}/data the other
    three: at the Service of the callee (the API replicas), on the port its policy opens."""
    for deployment in api_and_workers(caller):
        settings = settings_from_environment(deployment_environment(deployment), caller)
        url = urlsplit(settings.base_url(callee))
        service = k8s_objects("Service")[str(url.hostname)]
        assert service["metadata"]["labels"][COMPONENT] == callee
        assert service["spec"]["selector"]["gradeline/role"] == "api"
        assert url.port == service["spec"]["ports"][0]["port"] == SERVICE_PORTS[callee]


# --- NetworkPolicy -----------------------------------------------------------------------------


def policies() -> dict[str, dict[str, Any]]:
    return k8s_objects("NetworkPolicy")


def pods_of_service() -> dict[str, list[dict[str, str]]]:
    """Per service, the labels of every pod it runs: API, workers and CLI jobs."""
    pods: dict[str, list[dict[str, str]]] = {s: [] for s in SERVICE_PORTS}
    for kind in ("Deployment", "CronJob"):
        for owner in k8s_objects(kind).values():
            labels = labels_of(owner)
            pods[labels[COMPONENT]].append(labels)
    for path in sorted(JOBS.glob("*.yaml")):
        job = yaml.safe_load(path.read_text())
        labels = labels_of(job)
        pods[labels[COMPONENT]].append(labels)
    return pods


def namespace_of(peer: dict[str, Any]) -> str | None:
    selector = peer.get("namespaceSelector")
    return None if selector is None else str(selector["matchLabels"]["kubernetes.io/metadata.name"])


def host_namespace(url: str) -> tuple[str, int]:
    """``name.namespace.svc`` of a Secret URL: the namespace and the port."""
    parts = urlsplit(url)
    labels = str(parts.hostname).split(".")
    assert labels[2:3] == ["svc"], f"not a cluster Service address: {parts.hostname}"
    return labels[1], int(parts.port or 0)


def test_each_service_has_a_policy_for_all_its_pods_and_only_them() -> None:
    found = policies()
    assert set(found) == set(SERVICE_PORTS)
    pods = pods_of_service()
    for service, policy in found.items():
        spec = policy["spec"]
        assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"], (
            "deny what is not allowed, both ways"
        )
        assert len(pods[service]) >= 3, "API, workers and the CLI jobs"
        for owner, labels in ((s, lab) for s, group in pods.items() for lab in group):
            assert selects(spec["podSelector"], labels) == (owner == service), (service, labels)


def test_services_are_reached_from_the_ingress_controller_prometheus_and_their_callers() -> None:
    for service, policy in policies().items():
        namespaces, callers = set(), set()
        for rule in policy["spec"]["ingress"]:
            assert [p["port"] for p in rule["ports"]] == ["http"], service
            for peer in rule["from"]:
                assert "ipBlock" not in peer, f"{service}: in from pods only"
                namespace = namespace_of(peer)
                if namespace is None:
                    callers.add(peer["podSelector"]["matchLabels"][COMPONENT])
                else:
                    namespaces.add(namespace)
                    assert peer["podSelector"]["matchLabels"], (
                        f"{service}: a whole namespace admitted"
                    )
        assert namespaces == {"ingress-nginx", "monitoring"}, service
        assert callers == {c for c, callees in CALLS.items() if service in callees}, service


def test_services_reach_only_dns_their_servers_the_identity_provider_and_their_callees() -> None:
    secret = only("Secret")["stringData"]
    databases = {host_namespace(v) for k, v in secret.items() if k.startswith("pg-dsn-")}
    broker = {host_namespace(secret["amqp-url"])}
    for service, policy in policies().items():
        reached: dict[str, set[tuple[str, int]]] = {
            "namespaces": set(),
            "pods": set(),
            "ips": set(),
        }
        for rule in policy["spec"]["egress"]:
            ports = {(p["port"], p.get("protocol", "TCP")) for p in rule["ports"]}
            for peer in rule["to"]:
                namespace = namespace_of(peer)
                if "ipBlock" in peer:
                    reached["ips"] |= {(peer["ipBlock"]["cidr"], port) for port, _ in ports}
                elif namespace is None:
                    callee = peer["podSelector"]["matchLabels"][COMPONENT]
                    reached["pods"] |= {(callee, port) for port, _ in ports}
                else:
                    if namespace == "kube-system":
                        assert ports == {(53, "UDP"), (53, "TCP")}, service
                        assert peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
                    reached["namespaces"] |= {(namespace, port) for port, _ in ports}
        own_database = host_namespace(secret[f"pg-dsn-{service}"])
        assert own_database in reached["namespaces"], service
        assert reached["namespaces"] == {("kube-system", 53)} | databases | broker, service
        assert reached["pods"] == {(c, SERVICE_PORTS[c]) for c in CALLS[service]}, service
        ((_, port),) = reached["ips"]  # the identity provider's JWKS, over HTTPS
        assert port == 443, service


# --- the CLI as Jobs ---------------------------------------------------------------------------


def cli_jobs() -> dict[str, dict[str, Any]]:
    """name -> pod template of every CLI job: the CronJobs of cli.yaml and the jobs/ files."""
    templates = {
        n: c["spec"]["jobTemplate"]["spec"]["template"] for n, c in k8s_objects("CronJob").items()
    }
    for path in sorted(JOBS.glob("*.yaml")):
        job = yaml.safe_load(path.read_text())
        templates[path.name] = job["spec"]["template"]
    return templates


def parse_cli(arguments: list[str]) -> tuple[str, dict[str, Any]]:
    """The subcommand and its parameters as the CLI parses ``arguments`` (nothing is run)."""
    group = get_command(cli.app)
    name, *rest = arguments
    command = group.commands[name]  # type: ignore[attr-defined]
    context = command.make_context(name, rest)
    return name, dict(context.params)


def test_the_cli_parser_refuses_what_it_should() -> None:
    with pytest.raises(KeyError):
        parse_cli(["verfiy", "training"])
    with pytest.raises(Exception, match="Missing parameter: projection"):
        parse_cli(["rebuild", "assessment"])


def test_there_is_a_job_for_rebuild_verify_of_each_service_and_audit() -> None:
    commands = {}
    for name, template in cli_jobs().items():
        (container,) = template["spec"]["containers"]
        executable, *arguments = container["command"]
        assert executable == "gradeline", name
        commands[name] = parse_cli(arguments)
    verified = {p["service"] for c, p in commands.values() if c == "verify"}
    assert verified == set(SERVICE_PORTS)
    purged = {p["service"] for c, p in commands.values() if c == "purge"}
    assert purged == set(SERVICE_PORTS)
    assert {c for c, _ in commands.values()} == {"verify", "audit", "rebuild", "purge"}


@pytest.mark.parametrize("name", sorted(cli_jobs()))
def test_each_cli_job_names_a_real_service_and_gets_its_database(name: str) -> None:
    template = cli_jobs()[name]
    (container,) = template["spec"]["containers"]
    command, parameters = parse_cli(container["command"][1:])
    info = services.get(parameters["service"])
    if command == "rebuild":
        assert parameters["projection"] in {p.name for p in info.projections}
    if command == "audit":
        assert info.audit is not None
    assert template["metadata"]["labels"][COMPONENT] == info.name, "its NetworkPolicy selects it"
    assert template["spec"]["restartPolicy"] == "Never"
    environment = deployment_environment(
        {"metadata": {"name": name}, "spec": {"template": template}}
    )
    settings = settings_from_environment(environment, name)
    assert settings.environment == "production"
    api_environment = deployment_environment(api_and_workers(info.name)[0])
    assert environment["GRADELINE_PG_DSN"] == api_environment["GRADELINE_PG_DSN"]
    assert environment["GRADELINE_SEAL_KEY"] == api_environment["GRADELINE_SEAL_KEY"]


def test_the_cli_cronjobs_are_templates_that_do_not_run_by_themselves() -> None:
    """Checks are run by hand (suspended templates); only the housekeeping runs on schedule."""
    for name, cronjob in k8s_objects("CronJob").items():
        (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        scheduled = container["command"][1] == "purge"
        assert cronjob["spec"]["suspend"] is not scheduled, name
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid", name
        assert cronjob["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0, name


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_the_job_templates_match_the_schemas_offline(version: str) -> None:
    """jobs/ is not in kustomization.yaml (applying would run it): validated here instead."""
    paths = sorted(JOBS.glob("*.yaml"))
    assert paths
    for path in paths:
        job = yaml.safe_load(path.read_text())
        assert job["metadata"]["generateName"], "created with kubectl create, a new name each time"
        assert job["metadata"]["namespace"] == only("Namespace")["metadata"]["name"]
        kubernetes_validate.validate(job, version, strict=True)


# --- the documentation -------------------------------------------------------------------------


def test_the_deploy_readme_describes_the_split_it_deploys() -> None:
    text = (ROOT / "deploy" / "README.md").read_text()
    assert "The code has no such switch yet" not in text
    for name in (
        "GRADELINE_WORKERS",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "Ingress",
        "/api/",
    ):
        assert name in text, name
    assert "docs/operations.md" in text
