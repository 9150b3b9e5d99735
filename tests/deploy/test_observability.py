"""The monitoring kit of issue 20 checked statically: the Grafana dashboard, the Prometheus alert
rules and scrape configuration, their provisioning in compose, and the Prometheus Operator's
ServiceMonitor and PrometheusRule (deploy/k8s/monitoring).

Issue 20: "Grafana JSON and alert rules checked by a test that every metric they name exists in
`/metrics`"; "Prometheus alert rules for each with runbook links". The names the services export
are read from ``shared.metrics.Metrics`` (tests/deploy/observability.py); ``promtool`` checks the
files too where it is installed (Debian's ``prometheus`` package).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from shared.settings import SERVICE_PORTS
from tests.deploy.observability import (
    ALERTS,
    PROMETHEUS_OWN,
    PROMETHEUS_RULE,
    ROOT,
    alert_rules,
    exported_metric_names,
    markdown_anchors,
    prometheus_rule,
    promql_metric_names,
)

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
MONITORING = K8S / "monitoring"
GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "gradeline.json"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
RUNBOOK = ROOT / "docs" / "operations.md"
JOB = "gradeline"  # the job name of the services' targets, in compose and with the operator

# Each signal issue 20 and the runbook name, and the metric an alert must read for it.
SIGNALS = {
    "service-down": "up",
    "5xx-rate": "gradeline_http_request_duration_seconds_count",
    "p99-latency": "gradeline_http_request_duration_seconds_bucket",
    "relay-lag": "gradeline_relay_lag_events",
    "consumer-lag": "gradeline_consumer_lag_messages",
    "dead-letters": "gradeline_dlq_depth",
    "stale-parked-events": "gradeline_consumer_parked_stale_events",
    "projection-lag": "gradeline_projection_lag_events",
    "event-delay": "gradeline_consumer_event_delay_seconds_bucket",
}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def compose_services() -> dict[str, Any]:
    return load_yaml(DEPLOY / "compose.yaml")["services"]


def mounts(service: dict[str, Any]) -> dict[str, Path]:
    """compose bind mounts: container path -> the file or folder of deploy/ mounted there."""
    found = {}
    for volume in service["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            found[target] = (DEPLOY / source).resolve()
    return found


# --- the PromQL reader -----------------------------------------------------------------------


def test_promql_reader_finds_metric_names_and_only_them() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (service, le) (rate(gradeline_http_request_duration_seconds_bucket{route!~"/metrics|/health"}[5m])))'
        " > 1 and on (service) max without (queue) (gradeline_consumer_lag_messages offset 1h) > bool 1e3"
    )
    assert promql_metric_names(expr) == {
        "gradeline_http_request_duration_seconds_bucket",
        "gradeline_consumer_lag_messages",
    }
    assert promql_metric_names('up{job="x"} == 0 or absent(up)') == {"up"}


def test_a_misspelt_metric_is_not_one_the_services_export() -> None:
    """The check below can fail: a name missing its suffix, or misspelt, is not exported."""
    exported = exported_metric_names()
    assert "gradeline_relay_lag_events" in exported
    assert "gradeline_http_request_duration_seconds_count" in exported
    assert "gradeline_events_appended_total" in exported
    for wrong in (
        "gradeline_http_request_duration_seconds",
        "gradeline_relay_lag",
        "gradeline_events_appended",
    ):
        assert promql_metric_names(f"rate({wrong}[5m])") - exported == {wrong}


# --- alert rules -----------------------------------------------------------------------------


def test_every_alert_reads_only_metrics_the_services_export() -> None:
    exported = exported_metric_names() | PROMETHEUS_OWN
    for rule in alert_rules():
        names = promql_metric_names(rule["expr"])
        assert names, f"{rule['alert']}: no metric found in {rule['expr']!r}"
        assert names <= exported, f"{rule['alert']}: {sorted(names - exported)} not exported"


def test_every_alert_links_to_a_runbook_section_that_exists() -> None:
    anchors = markdown_anchors(RUNBOOK)
    seen = set()
    for rule in alert_rules():
        url = urlsplit(rule["annotations"]["runbook_url"])
        assert url.scheme == "https" and url.path.endswith("/docs/operations.md"), rule["alert"]
        assert url.fragment in anchors, (
            f"{rule['alert']}: no section #{url.fragment} in docs/operations.md"
        )
        assert url.fragment not in seen, f"{rule['alert']}: a section per alert"
        seen.add(url.fragment)
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]


def test_markdown_anchors_are_githubs() -> None:
    assert {"5xx-rate", "p99-latency", "backup-and-restore", "the-cli-in-the-cluster"} <= (
        markdown_anchors(RUNBOOK)
    )
    assert "no-such-section" not in markdown_anchors(RUNBOOK)


def test_there_is_an_alert_for_each_signal_reading_its_metric() -> None:
    """Service down, 5xx rate, p99 latency, relay lag, consumer lag, dead letters, stale parked
    events, projection lag, event delay: one alert each, on the metric of that signal."""
    by_anchor = {urlsplit(r["annotations"]["runbook_url"]).fragment: r for r in alert_rules()}
    for anchor, metric in SIGNALS.items():
        assert anchor in by_anchor, f"no alert for {anchor}"
        assert metric in promql_metric_names(by_anchor[anchor]["expr"]), anchor
    assert by_anchor["service-down"]["expr"].replace(" ", "") == f'up{{job="{JOB}"}}==0'


def test_alert_names_are_unique() -> None:
    names = [r["alert"] for r in alert_rules()]
    assert len(names) == len(set(names))


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_the_rules_and_the_configuration(tmp_path: Path) -> None:
    checked = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The configuration names the rules where compose mounts them: point it at the file here.
    configuration = load_yaml(PROMETHEUS)
    configuration["rule_files"] = [str(ALERTS)]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(configuration))
    checked = subprocess.run(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- the dashboard ---------------------------------------------------------------------------


def test_every_dashboard_panel_reads_only_metrics_the_services_export() -> None:
    exported = exported_metric_names() | PROMETHEUS_OWN
    for panel in panels():
        assert panel["targets"], f"{panel['title']}: no query"
        for target in panel["targets"]:
            names = promql_metric_names(target["expr"])
            assert names, f"{panel['title']}: no metric in {target['expr']!r}"
            assert names <= exported, f"{panel['title']}: {sorted(names - exported)} not exported"
    for variable in dashboard()["templating"]["list"]:
        (metric,) = re.findall(r"label_values\((\w+),", variable["definition"])
        assert metric in exported, variable["name"]


def test_the_dashboard_shows_every_metric_the_services_export() -> None:
    """Request rate and latency per route, relay lag, consumer lag, dead letters, parked events,
    projection lag, event delay, housekeeping: every family is on a panel."""
    shown = {n for p in panels() for t in p["targets"] for n in promql_metric_names(t["expr"])}
    families = {
        re.sub(r"_(total|bucket|count|sum|created)$", "", n) for n in exported_metric_names()
    }
    shown_families = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in shown}
    assert families <= shown_families, f"not on the dashboard: {sorted(families - shown_families)}"


def test_the_dashboard_has_latency_percentiles_per_service_and_route() -> None:
    quantiles: dict[str, set[str]] = {}
    for panel in panels():
        for target in panel["targets"]:
            match = re.match(r"histogram_quantile\(([\d.]+), sum by \(([^)]*)\)", target["expr"])
            if match and "gradeline_http_request_duration_seconds_bucket" in target["expr"]:
                quantiles.setdefault(match.group(2), set()).add(match.group(1))
    assert quantiles["service, le"] == {"0.5", "0.95", "0.99"}
    assert quantiles["service, method, route, le"] == {"0.5", "0.95", "0.99"}


def test_the_dashboard_is_well_formed_for_grafana() -> None:
    board = dashboard()
    datasource = load_yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")
    (source,) = datasource["datasources"]
    assert board["uid"] and board["title"] and isinstance(board["schemaVersion"], int)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        assert all(t["datasource"]["uid"] == source["uid"] for t in panel["targets"])
    cells = set()  # no two panels overlap
    for panel in board["panels"]:
        grid = panel["gridPos"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps at {(x, y)}"
                cells.add((x, y))


# --- compose: Prometheus and Grafana ---------------------------------------------------------


def test_prometheus_scrapes_every_service_of_compose_and_loads_the_rules() -> None:
    configuration = load_yaml(PROMETHEUS)
    services = compose_services()
    (job,) = [j for j in configuration["scrape_configs"] if j["job_name"] == JOB]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    (static,) = job["static_configs"]
    assert "labels" not in static, "a target label `service` would rename the series' own"
    assert sorted(static["targets"]) == sorted(f"{s}:{p}" for s, p in SERVICE_PORTS.items())
    for target in static["targets"]:
        name, _ = target.split(":")
        assert name in services and services[name]["command"][-1] == name
    prometheus = services["prometheus"]
    mounted = mounts(prometheus)
    assert mounted["/etc/prometheus/prometheus.yml"] == PROMETHEUS.resolve()
    assert configuration["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert mounted["/etc/prometheus/alerts.yml"] == ALERTS.resolve()
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    assert prometheus["ports"] == ["127.0.0.1:9090:9090"]


def test_grafana_is_provisioned_with_the_data_source_and_the_dashboard() -> None:
    services = compose_services()
    grafana = services["grafana"]
    mounted = mounts(grafana)
    datasources = mounted["/etc/grafana/provisioning/datasources"]
    providers = mounted["/etc/grafana/provisioning/dashboards"]
    assert datasources.is_dir() and providers.is_dir()
    (source,) = load_yaml(datasources / "prometheus.yml")["datasources"]
    url = urlsplit(source["url"])
    assert source["type"] == "prometheus"
    assert url.hostname == "prometheus" and "prometheus" in services
    assert f"{url.port}:{url.port}" in services["prometheus"]["ports"][0]
    (provider,) = load_yaml(providers / "gradeline.yml")["providers"]
    folder = mounted[provider["options"]["path"]]
    assert DASHBOARD.resolve() in {p.resolve() for p in folder.glob("*.json")}
    assert grafana["depends_on"]["prometheus"]["condition"] == "service_healthy"
    assert grafana["ports"] == ["127.0.0.1:3000:3000"]
    for server in ("prometheus", "grafana"):
        image = services[server]["image"]
        assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", image), f"{server}: pin a release: {image}"


@pytest.mark.parametrize("callee", ["training", "assessment", "compensation"])
def test_compose_gives_the_services_one_anothers_addresses(callee: str) -> None:
    """assessment's what-if calls compensation, enrollment's access requests the other three:
    inside compose that is not the caller's own 127.0.0.1 but the callee's compose service."""
    services = compose_services()
    for caller in ("enrollment", "assessment"):
        environment = services[caller]["environment"]
        url = urlsplit(environment[f"GRADELINE_{callee.upper()}_URL"])
        assert url.hostname == callee and services[callee]["command"][-1] == callee
        assert url.port == SERVICE_PORTS[callee]


# --- Prometheus Operator: ServiceMonitor and PrometheusRule -----------------------------------

# The part of the operator's CRDs (monitoring.coreos.com/v1) these manifests use; anything else
# is refused, so a misspelt field fails here rather than being dropped by the API server.
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": _LABELS},
    "additionalProperties": False,
}
_DURATION = {"type": "string", "pattern": r"^(\d+(ms|s|m|h|d|w|y))+$"}
SERVICE_MONITOR_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": _METADATA,
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "jobLabel": {"type": "string"},
                "namespaceSelector": {
                    "type": "object",
                    "properties": {
                        "matchNames": {"type": "array", "items": {"type": "string"}},
                        "any": {"type": "boolean"},
                    },
                    "additionalProperties": False,
                },
                "selector": {
                    "type": "object",
                    "properties": {"matchLabels": _LABELS},
                    "required": ["matchLabels"],
                    "additionalProperties": False,
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["port"],
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "interval": _DURATION,
                            "scrapeTimeout": _DURATION,
                            "honorLabels": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    },
}
PROMETHEUS_RULE_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "PrometheusRule"},
        "metadata": _METADATA,
        "spec": {
            "type": "object",
            "required": ["groups"],
            "additionalProperties": False,
            "properties": {
                "groups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "rules"],
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string"},
                            "interval": _DURATION,
                            "rules": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["alert", "expr"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "alert": {"type": "string"},
                                        "expr": {"type": "string"},
                                        "for": _DURATION,
                                        "labels": _LABELS,
                                        "annotations": _LABELS,
                                    },
                                },
                            },
                        },
                    },
                }
            },
        },
    },
}


def service_monitor() -> dict[str, Any]:
    return load_yaml(MONITORING / "servicemonitor.yaml")


def k8s_services() -> list[dict[str, Any]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        found += [d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "Service"]
    return found


def test_the_monitoring_objects_match_the_operators_schemas() -> None:
    jsonschema.validate(service_monitor(), SERVICE_MONITOR_SCHEMA)
    jsonschema.validate(load_yaml(PROMETHEUS_RULE), PROMETHEUS_RULE_SCHEMA)


def test_the_schema_check_rejects_a_misspelt_field() -> None:
    broken = service_monitor()
    broken["spec"]["endpoints"][0]["honourLabels"] = broken["spec"]["endpoints"][0].pop(
        "honorLabels"
    )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SERVICE_MONITOR_SCHEMA)


def test_the_service_monitor_scrapes_every_gradeline_service_as_job_gradeline() -> None:
    """API replicas and worker pods alike (the lag gauges are the worker pod's), with the job
    name the alerts ask for, and the series' own ``service`` label kept."""
    monitor = service_monitor()
    spec = monitor["spec"]
    selector = spec["selector"]["matchLabels"]
    namespace = load_yaml(K8S / "namespace.yaml")["metadata"]["name"]
    assert monitor["metadata"]["namespace"] == namespace
    assert spec["namespaceSelector"]["matchNames"] == [namespace]
    selected = {
        s["metadata"]["name"]
        for s in k8s_services()
        if selector.items() <= s["metadata"]["labels"].items()
    }
    assert selected == set(SERVICE_PORTS) | {f"{s}-workers" for s in SERVICE_PORTS}
    (endpoint,) = spec["endpoints"]
    for service in k8s_services():
        assert service["metadata"]["labels"][spec["jobLabel"]] == JOB
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    assert endpoint["honorLabels"] is True


def test_the_prometheus_rule_is_the_alert_file() -> None:
    assert load_yaml(PROMETHEUS_RULE) == prometheus_rule(), (
        "regenerate: python -m tests.deploy.observability > deploy/k8s/monitoring/prometheusrule.yaml"
    )


def test_the_monitoring_kustomization_holds_both_apart_from_the_base() -> None:
    kustomization = load_yaml(MONITORING / "kustomization.yaml")
    assert set(kustomization["resources"]) == {"servicemonitor.yaml", "prometheusrule.yaml"}
    assert kustomization["namespace"] == load_yaml(K8S / "kustomization.yaml")["namespace"]
    base = load_yaml(K8S / "kustomization.yaml")["resources"]
    assert not {"servicemonitor.yaml", "prometheusrule.yaml"} & set(base), (
        "the base must apply on a cluster without the operator's CRDs"
    )


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@pytest.mark.parametrize("folder", [K8S, MONITORING], ids=["base", "monitoring"])
def test_kustomize_builds_each_kustomization(folder: Path) -> None:
    """What ``kubectl apply -k`` would send: every object of the folder's files, namespaced."""
    built = subprocess.run(
        ["kubectl", "kustomize", str(folder)], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    objects = [d for d in yaml.safe_load_all(built.stdout) if d]
    listed = load_yaml(folder / "kustomization.yaml")["resources"]
    expected = [d for name in listed for d in yaml.safe_load_all((folder / name).read_text()) if d]
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(map(key, objects)) == sorted(map(key, expected))
    assert all(
        d["metadata"].get("namespace") == "gradeline" for d in objects if d["kind"] != "Namespace"
    )


# --- the rules evaluated by Prometheus's own engine ---------------------------------------------

# Per alert, series (interval 1m) under which it must fire, and series under which it must not.
_HTTP = 'gradeline_http_request_duration_seconds_{}{{service="training",method="GET",route="{}",status="{}"{}}}'
_DELAY = 'gradeline_consumer_event_delay_seconds_bucket{{service="assessment",le="{}"}}'
SCENARIOS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "GradelineServiceDown": (
        {'up{job="gradeline",instance="training:8002"}': "1 0x15"},
        {
            'up{job="gradeline",instance="training:8002"}': "1x15",
            'up{job="other",instance="x:1"}': "0x15",
        },
    ),
    "GradelineHighErrorRate": (
        {
            _HTTP.format("count", "/plans/{id}", "500", ""): "0+10x15",
            _HTTP.format("count", "/plans/{id}", "200", ""): "0+90x15",
        },
        {
            _HTTP.format("count", "/plans/{id}", "500", ""): "0+1x15",
            _HTTP.format("count", "/plans/{id}", "200", ""): "0+99x15",
        },
    ),
    "GradelineHighLatency": (
        {
            _HTTP.format("bucket", "/plans/{id}", "200", f',le="{le}"'): rate
            for le, rate in (
                ("0.5", "0x15"),
                ("1", "0x15"),
                ("2.5", "0+100x15"),
                ("+Inf", "0+100x15"),
            )
        },
        {  # fast routes; the scrapes of /metrics are slow, and left out
            **{
                _HTTP.format("bucket", "/plans/{id}", "200", f',le="{le}"'): "0+100x15"
                for le in ("0.5", "1", "2.5", "+Inf")
            },
            **{
                _HTTP.format("bucket", "/metrics", "200", f',le="{le}"'): rate
                for le, rate in (
                    ("0.5", "0x15"),
                    ("1", "0x15"),
                    ("2.5", "0+900x15"),
                    ("+Inf", "0+900x15"),
                )
            },
        },
    ),
    "GradelineRelayLag": (
        {
            'gradeline_relay_lag_events{service="training",instance="workers"}': "5000x15",
            'gradeline_relay_lag_events{service="training",instance="api"}': "0x15",
        },
        {'gradeline_relay_lag_events{service="training",instance="workers"}': "10x15"},
    ),
    "GradelineRelayBlocked": (
        {'gradeline_relay_blocked_position{service="enrollment"}': "0 1234x15"},
        {'gradeline_relay_blocked_position{service="enrollment"}': "0x15"},
    ),
    "GradelineConsumerLag": (
        {
            'gradeline_consumer_lag_messages{service="assessment",queue="gradeline.assessment.p2"}': "2000x15"
        },
        {
            'gradeline_consumer_lag_messages{service="assessment",queue="gradeline.assessment.p2"}': "5x15"
        },
    ),
    "GradelineEventDelay": (
        {
            _DELAY.format(le): rate
            for le, rate in (
                ("0.1", "0x15"),
                ("60", "0x15"),
                ("300", "0+100x15"),
                ("+Inf", "0+100x15"),
            )
        },
        {_DELAY.format(le): "0+100x15" for le in ("0.1", "60", "300", "+Inf")},
    ),
    "GradelineDeadLetters": (
        {'gradeline_dlq_depth{service="compensation"}': "0 3x15"},
        {'gradeline_dlq_depth{service="compensation"}': "0x15"},
    ),
    "GradelineStaleParkedEvents": (
        {'gradeline_consumer_parked_stale_events{service="training"}': "0 2x15"},
        {
            'gradeline_consumer_parked_stale_events{service="training"}': "0x15",
            'gradeline_consumer_parked_events{service="training"}': "40x15",
        },
    ),
    "GradelineProjectionLag": (
        {
            'gradeline_projection_lag_events{service="assessment",projection="grade_board"}': "5000x15"
        },
        {'gradeline_projection_lag_events{service="assessment",projection="grade_board"}': "3x15"},
    ),
    "GradelineHousekeepingFailing": (
        {'gradeline_idempotency_purge_runs_total{service="training",outcome="failed"}': "0 0 1x13"},
        {
            'gradeline_idempotency_purge_runs_total{service="training",outcome="failed"}': "0x15",
            'gradeline_idempotency_purge_runs_total{service="training",outcome="ok"}': "0+1x15",
        },
    ),
    "GradelineConsumerLeaseFallback": (
        {'gradeline_consumer_lease_fallback{service="training",instance="a"}': "1x15"},
        {'gradeline_consumer_lease_fallback{service="training",instance="a"}': "0x15"},
    ),
    # promtool's clock starts at 0: a last success two days "before" it is a negative timestamp.
    "GradelinePurgeStale": (
        {
            'gradeline_purge_last_success_timestamp_seconds{service="compensation",table="inbox"}': "-172800x15"
        },
        {
            'gradeline_purge_last_success_timestamp_seconds{service="compensation",table="inbox"}': "0x15",
            'gradeline_purge_last_run_timestamp_seconds{service="compensation",table="inbox"}': "0x15",
        },
    ),
}


def test_every_alert_has_a_firing_and_a_quiet_scenario() -> None:
    assert set(SCENARIOS) == {r["alert"] for r in alert_rules()}
    exported = exported_metric_names() | PROMETHEUS_OWN
    for firing, quiet in SCENARIOS.values():
        for series in (*firing, *quiet):
            assert series.split("{")[0] in exported, series


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_each_alert_fires_on_its_signal_and_stays_quiet_without_it(tmp_path: Path) -> None:
    """``promtool test rules``: each alert's expression, evaluated by Prometheus, returns a series
    under the firing scenario and none under the quiet one."""
    tests = []
    for rule in alert_rules():
        firing, quiet = SCENARIOS[rule["alert"]]
        for series, expr, name in (
            (firing, f"count({rule['expr']})", "fires"),
            (quiet, f"absent({rule['expr']})", "quiet"),
        ):
            tests.append(
                {
                    "name": f"{rule['alert']} {name}",
                    "interval": "1m",
                    "input_series": [{"series": s, "values": v} for s, v in series.items()],
                    "promql_expr_test": [
                        {
                            "expr": expr,
                            "eval_time": "14m",
                            "exp_samples": [{"labels": "{}", "value": 1}],
                        }
                    ],
                }
            )
    (tmp_path / "alerts_test.yml").write_text(
        yaml.safe_dump({"rule_files": [str(ALERTS)], "evaluation_interval": "1m", "tests": tests})
    )
    checked = subprocess.run(
        ["promtool", "test", "rules", str(tmp_path / "alerts_test.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_file_the_runbook_names_exists() -> None:
    named = set(
        re.findall(r"`((?:deploy|docs|shared|services|ops)/[\w./-]+)`", RUNBOOK.read_text())
    )
    named |= {m for m in re.findall(r"\]\(\.\./([\w./-]+)\)", RUNBOOK.read_text())}
    assert "deploy/k8s/cli.yaml" in named
    # kubectl's deploy/<name> is a Deployment, not a folder of the repository
    named = {
        p for p in named if not re.fullmatch(r"deploy/[a-z]+(-workers)?", p) or (ROOT / p).exists()
    }
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert missing == [], f"docs/operations.md names paths that do not exist: {missing}"
