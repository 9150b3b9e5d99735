"""What the monitoring files may name, read from the code, and the PromQL they name it in.

- :func:`exported_metric_names`: every series name a service's ``/metrics`` can show, from the
  families :class:`shared.metrics.Metrics` registers (a counter ``x`` shows as ``x_total`` and
  ``x_created``, a histogram as ``x_bucket``, ``x_count``, ``x_sum``, ``x_created``);
- :func:`promql_metric_names`: the metric names a PromQL expression reads (functions,
  aggregations, label matchers, ranges and keywords left out);
- :func:`markdown_anchors`: the anchors GitHub gives a Markdown file's headings;
- :func:`prometheus_rule`: deploy/prometheus/alerts.yml as the Prometheus Operator's
  PrometheusRule, which ``deploy/k8s/monitoring/prometheusrule.yaml`` must equal::

      .venv/bin/python -m tests.deploy.observability > deploy/k8s/monitoring/prometheusrule.yaml
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from shared.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
PROMETHEUS_RULE = DEPLOY / "k8s" / "monitoring" / "prometheusrule.yaml"
# Series Prometheus makes itself for every target, which the rules may name too.
PROMETHEUS_OWN = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
}
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "by", "without", "on"})
_GROUPING = r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def exported_metric_names() -> frozenset[str]:
    """Every sample name the services' registry can expose (one service's ``Metrics``; all four
    build the same one)."""
    names: set[str] = set()
    for family in Metrics("probe").registry.collect():
        names.update(family.name + suffix for suffix in _SUFFIXES[family.type])
    return frozenset(names)


def promql_metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects (not the functions and aggregations it applies)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values, regexes
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(_GROUPING, " ", text)
    text = re.sub(r"(?<![A-Za-z0-9_:.])\d[\d.eE+-]*[a-z]*", " ", text)  # numbers, durations
    names = set()
    for match in _IDENTIFIER.finditer(text):
        word = match.group(0)
        if word in _KEYWORDS or text[match.end() :].lstrip().startswith("("):
            continue  # a keyword, or a function or aggregation applied to what follows
        names.add(word)
    return names


def markdown_anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of ``path``: lower case, punctuation dropped, spaces to
    hyphens; a repeated heading gets ``-1``, ``-2``..."""
    anchors: set[str] = set()
    fenced = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if fenced or not match:
            continue
        text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", match.group(2))
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in anchors:
            n += 1
            anchor = f"{slug}-{n}"
        anchors.add(anchor)
    return anchors


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def prometheus_rule() -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "gradeline",
            "namespace": "gradeline",
            "labels": {
                "app.kubernetes.io/name": "gradeline",
                "app.kubernetes.io/part-of": "gradeline",
                "release": "prometheus",
            },
        },
        "spec": yaml.safe_load(ALERTS.read_text()),
    }


HEADER = """\
# deploy/prometheus/alerts.yml for the Prometheus Operator, generated: edit alerts.yml, then
#   .venv/bin/python -m tests.deploy.observability > deploy/k8s/monitoring/prometheusrule.yaml
# (tests/deploy/test_observability.py fails while the two differ).
"""


if __name__ == "__main__":
    print(HEADER + yaml.safe_dump(prometheus_rule(), sort_keys=False, width=100), end="")
