"""The share of the partitions each live replica consumes (shared/partition_lease.py)."""

from __future__ import annotations

import pytest

from shared.partition_lease import Assignment, share


@pytest.mark.parametrize(("replicas", "partitions"), [(1, 4), (2, 4), (3, 4), (3, 6), (5, 4)])
def test_the_live_replicas_shares_cover_every_partition_once_evenly(replicas, partitions):
    members = [f"host-{n}" for n in range(replicas)]
    shares = [share(m, members, partitions) for m in members]

    assert sorted(p for s in shares for p in s) == list(range(partitions))
    sizes = [len(s) for s in shares]
    assert max(sizes) - min(sizes) <= 1


def test_every_replica_computes_the_same_shares_whatever_order_it_read_the_rows_in():
    seen_by_one = ["b", "c", "a"]
    seen_by_another = ["a", "b", "c", "a"]  # order of the rows, and a row read twice

    assert [share(m, seen_by_one, 6) for m in "abc"] == [
        share(m, seen_by_another, 6) for m in "abc"
    ]
    assert share("a", seen_by_one, 6) == {0, 3}


def test_a_replica_that_cannot_read_the_lease_counts_no_members_and_falls_back():
    assert Assignment(frozenset(range(4)), members=0).fallback
    assert not Assignment(frozenset({0, 2}), members=2).fallback
