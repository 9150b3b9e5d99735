-- The data subjects' keys (shared/personal.py, docs/privacy.md), in a database of their own so
-- that the events, their backups and the people who can read them never hold a key. A destroyed
-- key leaves its row: the subject is known as erased and never gets a new key.
CREATE TABLE personal_keys (
    subject     text        PRIMARY KEY,
    key         bytea,                      -- NULL once destroyed
    created_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz,
    reason      text,
    CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);
