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

-- An event's fields as digest 2 reads them: every stored column but the hashes, in one text.
CREATE FUNCTION gl_event_content_v2(
    p_event_id uuid, p_stream text, p_version integer, p_position bigint, p_type text,
    p_schema integer, p_occurred timestamptz, p_recorded timestamptz, p_data jsonb, p_actor jsonb,
    p_branch text, p_corr uuid, p_cause uuid, p_key text, p_policy text
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT convert_to(concat_ws('|', 'v2',
        p_event_id::text, p_stream, p_version::text, p_position::text, p_type, p_schema::text,
        (extract(epoch FROM p_occurred) * 1000000)::bigint::text,
        (extract(epoch FROM p_recorded) * 1000000)::bigint::text,
        p_data::text, p_actor::text, coalesce(p_branch, ''), coalesce(p_corr::text, ''),
        coalesce(p_cause::text, ''), coalesce(p_key, ''), coalesce(p_policy, '')), 'UTF8')
$$;

CREATE FUNCTION gl_event_digest_v2(
    p_prev bytea, p_event_id uuid, p_stream text, p_version integer, p_position bigint,
    p_type text, p_schema integer, p_occurred timestamptz, p_recorded timestamptz, p_data jsonb,
    p_actor jsonb, p_branch text, p_corr uuid, p_cause uuid, p_key text, p_policy text
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(coalesce(p_prev, '\x'::bytea) || gl_event_content_v2(p_event_id, p_stream,
        p_version, p_position, p_type, p_schema, p_occurred, p_recorded, p_data, p_actor,
        p_branch, p_corr, p_cause, p_key, p_policy))
$$;

-- The hash a stored row must have, by the digest it was written under (NULL for a digest this
-- code does not know, which verification reports).
CREATE FUNCTION gl_stored_digest(e events) RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT CASE e.digest_version
        WHEN 1 THEN gl_event_digest(e.prev_hash, e.event_id, e.stream_id, e.version, e.type,
                                    e.schema_version, e.occurred_at, e.data, e.actor,
                                    e.branch_id, e.policy_version)
        WHEN 2 THEN gl_event_digest_v2(e.prev_hash, e.event_id, e.stream_id, e.version,
                                       e.position, e.type, e.schema_version, e.occurred_at,
                                       e.recorded_at, e.data, e.actor, e.branch_id,
                                       e.correlation_id, e.causation_id, e.idempotency_key,
                                       e.policy_version)
    END
$$;

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

-- gl_append (0001) under digest 2: one stream, in the caller's transaction; also the per-append
-- path of the group commit (gl_append_grouped_each -> gl_append_each -> gl_append).
CREATE OR REPLACE FUNCTION gl_append(
    p_stream text, p_expected integer, p_key text,
    p_ids uuid[], p_types text[], p_schemas integer[], p_data jsonb[], p_occurred timestamptz[],
    p_branch text[], p_actor jsonb[], p_corr uuid[], p_cause uuid[], p_policy text[]
) RETURNS TABLE (stream text, first_version integer, last_version integer,
                 first_position bigint,
                 last_position bigint, replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    n integer := cardinality(p_ids);
    cur integer;
    prev bytea;
    positions bigint[];
    hashes bytea[];
    prevs bytea[];
    occurred timestamptz[];
    i integer;
BEGIN
    IF p_key IS NOT NULL THEN
        RETURN QUERY SELECT k.stream_id, k.first_version, k.last_version, k.first_position,
                            k.last_position, true
            FROM idempotency_keys k WHERE k.key = p_key;
        IF FOUND THEN RETURN; END IF;
    END IF;

    PERFORM pg_advisory_xact_lock(7265616465);   -- 'grade' : the store's append lock

    SELECT e.version, e.hash INTO cur, prev
        FROM events e WHERE e.stream_id = p_stream ORDER BY e.version DESC LIMIT 1;
    cur := coalesce(cur, 0);
    IF p_expected IS NOT NULL AND p_expected <> cur THEN
        RAISE EXCEPTION 'stream % is at version %, expected %', p_stream, cur, p_expected
            USING ERRCODE = 'GL409', DETAIL = cur::text;
    END IF;

    FOR i IN 1..n LOOP
        positions[i] := nextval('events_position_seq');
        occurred[i] := coalesce(p_occurred[i], now());
        prevs[i] := prev;
        prev := gl_event_digest_v2(prev, p_ids[i], p_stream, cur + i, positions[i], p_types[i],
                                   p_schemas[i], occurred[i], now(), p_data[i], p_actor[i],
                                   p_branch[i], p_corr[i], p_cause[i], p_key, p_policy[i]);
        hashes[i] := prev;
    END LOOP;

    INSERT INTO events (position, stream_id, version, event_id, type, schema_version, occurred_at,
                        recorded_at, branch_id, actor, correlation_id, causation_id,
                        idempotency_key, policy_version, data, prev_hash, hash, digest_version)
    SELECT positions[o], p_stream, cur + o, p_ids[o], p_types[o], p_schemas[o], occurred[o],
           now(), p_branch[o], p_actor[o], p_corr[o], p_cause[o], p_key, p_policy[o], p_data[o],
           prevs[o], hashes[o], 2
    FROM generate_series(1, n) AS o;

    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (key, stream_id, first_version, last_version,
                                      first_position, last_position)
        VALUES (p_key, p_stream, cur + 1, cur + n, positions[1], positions[n]);
    END IF;

    RETURN QUERY SELECT p_stream, cur + 1, cur + n, positions[1], positions[n], false;
END
$$;

-- The group commit's set-wise path (0010) under digest 2: each event's rendering in one pass
-- over the document, the chain in a loop, one SHA-256 per event.
CREATE OR REPLACE FUNCTION gl_append_grouped(
    p_streams text[], p_expected integer[], p_keys text[], p_events jsonb
) RETURNS TABLE (idx integer, stream text, first_version integer, last_version integer,
                 first_position bigint, last_position bigint, replayed boolean, error text,
                 detail text)
LANGUAGE plpgsql AS $$
DECLARE
    appends integer := cardinality(p_streams);
    keyed boolean := cardinality(array_remove(p_keys, NULL)) > 0;
    counts integer[];
    starts integer[];  -- per append: how many events of the batch come before it
    total integer;
    heads integer[];
    head_hashes bytea[];
    base bigint;  -- the position before the batch's first event
    contents bytea[];
    prevs bytea[];
    hashes bytea[];
    prev bytea;
    i integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(7265616465);  -- held to commit: the checks stay true
    -- Plain: distinct streams (a second append to a stream must see the first), no known or
    -- repeated key (a repeat replays), expected versions met.
    IF (appends > 1 AND (SELECT count(DISTINCT s) <> appends FROM unnest(p_streams) s))
       OR (keyed AND ((SELECT count(k) <> count(DISTINCT k) FROM unnest(p_keys) k)
                      OR gl_any_key_known(p_keys))) THEN
        RETURN QUERY SELECT * FROM gl_append_grouped_each(p_streams, p_expected, p_keys,
                                                          p_events);
        RETURN;
    END IF;
    SELECT array_agg(coalesce(h.version, 0) ORDER BY s.o), array_agg(h.hash ORDER BY s.o)
      INTO heads, head_hashes
      FROM unnest(p_streams) WITH ORDINALITY AS s(stream_id, o)
      LEFT JOIN LATERAL (SELECT e.version, e.hash FROM events e WHERE e.stream_id = s.stream_id
                         ORDER BY e.version DESC LIMIT 1) h ON true;
    IF EXISTS (SELECT 1 FROM unnest(p_expected, heads) AS x(expected, head)
               WHERE x.expected IS NOT NULL AND x.expected <> x.head) THEN
        RETURN QUERY SELECT * FROM gl_append_grouped_each(p_streams, p_expected, p_keys,
                                                          p_events);
        RETURN;
    END IF;

    SELECT array_agg(n ORDER BY a), array_agg(before ORDER BY a), sum(n)
      INTO counts, starts, total
      FROM (SELECT g.a, jsonb_array_length(g.events) AS n,
                   coalesce(sum(jsonb_array_length(g.events)) OVER (ORDER BY g.a ROWS BETWEEN
                            UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
            FROM jsonb_array_elements(p_events) WITH ORDINALITY AS g(events, a)) c;
    -- Positions: one contiguous block. Only appends move this sequence, all under the lock.
    base := nextval('events_position_seq') - 1;
    IF total > 1 THEN
        PERFORM setval('events_position_seq', base + total);
    END IF;

    -- Renderings in one pass over the document; the chain, which is sequential, in a loop.
    contents := ARRAY(
        SELECT gl_event_content_v2((e->>0)::uuid, p_streams[g.a], heads[g.a] + x.k::integer,
                                   base + starts[g.a] + x.k, e->>1, (e->>2)::integer,
                                   coalesce((e->>5)::timestamptz, now()), now(), e->3, e->4,
                                   e->>6, (e->>7)::uuid, (e->>8)::uuid, p_keys[g.a], e->>9)
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS g(events, a),
             jsonb_array_elements(g.events) WITH ORDINALITY AS x(e, k)
        ORDER BY g.a, x.k);
    FOR a IN 1..appends LOOP
        prev := head_hashes[a];
        FOR k IN 1..counts[a] LOOP
            i := i + 1;
            prevs[i] := prev;
            prev := sha256(coalesce(prev, '\x'::bytea) || contents[i]);
            hashes[i] := prev;
        END LOOP;
    END LOOP;

    INSERT INTO events (position, stream_id, version, event_id, type, schema_version, occurred_at,
                        recorded_at, branch_id, actor, correlation_id, causation_id,
                        idempotency_key, policy_version, data, prev_hash, hash, digest_version)
    SELECT base + o, p_streams[g.a], heads[g.a] + x.k::integer, (e->>0)::uuid, e->>1,
           (e->>2)::integer, coalesce((e->>5)::timestamptz, now()), now(), e->>6, e->4,
           (e->>7)::uuid, (e->>8)::uuid, p_keys[g.a], e->>9, e->3, prevs[o], hashes[o], 2
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS g(events, a),
         jsonb_array_elements(g.events) WITH ORDINALITY AS x(e, k),
         LATERAL (SELECT starts[g.a] + x.k::integer AS o) place;

    RETURN QUERY
    WITH spans AS (
        SELECT a, counts[a] AS n, base + starts[a] + 1 AS p1, base + starts[a] + counts[a] AS p2
        FROM generate_series(1, appends) AS a
    ), remembered AS (
        INSERT INTO idempotency_keys (key, stream_id, first_version, last_version,
                                      first_position, last_position)
        SELECT p_keys[s.a], p_streams[s.a], heads[s.a] + 1, heads[s.a] + s.n, s.p1, s.p2
        FROM spans s WHERE p_keys[s.a] IS NOT NULL
    )
    SELECT s.a, p_streams[s.a], heads[s.a] + 1, heads[s.a] + s.n, s.p1, s.p2, false,
           NULL::text, NULL::text
    FROM spans s ORDER BY s.a;
END
$$;

ALTER FUNCTION gl_append_grouped(text[], integer[], text[], jsonb) SET plan_cache_mode = auto;

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
