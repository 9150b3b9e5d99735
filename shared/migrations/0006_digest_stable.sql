-- The digests call stable functions (concat_ws, convert_to, extract(epoch from timestamptz)):
-- declared IMMUTABLE they are never inlined into the calling query. Same output: every stored
-- hash is unchanged.
ALTER FUNCTION gl_content_digest(uuid, text, integer, text, integer, timestamptz, jsonb, jsonb,
                                 text, text) STABLE;
ALTER FUNCTION gl_event_digest(bytea, uuid, text, integer, text, integer, timestamptz, jsonb,
                               jsonb, text, text) STABLE;
