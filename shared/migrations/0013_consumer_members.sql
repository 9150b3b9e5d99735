-- The live replicas of a service's consumer and the partitions each consumes (ADR 0019). Each
-- replica refreshes its row every third of GRADELINE_CONSUMER_LEASE_TTL_SECONDS; the replicas
-- seen within the TTL share the partition queues between them. ``partitions`` is what the
-- replica consumed at its last beat, for operators (and tests) to see who holds what.
CREATE TABLE consumer_members (
    service     text        NOT NULL,
    replica     text        NOT NULL,
    last_seen   timestamptz NOT NULL DEFAULT now(),
    partitions  integer[]   NOT NULL DEFAULT '{}',
    PRIMARY KEY (service, replica)
);
