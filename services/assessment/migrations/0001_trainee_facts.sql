-- What assessment knows of each trainee, learnt from the enrollment and training events in its
-- inbox (services/assessment/consumers.py): the R-21 inputs of a grade and, for R-24, who trained
-- whom on which product series.
--
-- A trainee is "known" once its TraineeEnrolled arrived (branch_id IS NOT NULL): a re-driven
-- enrolment may arrive after a later event of the same trainee, which then made the row first.
-- status follows the event with the highest version of the trainee's enrollment stream.
CREATE TABLE trainee_facts (
    trainee_id       text        PRIMARY KEY,
    name             text,
    category         text,
    branch_id        text,
    education        text,
    experience_years numeric,
    certificates     jsonb       NOT NULL DEFAULT '[]',
    enrolled_series  jsonb       NOT NULL DEFAULT '[]',  -- R-3/R-14: mastered at enrollment
    status           text        NOT NULL CHECK (status IN ('enrolled', 'placed', 'withdrawn')),
    status_version   integer     NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trainee_facts_branch_idx ON trainee_facts (branch_id);

-- The trainee's current plan (training's PlanDrafted, StageSignedOff, StageReturned), one row per
-- stage; domain/trainee_record.py decides what each event does to it.
CREATE TABLE plan_stages (
    trainee_id      text    NOT NULL,
    stage_no        integer NOT NULL,
    trainer_id      text    NOT NULL,
    product_series  text,
    spec            text    NOT NULL,  -- the drafted row, canonical JSON (redrafts compare it)
    signed          boolean NOT NULL DEFAULT false,
    reopened        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (trainee_id, stage_no)
);
CREATE INDEX plan_stages_series_idx ON plan_stages (product_series, trainee_id);

-- A trainee's own history is read by trainee id (its grade, its disposition's session, the
-- audit): every assessment payload about one trainee names it in data.trainee_id.
CREATE INDEX events_trainee_idx ON events ((data ->> 'trainee_id'), position);
CREATE INDEX inbox_trainee_idx ON inbox (((envelope -> 'data') ->> 'trainee_id'), seq);
