"""The partition-lease metrics a consuming service exposes (shared/workers.py, ADR 0019)."""

from __future__ import annotations

from types import SimpleNamespace

from shared.metrics import Metrics
from shared.partition_lease import Assignment
from shared.workers import partition_share


def test_a_replicas_share_rebalances_and_fallback_show_in_its_metrics():
    metrics = Metrics("training")
    observe = partition_share(SimpleNamespace(metrics=metrics, service="training"))  # type: ignore[arg-type]

    observe(Assignment(frozenset({0, 1, 2, 3}), members=1), False)
    observe(Assignment(frozenset({0, 2}), members=2), True)
    observe(Assignment(frozenset({0, 1, 2, 3}), members=0), True)  # the lease unreadable

    text = metrics.render().decode()
    assert 'gradeline_consumer_partitions_owned{service="training"} 4.0' in text
    assert 'gradeline_consumer_rebalances_total{service="training"} 2.0' in text
    assert 'gradeline_consumer_lease_fallback{service="training"} 1.0' in text
