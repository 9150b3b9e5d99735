-- Several appends in one transaction (group commit). Concurrent appends of one process share one
-- commit, so they pay for one WAL flush and one hold of the append lock instead of one each. Each
-- append runs in its own subtransaction (the EXCEPTION block): a conflict or duplicate refuses
-- that append only and is reported in its row; the others commit.
CREATE FUNCTION gl_append_batch(
    p_streams text[], p_expected integer[], p_keys text[], p_counts integer[],
    p_ids uuid[], p_types text[], p_schemas integer[], p_data jsonb[], p_occurred timestamptz[],
    p_branch text[], p_actor jsonb[], p_corr uuid[], p_cause uuid[], p_policy text[]
) RETURNS TABLE (idx integer, stream text, first_version integer, last_version integer, first_position bigint,
                 last_position bigint, replayed boolean, error text, detail text)
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
