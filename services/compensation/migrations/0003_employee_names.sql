-- People's names beside their ids in payroll and fee exports: the employee's name, from its
-- TraineeEnrolled (the latest one the inbox holds, for employees known before this migration).
ALTER TABLE known_employees ADD COLUMN name text;
UPDATE known_employees k SET name = enrolled.name
FROM (SELECT DISTINCT ON (envelope -> 'data' ->> 'trainee_id')
             envelope -> 'data' ->> 'trainee_id' AS employee_id,
             envelope -> 'data' ->> 'name' AS name
      FROM inbox WHERE service = 'enrollment' AND type = 'TraineeEnrolled'
      ORDER BY envelope -> 'data' ->> 'trainee_id', seq DESC) enrolled
WHERE enrolled.employee_id = k.employee_id;
