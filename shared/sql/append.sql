-- The append path of the event store, as the database runs it. The live definitions: applied
-- after the migrations at every start whose file differs from the one last applied
-- (shared/db.py, migrate), so an edit here is the one place a function changes. A changed
-- signature or result is a new function beside the old one: drop the old one in a migration.
--
-- Python side: shared/eventstore.py (PostgresEventStore.append) and shared/groupcommit.py.
--
--   an append on its own      -> GroupCommit: concurrent appends of one process, one call of
--                                gl_append_grouped per batch
--     plain batch             -> gl_append_grouped: checked and inserted set-wise
--     otherwise               -> gl_append_grouped_each -> gl_append_each -> gl_append, one
--                                subtransaction per append
--     an event id met twice   -> the client sends the batch again to gl_append_grouped_each
--   an append in a caller's
--   transaction (a consumer)  -> gl_append, in a savepoint
--
-- Invariants every path keeps:
-- - Gap safety (ADR 0001): positions are taken under the transaction-scoped advisory lock
--   7265616465 ('grade'), held to commit, so positions become visible in increasing order and a
--   reader tailing by position never skips an event that commits late. Only these functions
--   take the lock; its critical section is the head read, the insert and the commit. Only they
--   move events_position_seq.
-- - Each event's hash is digest 2 (digests.sql) over its predecessor's hash in its stream.
-- - Refusals: an expected version not met is SQLSTATE GL409 (detail: the stream's version); a
--   repeated idempotency key returns the first append's result (its stream too) with
--   replayed = true; an event id already stored is a unique violation (events_event_id_key).
--   The batch functions report a refused append in its row (error 'conflict' or 'unique',
--   detail) and commit the others.

-- The group commit: every append of a batch, one row each (idx: the append's 1-based place).
--
-- p_events holds the events grouped by append, [[event, ...], ...], each event
-- [event_id, type, schema_version, data, actor, occurred_at, branch_id, correlation_id,
-- causation_id, policy_version] without its trailing nulls (reading past an array's end gives
-- NULL); shared/groupcommit.py, events_document, writes it.
--
-- A plain batch (distinct streams, no known or repeated key, expected versions met) is decided
-- under the lock before anything is written, then inserted set-wise: the renderings of its
-- events in one pass over the document, the chain (sequential) in a loop, one INSERT. Any
-- other batch goes append by append (gl_append_grouped_each), which refuses exactly the appends
-- that must be refused. The one refusal only the insert sees, an event id already stored (or
-- twice in the batch), fails the whole statement: nothing was written, and the client sends
-- the batch to gl_append_grouped_each.
--
-- Its statements plan the same whatever the tables' size (gl_any_key_known probes the key
-- index one key at a time), so unlike every other statement of the services' connections
-- (shared.db.SERVER_SETTINGS) it keeps PostgreSQL's cached plans: plan_cache_mode = auto.
CREATE OR REPLACE FUNCTION gl_append_grouped(
    p_streams text[], p_expected integer[], p_keys text[], p_events jsonb
) RETURNS TABLE (idx integer, stream text, first_version integer, last_version integer,
                 first_position bigint, last_position bigint, replayed boolean, error text,
                 detail text)
LANGUAGE plpgsql SET plan_cache_mode = auto AS $$
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

-- Whether any of p_keys (NULLs ignored) is already stored. One index probe per key: a cached
-- plan of `key = ANY (p_keys)` made while the table was small is a sequential scan, kept as the
-- table grows wherever no ANALYZE comes to replace it.
CREATE OR REPLACE FUNCTION gl_any_key_known(p_keys text[]) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    k text;
BEGIN
    FOREACH k IN ARRAY p_keys LOOP
        IF k IS NOT NULL AND EXISTS (SELECT 1 FROM idempotency_keys WHERE key = k) THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;

-- The batch of gl_append_grouped decided append by append: its document as the arrays of
-- gl_append_each, and each append's count.
CREATE OR REPLACE FUNCTION gl_append_grouped_each(
    p_streams text[], p_expected integer[], p_keys text[], p_events jsonb
) RETURNS TABLE (idx integer, stream text, first_version integer, last_version integer,
                 first_position bigint, last_position bigint, replayed boolean, error text,
                 detail text)
LANGUAGE plpgsql AS $$
DECLARE
    counts integer[]; ids uuid[]; types text[]; schemas integer[]; datas jsonb[];
    occurred timestamptz[]; branches text[]; actors jsonb[]; corrs uuid[]; causes uuid[];
    policies text[];
BEGIN
    SELECT array_agg(jsonb_array_length(g.events) ORDER BY g.a) INTO counts
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS g(events, a);
    SELECT array_agg((e->>0)::uuid ORDER BY g.a, x.k), array_agg(e->>1 ORDER BY g.a, x.k),
           array_agg((e->>2)::integer ORDER BY g.a, x.k), array_agg(e->3 ORDER BY g.a, x.k),
           array_agg(e->4 ORDER BY g.a, x.k), array_agg((e->>5)::timestamptz ORDER BY g.a, x.k),
           array_agg(e->>6 ORDER BY g.a, x.k), array_agg((e->>7)::uuid ORDER BY g.a, x.k),
           array_agg((e->>8)::uuid ORDER BY g.a, x.k), array_agg(e->>9 ORDER BY g.a, x.k)
      INTO ids, types, schemas, datas, actors, occurred, branches, corrs, causes, policies
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS g(events, a),
           jsonb_array_elements(g.events) WITH ORDINALITY AS x(e, k);
    RETURN QUERY SELECT * FROM gl_append_each(p_streams, p_expected, p_keys, counts, ids, types,
        schemas, datas, occurred, branches, actors, corrs, causes, policies);
END
$$;

-- Several appends in the caller's transaction, each through gl_append in a subtransaction of
-- its own (the EXCEPTION block): a conflict or a duplicate refuses that append only and is
-- reported in its row; the others commit. p_counts[a] events of the per-event arrays are
-- append a's, in order.
CREATE OR REPLACE FUNCTION gl_append_each(
    p_streams text[], p_expected integer[], p_keys text[], p_counts integer[],
    p_ids uuid[], p_types text[], p_schemas integer[], p_data jsonb[], p_occurred timestamptz[],
    p_branch text[], p_actor jsonb[], p_corr uuid[], p_cause uuid[], p_policy text[]
) RETURNS TABLE (idx integer, stream text, first_version integer, last_version integer,
                 first_position bigint, last_position bigint, replayed boolean, error text,
                 detail text)
LANGUAGE plpgsql AS $$
DECLARE
    lo integer := 1;
    hi integer;
    r record;
BEGIN
    FOR a IN 1..cardinality(p_streams) LOOP
        hi := lo + p_counts[a] - 1;
        idx := a;
        stream := p_streams[a];
        error := NULL;
        detail := NULL;
        BEGIN
            SELECT * INTO r FROM gl_append(
                p_streams[a], p_expected[a], p_keys[a], p_ids[lo:hi], p_types[lo:hi],
                p_schemas[lo:hi], p_data[lo:hi], p_occurred[lo:hi], p_branch[lo:hi],
                p_actor[lo:hi], p_corr[lo:hi], p_cause[lo:hi], p_policy[lo:hi]);
            stream := r.stream;
            first_version := r.first_version;
            last_version := r.last_version;
            first_position := r.first_position;
            last_position := r.last_position;
            replayed := r.replayed;
        EXCEPTION
            WHEN SQLSTATE 'GL409' THEN
                error := 'conflict';
                GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
            WHEN unique_violation THEN
                error := 'unique';
                GET STACKED DIAGNOSTICS detail = CONSTRAINT_NAME;
        END;
        RETURN NEXT;
        lo := hi + 1;
    END LOOP;
END
$$;

-- One append to one stream, in the caller's transaction. Raises GL409 when p_expected (NULL =
-- any) is not the stream's version; a repeated idempotency key returns the first append's
-- result with replayed = true.
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
