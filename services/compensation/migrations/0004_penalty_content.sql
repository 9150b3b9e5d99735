-- R-24: an exam session is held for a product series or for a training content (a content code
-- of R-7a or a mandatory topic); a trainer's penalty names the one its session was held for.
ALTER TABLE trainer_penalties ALTER COLUMN product_series DROP NOT NULL;
ALTER TABLE trainer_penalties ADD COLUMN content text;
