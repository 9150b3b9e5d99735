-- R-9 with R-14 and R-21: a series is mastered only through the approved revision of a plan.
-- plan_stages keeps the latest drafted revision (its rows carry a redraft's signatures, and R-24
-- names the trainers of its stages); plan_stages_in_force holds the revision approved last, with
-- its sign-offs and send-backs: the trainee's facts are read from it.
CREATE TABLE plan_stages_in_force (LIKE plan_stages INCLUDING ALL);

-- Plans already known: the rows of a trainee whose latest drafted revision was approved (as the
-- inbox shows) are in force. A trainee whose re-draft still awaits approval gets its rows in force
-- when the executive vice-president approves it.
INSERT INTO plan_stages_in_force
SELECT p.* FROM plan_stages p
WHERE EXISTS (
    SELECT 1 FROM inbox approved
    WHERE approved.type = 'PlanApproved'
      AND approved.envelope -> 'data' ->> 'trainee_id' = p.trainee_id
      AND (approved.envelope -> 'data' ->> 'revision')::int = (
          SELECT max((drafted.envelope -> 'data' ->> 'revision')::int) FROM inbox drafted
          WHERE drafted.type = 'PlanDrafted'
            AND drafted.envelope -> 'data' ->> 'trainee_id' = p.trainee_id
      )
);
