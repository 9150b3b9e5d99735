-- Personal data (issue 19, docs/privacy.md): assessment grades with how many distinct
-- certificates a trainee holds (R-21), never with their names, which enrollment seals with the
-- trainee's key; so no certificate name is kept here to erase.
ALTER TABLE trainee_facts ADD COLUMN certificate_count integer NOT NULL DEFAULT 0;
UPDATE trainee_facts
SET certificate_count = (SELECT count(DISTINCT c) FROM jsonb_array_elements_text(certificates) c)
WHERE jsonb_typeof(certificates) = 'array';
ALTER TABLE trainee_facts DROP COLUMN certificates;
