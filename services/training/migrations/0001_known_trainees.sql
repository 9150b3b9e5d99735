-- What training knows of each trainee, learnt from the enrollment events in its inbox
-- (services/training/consumers.py). A plan is drafted only for a trainee known here.
--
-- name, category and branch_id stay NULL while only a later event has arrived: a dead-lettered
-- TraineeEnrolled that is re-driven reaches us after the PlacementExamScored of the same trainee
-- (ADR 0002), so a row may exist before its enrolment. "Known" means branch_id IS NOT NULL.
-- status is the one set by the latest event of the trainee's stream (status_version), whatever
-- the order the events arrived in.
CREATE TABLE known_trainees (
    trainee_id      text        PRIMARY KEY,
    name            text,
    category        text,
    branch_id       text,
    status          text        NOT NULL CHECK (status IN ('enrolled', 'placed', 'withdrawn')),
    status_version  integer     NOT NULL,
    position        text,
    plan_level      text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX known_trainees_branch_idx ON known_trainees (branch_id);
