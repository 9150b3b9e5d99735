-- The event store: the events table (also the relay's outbox), idempotency keys, the append
-- function, and the inbox of consumed events.

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

-- What the hash of one event covers: its content digest (every stored column that means
-- something) chained to its predecessor's hash. Verification recomputes both from the stored
-- columns, so an edit of any of them, or of the chain link, shows.
CREATE FUNCTION gl_content_digest(
    p_event_id uuid, p_stream text, p_version integer, p_type text, p_schema integer,
    p_occurred timestamptz, p_data jsonb, p_actor jsonb, p_branch text, p_policy text
) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(concat_ws('|',
        p_event_id::text, p_stream, p_version::text, p_type, p_schema::text,
        (extract(epoch FROM p_occurred) * 1000000)::bigint::text,
        p_data::text, p_actor::text, coalesce(p_branch, ''), coalesce(p_policy, '')), 'UTF8'))
$$;

CREATE FUNCTION gl_event_digest(
    p_prev bytea, p_event_id uuid, p_stream text, p_version integer, p_type text,
    p_schema integer, p_occurred timestamptz, p_data jsonb, p_actor jsonb, p_branch text,
    p_policy text
) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(coalesce(p_prev, '\x'::bytea) || gl_content_digest(p_event_id, p_stream,
        p_version, p_type, p_schema, p_occurred, p_data, p_actor, p_branch, p_policy))
$$;

-- Append events to one stream in the caller's transaction.
--
-- Gap safety: positions are taken under a transaction-scoped advisory lock that is held until
-- commit, so positions become visible in increasing order and a reader tailing by position never
-- skips an event that commits late. Only this function takes the lock; its critical section is
-- the head read, the insert and the commit.
--
-- Raises SQLSTATE GL409 when p_expected (NULL = any) is not the stream's version; a repeated
-- idempotency key returns the first append's result (its stream too) with replayed = true.
CREATE FUNCTION gl_append(
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
        prev := gl_event_digest(prev, p_ids[i], p_stream, cur + i, p_types[i], p_schemas[i],
                                occurred[i], p_data[i], p_actor[i], p_branch[i], p_policy[i]);
        hashes[i] := prev;
    END LOOP;

    INSERT INTO events (position, stream_id, version, event_id, type, schema_version, occurred_at,
                        branch_id, actor, correlation_id, causation_id, idempotency_key,
                        policy_version, data, prev_hash, hash)
    SELECT positions[o], p_stream, cur + o, p_ids[o], p_types[o], p_schemas[o], occurred[o],
           p_branch[o], p_actor[o], p_corr[o], p_cause[o], p_key, p_policy[o], p_data[o],
           prevs[o], hashes[o]
    FROM generate_series(1, n) AS o;

    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (key, stream_id, first_version, last_version,
                                      first_position, last_position)
        VALUES (p_key, p_stream, cur + 1, cur + n, positions[1], positions[n]);
    END IF;

    RETURN QUERY SELECT p_stream, cur + 1, cur + n, positions[1], positions[n], false;
END
$$;

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
