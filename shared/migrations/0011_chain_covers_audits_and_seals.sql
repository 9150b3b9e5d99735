-- The hash chain covers what audits read, and seals make its end tamper-evident (ADR 0009).
--
-- Until now an event's digest left out recorded_at (which as-of boards filter on), position (what
-- the relay and projections tail), the correlation and causation ids and the idempotency key:
-- editing them went unseen. Digest 2 covers every stored column. Rows hashed before keep digest
-- 1 (their hashes cannot change without rewriting history and every copy consumers hold);
-- events.digest_version says which digest a row's hash is, and verification follows it.
--
-- Digest 2 is one SHA-256 per event over the predecessor's hash and the event's fields as text
-- (digest 1 took two: one for the content, one for the link), so the group commit keeps its
-- shape: the renderings set-wise in one pass, the chain in a loop.

ALTER TABLE events ADD COLUMN digest_version smallint NOT NULL DEFAULT 1;

-- Digest 2 (gl_event_content_v2, gl_event_digest_v2, gl_stored_digest) and the append paths
-- that write it (gl_append, gl_append_grouped) are defined in shared/sql/digests.sql and
-- shared/sql/append.sql, applied right after the migrations under the same lock.

-- The write paths of processes two releases back (0004-0008) hash with digest 1; nothing calls
-- them since 0009, and a path that could write the weaker digest after this one must not stay.
DROP FUNCTION gl_append_doc(text[], integer[], text[], integer[], jsonb);
DROP FUNCTION gl_append_doc_each(text[], integer[], text[], integer[], jsonb);
DROP FUNCTION gl_append_doc_set(text[], integer[], text[], jsonb);
DROP FUNCTION gl_batch_is_plain(text[], integer[], text[]);
DROP FUNCTION gl_append_batch(text[], integer[], text[], integer[], uuid[], text[], integer[],
                              jsonb[], timestamptz[], text[], jsonb[], uuid[], uuid[], text[]);
DROP FUNCTION gl_append_set(text[], integer[], text[], integer[], uuid[], text[], integer[],
                            jsonb[], timestamptz[], text[], jsonb[], uuid[], uuid[], text[]);

-- Seals: a keyed digest (HMAC-SHA256, the key outside the database) of every stream's head as
-- of a position, written periodically by each service process and on demand (shared/seal.py).
-- The chain shows an edited event; a seal shows what the chain cannot: a stream's last events
-- deleted, or a whole chain recomputed, before the seal was written.
CREATE TABLE seals (
    id         bigserial   PRIMARY KEY,
    position   bigint      NOT NULL,  -- the store's head position the seal covers
    sealed_at  timestamptz NOT NULL DEFAULT now(),
    key_id     text        NOT NULL,  -- which key made it (a digest of it, never the key)
    heads      jsonb       NOT NULL,  -- [[stream_id, version, hash hex], ...] by stream_id
    mac        bytea       NOT NULL
);
