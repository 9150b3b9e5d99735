-- R-24 for a session held for one training content (issue 12): the trainers held responsible are
-- those of the stages covering it, i.e. listing it in `covers` (R-7a content codes) or teaching it
-- as their `topic` (R-8a mandatory topics). Both are read from the drafted row every stage keeps
-- (`spec`, canonical JSON), so rows learnt before training's stages listed covers need no backfill.
ALTER TABLE plan_stages
    ADD COLUMN covers jsonb GENERATED ALWAYS AS ((spec::jsonb) -> 'covers') STORED,
    ADD COLUMN topic text GENERATED ALWAYS AS ((spec::jsonb) ->> 'topic') STORED;
ALTER TABLE plan_stages_in_force
    ADD COLUMN covers jsonb GENERATED ALWAYS AS ((spec::jsonb) -> 'covers') STORED,
    ADD COLUMN topic text GENERATED ALWAYS AS ((spec::jsonb) ->> 'topic') STORED;
CREATE INDEX plan_stages_in_force_covers_idx ON plan_stages_in_force USING gin (covers);
CREATE INDEX plan_stages_in_force_topic_idx ON plan_stages_in_force (topic, trainee_id);
