-- What compensation learns from the events it consumes (services/compensation/consumers.py).
-- Each table is written inside the inbox transaction of the event it comes from, so it holds
-- exactly what the inbox holds; each is keyed so a redelivered event changes nothing.

-- R-1/R-2: an employee's category and branch, from TraineeEnrolled.
CREATE TABLE known_employees (
    employee_id  text        PRIMARY KEY,
    category     text        NOT NULL,
    branch_id    text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- R-20/R-30/R-32: the grade decisions that set a pay rate (GradeAssigned; reserve after a
-- disposition or a correction into a failure). A decision waits here (applied_at NULL) while the
-- employee's category is unknown: the grade may overtake the enrolment on the bus.
CREATE TABLE grade_decisions (
    event_id        uuid        PRIMARY KEY,
    seq             bigserial   NOT NULL,  -- arrival order: pending decisions apply in it
    employee_id     text        NOT NULL,
    source          text        NOT NULL,  -- the upstream event type
    position        text        NOT NULL,  -- technician | engineer | reserve
    level           text,
    effective_from  date        NOT NULL,
    supersedes      uuid,
    applied_at      timestamptz
);
CREATE INDEX grade_decisions_pending_idx ON grade_decisions (employee_id, seq)
    WHERE applied_at IS NULL;

-- R-18/R-19: dispositions of failed trainees (DispositionDecided).
CREATE TABLE dispositions (
    event_id    uuid PRIMARY KEY,
    trainee_id  text NOT NULL,
    outcome     text NOT NULL,
    decided_on  date NOT NULL
);
CREATE INDEX dispositions_trainee_idx ON dispositions (trainee_id);

-- R-10/R-19: the distinct dates on which a training day was logged for a trainee.
CREATE TABLE training_days (
    trainee_id  text NOT NULL,
    day         date NOT NULL,
    PRIMARY KEY (trainee_id, day)
);
CREATE INDEX training_days_day_idx ON training_days (day);

-- R-24/R-33: trainer penalties assessed when an exam session closed (TrainerPenaltyAssessed).
CREATE TABLE trainer_penalties (
    event_id        uuid    PRIMARY KEY,
    trainer_id      text    NOT NULL,
    session_id      text    NOT NULL,
    product_series  text    NOT NULL,
    failure_rate    numeric NOT NULL,
    fine            numeric NOT NULL,
    assessed_on     date    NOT NULL
);
CREATE INDEX trainer_penalties_assessed_idx ON trainer_penalties (assessed_on);
