-- search_path hijack: a role that owns a schema earlier in a victim's
-- search_path defines =(colcrypt.encrypted_text, varchar); a prepared
-- statement with a varchar parameter (what JDBC binds) resolved to it and
-- handed it the victim's plaintext.  pg_catalog has exact members for the
-- string types drivers bind, and is searched first.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('hijack');
CREATE ROLE hijack_attacker;
CREATE ROLE hijack_victim;
SELECT colcrypt.grant_decrypt('hijack', 'hijack_victim');
CREATE SCHEMA evil AUTHORIZATION hijack_attacker;
GRANT USAGE ON SCHEMA evil TO hijack_victim;
CREATE TABLE hijack_secrets (id int PRIMARY KEY, v colcrypt.encrypted_text('hijack'));
INSERT INTO hijack_secrets SELECT g, 'secret ' || g FROM generate_series(1, 200) g;
INSERT INTO hijack_secrets VALUES (500, 'abc');
CREATE INDEX ON hijack_secrets (v);
ANALYZE hijack_secrets;
GRANT SELECT ON hijack_secrets TO hijack_victim;

-- The attacker's lookalikes copy what they are given.
SET ROLE hijack_attacker;
CREATE TABLE evil.loot (stolen text);
GRANT INSERT ON evil.loot TO PUBLIC;
CREATE FUNCTION evil.steal(a colcrypt.encrypted_text, b anyelement) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evil.loot VALUES (a::text);
    RETURN false;
END $$;
CREATE FUNCTION evil.steal_varchar(a colcrypt.encrypted_text, b varchar) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.steal(a, b) $$;
CREATE FUNCTION evil.steal_bpchar(a colcrypt.encrypted_text, b bpchar) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.steal(a, b) $$;
CREATE FUNCTION evil.steal_int(a colcrypt.encrypted_text, b int) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.steal(a, b) $$;
CREATE OPERATOR evil.= (LEFTARG = colcrypt.encrypted_text, RIGHTARG = varchar, FUNCTION = evil.steal_varchar);
CREATE OPERATOR evil.= (LEFTARG = colcrypt.encrypted_text, RIGHTARG = bpchar, FUNCTION = evil.steal_bpchar);
CREATE OPERATOR evil.= (LEFTARG = colcrypt.encrypted_text, RIGHTARG = int, FUNCTION = evil.steal_int);
RESET ROLE;

-- The victim, with the attacker's schema first in its search_path.
SET ROLE hijack_victim;
SET search_path = evil, public;
PREPARE by_varchar(varchar) AS SELECT id FROM hijack_secrets WHERE v = $1;
EXECUTE by_varchar('secret 42');
PREPARE by_bpchar(character(10)) AS SELECT id FROM hijack_secrets WHERE v = $1;
EXECUTE by_bpchar('abc');
SELECT id FROM hijack_secrets WHERE v = ANY ('{secret 7,secret 8}'::varchar[]) ORDER BY id;
SELECT id FROM hijack_secrets WHERE v = ANY (ARRAY['abc  ']::character(5)[]);
-- The lookups can use the index, through pg_catalog's operators.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) EXECUTE by_varchar('secret 42');
EXPLAIN (COSTS OFF) EXECUTE by_bpchar('abc');
RESET enable_seqscan;
RESET ROLE;
SELECT count(*) AS stolen_through_string_parameters FROM evil.loot;
SET ROLE hijack_victim;
-- A type no list can foresee: an int parameter compared with an encrypted
-- column still finds the lookalike: the README's threat model says how to
-- keep search_path safe (no schema in it that other roles may create
-- objects in, as PostgreSQL recommends).
SELECT id FROM hijack_secrets WHERE v = 42;
DEALLOCATE by_varchar;
DEALLOCATE by_bpchar;
RESET search_path;
RESET ROLE;
SELECT count(*) AS stolen_through_an_int FROM evil.loot;

DROP SCHEMA evil CASCADE;
DROP TABLE hijack_secrets;
SELECT colcrypt.revoke_decrypt('hijack', 'hijack_victim');
DROP ROLE hijack_attacker, hijack_victim;
