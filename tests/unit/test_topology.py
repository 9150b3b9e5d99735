"""The deployment's topology table and the routing it implies, without a broker."""

from __future__ import annotations

import pytest

from shared.topology import CONSUMERS, consumers_of, is_consumed, topic_matches


@pytest.mark.parametrize(
    ("binding_key", "routing_key", "matches"),
    [
        ("enrollment.*", "enrollment.TraineeEnrolled", True),
        ("enrollment.*", "training.PlanDrafted", False),
        ("enrollment.*", "enrollment", False),
        ("enrollment.*", "enrollment.a.b", False),
        ("core.#", "core.Thing", True),
        ("core.#", "core", True),
        ("#", "anything.at.all", True),
        ("*.Thing", "core.Thing", True),
        ("a.#.z", "a.b.c.z", True),
        ("a.#.z", "a.z", True),
        ("a.#.z", "a.b.c", False),
        ("core.Thing", "core.Thing", True),
        ("core.Thing", "core.Other", False),
    ],
)
def test_topic_matching_follows_amqp_topic_exchanges(binding_key, routing_key, matches):
    assert topic_matches(binding_key, routing_key) is matches


def test_the_table_names_every_consuming_service_and_its_binding_keys():
    assert CONSUMERS == {
        "training": ("enrollment.*", "assessment.*"),  # assessment: R-18a dispositions
        "assessment": ("enrollment.*", "training.*"),
        "compensation": ("enrollment.*", "assessment.*", "training.*"),
    }


def test_a_producer_publishes_into_the_services_that_bind_its_events():
    assert set(consumers_of("enrollment")) == {"training", "assessment", "compensation"}
    assert set(consumers_of("training")) == {"assessment", "compensation"}
    assert set(consumers_of("assessment")) == {"training", "compensation"}
    assert consumers_of("compensation") == {}
    assert consumers_of("core", {"sink": ("core.#",)}) == {"sink": ("core.#",)}


def test_an_event_is_consumed_when_a_service_binds_its_routing_key():
    assert is_consumed("enrollment.TraineeEnrolled")
    assert is_consumed("assessment.GradeAssigned")
    assert not is_consumed("compensation.PayRateSet")  # no service consumes compensation (yet)
