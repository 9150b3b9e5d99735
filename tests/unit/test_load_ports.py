"""The load tool's services listen below the kernel's ephemeral port range: a port probed free
there can be taken by any outgoing connection before the service binds it (seen in CI as
"address already in use")."""

from __future__ import annotations

from bench.load.cluster import OFFSETS, free_port_offset
from shared.settings import SERVICE_PORTS

EPHEMERAL_FLOOR = 32768  # Linux's default ip_local_port_range starts here


def test_every_offset_keeps_the_service_ports_below_the_ephemeral_range():
    assert max(OFFSETS) + max(SERVICE_PORTS.values()) < EPHEMERAL_FLOOR


def test_a_chosen_offset_is_one_of_them():
    assert free_port_offset() in OFFSETS
