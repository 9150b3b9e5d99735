-- What an event's hash covers (ADR 0005, ADR 0009). The live definitions: applied after the
-- migrations at every start whose file differs from the one last applied (shared/db.py).
--
-- A stored hash was computed by one of these, and verification recomputes it with the same one:
-- never change what a digest computes. A new digest is a new pair of functions, a new value of
-- events.digest_version (a migration) and a branch in gl_stored_digest.
--
-- Each event's hash chains it to its stream's previous event: sha256(previous hash || what the
-- event says). Digest 2, written by every append path (append.sql), covers every stored column
-- but the hashes; digest 1 left out recorded_at, position, the correlation and causation ids and
-- the idempotency key, and stays for the rows hashed with it.
--
-- The functions are STABLE, not IMMUTABLE: they call stable functions (concat_ws, convert_to,
-- extract(epoch FROM timestamptz)), and only a function declared no stricter than what it calls
-- is inlined into the calling query.

-- Digest 2: an event's fields as text, one SHA-256 with its predecessor's hash.
CREATE OR REPLACE FUNCTION gl_event_content_v2(
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

CREATE OR REPLACE FUNCTION gl_event_digest_v2(
    p_prev bytea, p_event_id uuid, p_stream text, p_version integer, p_position bigint,
    p_type text, p_schema integer, p_occurred timestamptz, p_recorded timestamptz, p_data jsonb,
    p_actor jsonb, p_branch text, p_corr uuid, p_cause uuid, p_key text, p_policy text
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(coalesce(p_prev, '\x'::bytea) || gl_event_content_v2(p_event_id, p_stream,
        p_version, p_position, p_type, p_schema, p_occurred, p_recorded, p_data, p_actor,
        p_branch, p_corr, p_cause, p_key, p_policy))
$$;

-- Digest 1: a content digest of the event, then a second SHA-256 with its predecessor's hash.
CREATE OR REPLACE FUNCTION gl_content_digest(
    p_event_id uuid, p_stream text, p_version integer, p_type text, p_schema integer,
    p_occurred timestamptz, p_data jsonb, p_actor jsonb, p_branch text, p_policy text
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(concat_ws('|',
        p_event_id::text, p_stream, p_version::text, p_type, p_schema::text,
        (extract(epoch FROM p_occurred) * 1000000)::bigint::text,
        p_data::text, p_actor::text, coalesce(p_branch, ''), coalesce(p_policy, '')), 'UTF8'))
$$;

CREATE OR REPLACE FUNCTION gl_event_digest(
    p_prev bytea, p_event_id uuid, p_stream text, p_version integer, p_type text,
    p_schema integer, p_occurred timestamptz, p_data jsonb, p_actor jsonb, p_branch text,
    p_policy text
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(coalesce(p_prev, '\x'::bytea) || gl_content_digest(p_event_id, p_stream,
        p_version, p_type, p_schema, p_occurred, p_data, p_actor, p_branch, p_policy))
$$;

-- The hash a stored row must have, by the digest it was written under (NULL for a digest this
-- code does not know, which verification reports). Used by PostgresEventStore.verify.
CREATE OR REPLACE FUNCTION gl_stored_digest(e events) RETURNS bytea LANGUAGE sql STABLE AS $$
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
