-- Plaintext without the decrypt grant, by routes other than the plain
-- output and cast the regress suite covers (test/regress/sql/access_control.sql):
-- functions that print their argument, JSON, arrays, rows, statistics,
-- views and triggers owned by a granted role, the I/O functions called
-- directly, domains, and procedural code.  Each must fail with 42501 (or,
-- where nothing is decrypted, give envelopes), never the plaintext.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('gb');
CREATE ROLE gb_reader;     -- holds the grant
CREATE ROLE gb_outsider;   -- SELECT, INSERT and UPDATE on the table, no grant
SELECT colcrypt.grant_decrypt('gb', 'gb_reader');
CREATE TABLE gb_secrets (id int, v colcrypt.encrypted_text('gb'));
INSERT INTO gb_secrets VALUES (1, 'GB-SECRET-ONE'), (2, 'GB-SECRET-TWO'), (3, 'GB-SECRET-ONE');
GRANT SELECT, INSERT, UPDATE ON gb_secrets TO gb_outsider, gb_reader;
ANALYZE gb_secrets;
-- A view and a trigger owned by the granted role: they run the output
-- function as the role that queries, not as their owner.
CREATE VIEW gb_view AS SELECT id, v, v::text AS plain FROM gb_secrets;
ALTER VIEW gb_view OWNER TO gb_reader;
GRANT SELECT ON gb_view TO gb_outsider;
CREATE TABLE gb_log (line text);
GRANT INSERT, SELECT ON gb_log TO gb_outsider;
CREATE FUNCTION gb_copy_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO gb_log VALUES (NEW.v::text);
    RETURN NEW;
END $$;
CREATE TRIGGER gb_copy_out BEFORE UPDATE ON gb_secrets FOR EACH ROW EXECUTE FUNCTION gb_copy_out();
-- A helper that reports the SQLSTATE of a statement, or its result.
CREATE FUNCTION gb_try(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
    EXECUTE query INTO result;
    RETURN 'result: ' || coalesce(result, 'null');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE DOMAIN gb_text AS text;

SET ROLE gb_outsider;
SELECT route, gb_try(query) AS outcome FROM (VALUES
    ('format',            $$SELECT format('%s', v) FROM gb_secrets WHERE id = 1$$),
    ('concat',            $$SELECT concat(v) FROM gb_secrets WHERE id = 1$$),
    ('concat operator',   $$SELECT v || '' FROM gb_secrets WHERE id = 1$$),
    ('text domain',       $$SELECT v::gb_text FROM gb_secrets WHERE id = 1$$),
    ('varchar',           $$SELECT v::varchar FROM gb_secrets WHERE id = 1$$),
    ('to_json',           $$SELECT to_json(v)::text FROM gb_secrets WHERE id = 1$$),
    ('row_to_json',       $$SELECT row_to_json(s)::text FROM gb_secrets s WHERE id = 1$$),
    ('jsonb_agg',         $$SELECT jsonb_agg(v)::text FROM gb_secrets$$),
    ('row as text',       $$SELECT s::text FROM gb_secrets s WHERE id = 1$$),
    ('array as text',     $$SELECT array_agg(v)::text FROM gb_secrets$$),
    ('array_to_string',   $$SELECT array_to_string(array_agg(v), ',') FROM gb_secrets$$),
    ('string_agg',        $$SELECT string_agg(v::text, ',') FROM gb_secrets$$),
    ('length',            $$SELECT length(v::text)::text FROM gb_secrets WHERE id = 1$$),
    ('LIKE',              $$SELECT count(*)::text FROM gb_secrets WHERE v::text LIKE 'GB-%'$$),
    ('output function',   $$SELECT colcrypt.encrypted_text_out(v)::text FROM gb_secrets WHERE id = 1$$),
    ('send function',     $$SELECT encode(colcrypt.encrypted_text_send(v), 'escape') FROM gb_secrets WHERE id = 1$$),
    ('textin of output',  $$SELECT textin(colcrypt.encrypted_text_out(v)) FROM gb_secrets WHERE id = 1$$),
    ('statistics',        $$SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'gb_secrets' AND attname = 'v'$$),
    ('view column',       $$SELECT v::text FROM gb_view WHERE id = 1$$),
    ('view cast column',  $$SELECT plain FROM gb_view WHERE id = 1$$),
    ('CTE',               $$WITH c AS MATERIALIZED (SELECT v FROM gb_secrets) SELECT v::text FROM c LIMIT 1$$),
    ('sql function',      $$SELECT (SELECT v::text FROM gb_secrets WHERE id = 1)$$),
    ('md5 of plaintext',  $$SELECT md5(v::text) FROM gb_secrets WHERE id = 1$$)
) AS routes(route, query);
-- The trigger function runs as the role that updates, so it cannot decrypt
-- for the outsider either.
UPDATE gb_secrets SET id = id WHERE id = 1;
SELECT count(*) AS logged FROM gb_log;
-- psql's own output of a whole row, and COPY of the table.
SELECT * FROM gb_secrets WHERE id = 1;
COPY gb_secrets TO stdout;
-- What needs no grant: lookups by term, ordering by term, counting
-- distinct values, and the envelopes in ciphertext mode.
SELECT id FROM gb_secrets WHERE v = 'GB-SECRET-ONE' ORDER BY id;
SELECT count(DISTINCT v) AS distinct_values FROM gb_secrets;
SELECT count(*) AS ordered FROM (SELECT v FROM gb_secrets ORDER BY v) s;
SET colcrypt.output_mode = ciphertext;
SELECT count(*) AS envelopes FROM gb_secrets WHERE colcrypt.encrypted_text_out(v)::text LIKE 'colcrypt:%';
SELECT count(*) AS enveloped_stats FROM pg_stats
 WHERE tablename = 'gb_secrets' AND attname = 'v' AND most_common_vals::text LIKE '{colcrypt:%';
RESET colcrypt.output_mode;
RESET ROLE;

-- The granted role reads through every one of these.
SET ROLE gb_reader;
SELECT format('%s', v) AS formatted, to_json(v)::text AS json, s::text AS row FROM gb_secrets s WHERE id = 2;
SELECT plain FROM gb_view WHERE id = 2;
RESET ROLE;

DROP TABLE gb_secrets, gb_log CASCADE;
DROP FUNCTION gb_copy_out(), gb_try(text);
DROP DOMAIN gb_text;
SELECT colcrypt.revoke_decrypt('gb', 'gb_reader');
SELECT colcrypt.revoke_decrypt('gb', current_user::regrole);
DROP ROLE gb_reader, gb_outsider;
