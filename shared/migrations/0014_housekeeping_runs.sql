-- Runs of the scheduled purge (`gradeline purge`, docs/operations.md "Housekeeping"), one row per
-- table it purges, read by every process's /metrics: the job is a short-lived process that no
-- Prometheus scrapes, so its counts live where the services can report them.
CREATE TABLE housekeeping_runs (
    target          text        PRIMARY KEY,  -- the table purged: http_idempotency, inbox
    runs            bigint      NOT NULL DEFAULT 0,
    failures        bigint      NOT NULL DEFAULT 0,
    purged          bigint      NOT NULL DEFAULT 0,  -- rows purged by every run so far
    last_run_at     timestamptz,
    last_success_at timestamptz,
    mark            bigint      NOT NULL DEFAULT 0  -- inbox: the seq up to which rows were looked at
);
