-- Upstream events that arrived before their stream's previous version (ADR 0008): kept here,
-- acknowledged, and applied in the transaction that applies their predecessor. Keyed by event id
-- so that a redelivered copy of a parked event is recognised and dropped.
CREATE TABLE inbox_parked (
    event_id   uuid        PRIMARY KEY,
    service    text        NOT NULL,
    stream_id  text        NOT NULL,
    version    integer     NOT NULL,
    envelope   jsonb       NOT NULL,
    parked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_parked_stream_idx ON inbox_parked (stream_id, version);
