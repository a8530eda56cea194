-- Plaintext in the server log: values loaded through COPY (never in a query
-- text) must not reach the log through colcrypt's own paths, at
-- log_min_messages = debug1, also when statements on them fail.  The
-- log-leak check (test/log_leak/check.sh) reads this suite's server log
-- after the run; LEAKMARK-CONTROL-LITERAL below is its positive control.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('leak');
SELECT colcrypt.create_key('leak_other');
CREATE TABLE leak_staging (id int, v colcrypt.encrypted_text('leak'));
COPY leak_staging FROM stdin;
1	LEAKMARK-COPY-ADVERSARIAL-1
2	LEAKMARK-COPY-ADVERSARIAL-2
3	LEAKMARK-COPY-ADVERSARIAL-1
\.
CREATE TABLE leak_unique (v colcrypt.encrypted_text('leak') UNIQUE);
CREATE TABLE leak_other (v colcrypt.encrypted_text('leak_other'));
INSERT INTO leak_other SELECT v::text FROM leak_staging WHERE id = 2;
-- The values arrived (the log-leak check looks for this output, which is
-- the client's, not the server log's).
SELECT id, v FROM leak_staging ORDER BY id;
-- Lookups and joins on them (the term caches, debug logging on).
SELECT count(*) FROM leak_staging a JOIN leak_staging b USING (v);
SELECT id FROM leak_staging WHERE v = (SELECT v FROM leak_staging WHERE id = 2);
-- Failures whose messages could quote the values: a duplicate key (detail
-- redacted), values of two keyrings compared, a value cast to an integer
-- (PostgreSQL's own message: the plaintext the session decrypted is quoted,
-- as the README says; here it is not a marker, so it is shown).
INSERT INTO leak_unique SELECT v FROM leak_staging;
-- COPY rows it rejects: a line with one column too many (PostgreSQL's
-- context quotes the whole line), a value its domain's check refuses and
-- a bad integer beside a marker (the context quotes the column value or the
-- line).  The context keeps the line number and drops the input.
COPY leak_staging FROM stdin;
4	LEAKMARK-COPY-ADVERSARIAL-3	extra
\.
CREATE DOMAIN leak_short AS colcrypt.encrypted_text('leak') CHECK (length(VALUE::text) < 5);
CREATE TABLE leak_domain (id int, v leak_short);
COPY leak_domain FROM stdin;
1	abc
2	LEAKMARK-COPY-ADVERSARIAL-4
\.
COPY leak_staging (v, id) FROM stdin;
LEAKMARK-COPY-ADVERSARIAL-5	x5
\.
-- A line whose columns are shifted: the plaintext lands in the integer
-- column, whose input error would quote it.
COPY leak_staging (v, id) FROM stdin;
6	LEAKMARK-COPY-ADVERSARIAL-6
\.
-- A trigger that runs a utility statement for every row does not end the
-- redaction for the rows after it.
CREATE FUNCTION leak_utility() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL work_mem = '8MB';
    RETURN NEW;
END $$;
CREATE TRIGGER leak_utility BEFORE INSERT ON leak_staging FOR EACH ROW EXECUTE FUNCTION leak_utility();
COPY leak_staging FROM stdin;
7	fine
8	LEAKMARK-COPY-ADVERSARIAL-7	extra
\.
DROP TRIGGER leak_utility ON leak_staging;
DROP FUNCTION leak_utility();
-- colcrypt's own input errors keep their message (it never quotes input),
-- as do those of COPY's line parser.
COPY leak_staging FROM stdin;
9	colcrypt:AAAA
\.
SELECT count(*) FROM leak_domain;
-- A table without encrypted columns keeps PostgreSQL's context.
CREATE TABLE leak_plain (id int, note text);
COPY leak_plain FROM stdin;
1	visible	extra
\.
SELECT count(*) FROM leak_staging s JOIN leak_other o ON s.v = o.v;
SELECT ('12x' || id)::int FROM leak_staging WHERE id = 1;
SELECT count(*) FROM leak_unique;
-- A view's WITH CHECK OPTION describes the failing row, naming no table.
CREATE VIEW leak_checked AS SELECT * FROM leak_staging WHERE id < 100 WITH CHECK OPTION;
INSERT INTO leak_checked SELECT 100 + id, v FROM leak_staging WHERE id = 1;
DROP VIEW leak_checked;
-- The positive control: a literal the application wrote into its query.
SELECT 'LEAKMARK-CONTROL-LITERAL'::int;
DROP TABLE leak_staging, leak_unique, leak_other, leak_domain, leak_plain;
DROP DOMAIN leak_short;
