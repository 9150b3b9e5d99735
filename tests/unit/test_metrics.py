"""The consumer's event delay histogram: from an event's recording upstream to its effect's commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.metrics import Metrics
from tests.unit.test_amqp_frames import envelope


def sample(metrics: Metrics, suffix: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(
        f"gradeline_consumer_event_delay_seconds{suffix}", {"service": "training", **labels}
    )
    assert value is not None
    return value


def test_each_committed_event_is_observed_with_its_delay_since_recording():
    metrics = Metrics("training")
    now = datetime.now(UTC)
    metrics.observe_consumed(
        [
            envelope(recorded_at=now - timedelta(seconds=2)),
            envelope(recorded_at=now - timedelta(milliseconds=30)),
        ]
    )
    assert sample(metrics, "_count") == 2
    assert 2.0 <= sample(metrics, "_sum") < 2.5
    assert sample(metrics, "_bucket", le="0.025") == 0  # 30 ms is over 25 ms
    assert sample(metrics, "_bucket", le="0.05") == 1
    assert sample(metrics, "_bucket", le="1.0") == 1  # the 2 s one is not under 1 s ...
    assert sample(metrics, "_bucket", le="2.5") == 2  # ... but under 2.5 s


def test_a_clock_behind_the_upstream_database_never_reports_a_negative_delay():
    metrics = Metrics("training")
    metrics.observe_consumed([envelope(recorded_at=datetime.now(UTC) + timedelta(seconds=5))])
    assert sample(metrics, "_sum") == 0.0 and sample(metrics, "_count") == 1
