-- The event store's tables: the events (also the relay's outbox), the idempotency keys of
-- appends, the inbox of consumed events and the checkpoints. The functions that append and hash
-- events are defined in shared/sql/append.sql and shared/sql/digests.sql.
--
-- Compacted (ADR 0012): shared.db.migrate also accepts the checksum of the text applied before.
-- compacted-from sha256:ce5250ec5e511d4d9db082dc8d5236e6c931daeadd7ab0edc8a580f57c18ca58

CREATE TABLE events (
    position        bigint      PRIMARY KEY,
    stream_id       text        NOT NULL,
    version         integer     NOT NULL CHECK (version >= 1),
    event_id        uuid        NOT NULL,
    type            text        NOT NULL,
    schema_version  integer     NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    branch_id       text,
    actor           jsonb       NOT NULL,
    correlation_id  uuid,
    causation_id    uuid,
    idempotency_key text,
    policy_version  text,
    data            jsonb       NOT NULL,
    prev_hash       bytea,
    hash            bytea       NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

CREATE SEQUENCE events_position_seq AS bigint OWNED BY events.position;

CREATE TABLE idempotency_keys (
    key             text        PRIMARY KEY,
    stream_id       text        NOT NULL,
    first_version   integer     NOT NULL,
    last_version    integer     NOT NULL,
    first_position  bigint      NOT NULL,
    last_position   bigint      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Consumed events, full envelope kept so a service can replay its decisions from its own storage.
-- seq is handed out under the inbox lock (held to commit), like events.position.
CREATE TABLE inbox (
    seq             bigint      PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    service         text        NOT NULL,
    stream_id       text        NOT NULL,
    version         integer     NOT NULL,
    type            text        NOT NULL,
    recorded_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    envelope        jsonb       NOT NULL
);
CREATE SEQUENCE inbox_seq_seq AS bigint OWNED BY inbox.seq;
CREATE INDEX inbox_stream_idx ON inbox (stream_id, version);

-- Checkpoints of the relay and of every projection, advanced in the same transaction as the work.
CREATE TABLE checkpoints (
    name        text    PRIMARY KEY,
    position    bigint  NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
