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
--
-- Compacted twice (ADR 0012): shared.db.migrate also accepts the checksums of its earlier texts,
-- with the bodies of the functions shared/sql defines, then with the drops without IF EXISTS.
-- compacted-from sha256:e03c641819ed431eaa7ccbef287f1390245ccd978986dccde40969ba1dc9d63b
-- compacted-from sha256:d5f92821770291b787ef1886a18519669ba7b28dff0b511f768ba0e100ec0546

ALTER TABLE events ADD COLUMN digest_version smallint NOT NULL DEFAULT 1;

-- Digest 2 (gl_event_content_v2, gl_event_digest_v2, gl_stored_digest) and the append paths
-- that write it (gl_append, gl_append_grouped) are defined in shared/sql/digests.sql and
-- shared/sql/append.sql, applied right after the migrations under the same lock.

-- Retired: the write paths that 0004-0008 created hash with digest 1 and nothing calls them;
-- a path that could write the weaker digest must not stay. IF EXISTS: a database built from
-- the compacted migrations never had them.
DROP FUNCTION IF EXISTS gl_append_doc(text[], integer[], text[], integer[], jsonb);
DROP FUNCTION IF EXISTS gl_append_doc_each(text[], integer[], text[], integer[], jsonb);
DROP FUNCTION IF EXISTS gl_append_doc_set(text[], integer[], text[], jsonb);
DROP FUNCTION IF EXISTS gl_batch_is_plain(text[], integer[], text[]);
DROP FUNCTION IF EXISTS gl_append_batch(text[], integer[], text[], integer[], uuid[], text[],
    integer[], jsonb[], timestamptz[], text[], jsonb[], uuid[], uuid[], text[]);
DROP FUNCTION IF EXISTS gl_append_set(text[], integer[], text[], integer[], uuid[], text[],
    integer[], jsonb[], timestamptz[], text[], jsonb[], uuid[], uuid[], text[]);

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
