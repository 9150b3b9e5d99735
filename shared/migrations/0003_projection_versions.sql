-- Which version of each projection's code built its live tables; a mismatch at start-up rebuilds.
CREATE TABLE projection_versions (
    name        text        PRIMARY KEY,
    version     integer     NOT NULL,
    rebuilt_at  timestamptz NOT NULL DEFAULT now()
);
