-- Responses to POST/PUT requests that carried an Idempotency-Key, replayed when the key comes
-- again (shared/idempotency.py). scope = method + route template + principal, so two clients'
-- keys never collide; request_hash tells a true repeat from a key reused for another request.
CREATE TABLE http_idempotency (
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status       int         NOT NULL,
    body         bytea       NOT NULL,
    headers      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- Lets a housekeeping job expire old keys without scanning the table.
CREATE INDEX http_idempotency_created_idx ON http_idempotency (created_at);
