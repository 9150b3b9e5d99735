-- The workbench's lists, read from the event store by id (reads.py: GET /sessions, GET /disputes):
-- each starts from one event type, so each has a partial index that a score's append never touches.
CREATE INDEX events_sessions_opened_idx ON events ((data ->> 'session_id'))
    WHERE type = 'ExamSessionOpened';
CREATE INDEX events_disputes_filed_idx ON events ((data ->> 'dispute_id'))
    WHERE type = 'GradeDisputed';
