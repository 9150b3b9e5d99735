-- R-23 with R-32: the rate in force on a day is decided over the set of grade decisions, whatever
-- order they arrived in (domain/in_force.py). A decision keeps when it was made, which orders the
-- decisions that take effect on one day; effective_from is now always the decision's own day.
ALTER TABLE grade_decisions ADD COLUMN decided_at timestamptz;
