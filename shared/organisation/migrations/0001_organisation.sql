-- The organisation as a consuming service knows it, learnt from enrollment's events in its inbox
-- (shared/directory.py): branches and the staff who train and examine, for the names people read
-- beside the ids, and for the branch ids a query may name (a branch is known once its
-- BranchRegistered arrived: kind IS NOT NULL). One component (schema_migrations' `organisation`)
-- that training, assessment and compensation each apply to their own database.
--
-- The names follow the highest version of the branch's stream that carried them (names_version);
-- a closed branch keeps its row, its names and its history.
CREATE TABLE branches (
    branch_id      text        PRIMARY KEY,
    kind           text,       -- hq | branch_office | dealer
    name_zh        text,
    name_en        text,
    names_version  integer     NOT NULL DEFAULT 0,
    status         text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    closed_on      date,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- A trainer's or an examiner's staff id is the id plans, sessions and penalties name.
CREATE TABLE staff (
    staff_id    text        PRIMARY KEY,
    name        text,
    department  text,
    roles       jsonb       NOT NULL DEFAULT '[]',
    branch_id   text,
    left_on     date,       -- StaffLeft: the name stays, for the history it is in
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Organisation events an earlier release kept in the inbox without using them (enrollment was
-- upgraded first): applied now, as the consumer would have, the latest of each kind winning.
INSERT INTO branches (branch_id, kind, name_zh, name_en, names_version)
SELECT DISTINCT ON (d ->> 'branch_id') d ->> 'branch_id', d ->> 'kind', d ->> 'name_zh',
       d ->> 'name_en', version
FROM (SELECT envelope -> 'data' AS d, version FROM inbox
      WHERE service = 'enrollment' AND type = 'BranchRegistered') registered
ORDER BY d ->> 'branch_id', version DESC;

UPDATE branches b
SET name_zh = coalesce(renamed.d ->> 'name_zh', b.name_zh),
    name_en = coalesce(renamed.d ->> 'name_en', b.name_en),
    names_version = renamed.version
FROM (SELECT DISTINCT ON (envelope -> 'data' ->> 'branch_id') envelope -> 'data' AS d, version
      FROM inbox WHERE service = 'enrollment' AND type = 'BranchRenamed'
      ORDER BY envelope -> 'data' ->> 'branch_id', version DESC) renamed
WHERE renamed.d ->> 'branch_id' = b.branch_id AND renamed.version > b.names_version;

UPDATE branches b SET status = 'closed', closed_on = left(closed.d ->> 'closed_on', 10)::date
FROM (SELECT DISTINCT ON (envelope -> 'data' ->> 'branch_id') envelope -> 'data' AS d
      FROM inbox WHERE service = 'enrollment' AND type = 'BranchClosed'
      ORDER BY envelope -> 'data' ->> 'branch_id', version DESC) closed
WHERE closed.d ->> 'branch_id' = b.branch_id;

INSERT INTO staff (staff_id, name, department, roles, branch_id)
SELECT DISTINCT ON (d ->> 'staff_id') d ->> 'staff_id', d ->> 'name', d ->> 'department',
       coalesce(d -> 'roles', '[]'), d ->> 'branch_id'
FROM (SELECT envelope -> 'data' AS d, version FROM inbox
      WHERE service = 'enrollment' AND type = 'StaffRegistered') registered
ORDER BY d ->> 'staff_id', version DESC;

UPDATE staff s SET left_on = left(gone.d ->> 'left_on', 10)::date
FROM (SELECT DISTINCT ON (envelope -> 'data' ->> 'staff_id') envelope -> 'data' AS d
      FROM inbox WHERE service = 'enrollment' AND type = 'StaffLeft'
      ORDER BY envelope -> 'data' ->> 'staff_id', version DESC) gone
WHERE gone.d ->> 'staff_id' = s.staff_id;
