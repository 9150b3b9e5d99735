-- R-18a: the latest disposition of each trainee, learnt from assessment's DispositionDecided
-- (services/training/dispositions.py). A completed plan is re-drafted as a remedial revision only
-- when the latest one is continue_training. One row per trainee: the disposition decided last
-- (by decided_on, then session id), whatever the order the events arrived in.
CREATE TABLE trainee_dispositions (
    trainee_id  text        PRIMARY KEY,
    outcome     text        NOT NULL,
    decided_on  date        NOT NULL,
    session_id  text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
