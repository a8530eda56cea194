-- Decryption is a privilege of its own: not implied by SELECT, ownership or
-- superuser.  Writing needs only the table privileges.
CREATE ROLE regress_ac_owner IN ROLE colcrypt_admin;       -- creates the keyring
CREATE ROLE regress_ac_reader;                             -- granted
CREATE ROLE regress_ac_member IN ROLE regress_ac_reader;   -- member of a granted role
CREATE ROLE regress_ac_noinherit NOINHERIT IN ROLE regress_ac_reader;
CREATE ROLE regress_ac_outsider;                           -- no grant
CREATE ROLE regress_ac_super SUPERUSER;                    -- no grant either

SET ROLE regress_ac_owner;
SELECT colcrypt.create_key('ac');
SELECT colcrypt.grant_decrypt('ac', 'regress_ac_reader');
-- Granting twice changes nothing.
SELECT colcrypt.grant_decrypt('ac', 'regress_ac_reader');
RESET ROLE;
-- The outsider may read another keyring, but not 'ac'.
SELECT colcrypt.create_key('ac_other');
SELECT colcrypt.grant_decrypt('ac_other', 'regress_ac_outsider');
SELECT k.name, replace(g.grantee::text, session_user, '<bootstrap superuser>') AS grantee,
       g.granted_by = current_user AS granted_by_me
  FROM colcrypt.decrypt_grants g JOIN colcrypt.keyrings k USING (keyring_id)
 WHERE k.name LIKE 'ac%' ORDER BY 1, 2::text;

CREATE TABLE ac_data (id int, secret colcrypt.encrypted_text('ac'));
CREATE TABLE ac_other_data (id int, secret colcrypt.encrypted_text('ac_other'));
GRANT SELECT, INSERT, UPDATE ON ac_data, ac_other_data TO PUBLIC;
-- The test's own superuser did not create 'ac': it may write.
INSERT INTO ac_data VALUES (1, 'first secret');
INSERT INTO ac_other_data VALUES (1, 'other secret');

-- The keyring's creator.
SET ROLE regress_ac_owner;
INSERT INTO ac_data VALUES (2, 'by the creator');
SELECT id, secret FROM ac_data ORDER BY id;
RESET ROLE;

-- A granted role.
SET ROLE regress_ac_reader;
INSERT INTO ac_data VALUES (3, 'by the reader');
SELECT id, secret FROM ac_data ORDER BY id;
SELECT secret::text AS cast_to_text FROM ac_data WHERE id = 1;
RESET ROLE;

-- A member of a granted role, inheriting its privileges.
SET ROLE regress_ac_member;
INSERT INTO ac_data VALUES (4, 'by the member');
SELECT id, secret FROM ac_data ORDER BY id;
RESET ROLE;

-- A member that does not inherit: only after SET ROLE to the granted role.
SET ROLE regress_ac_noinherit;
SELECT secret FROM ac_data WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_ac_reader;
SELECT secret FROM ac_data WHERE id = 1;
RESET ROLE;

-- A role without the grant: every path to plaintext is refused, writing is
-- not, and ciphertext mode gives the envelopes without an error.
SET ROLE regress_ac_outsider;
INSERT INTO ac_data VALUES (5, 'by the outsider');
SELECT id, secret FROM ac_data ORDER BY id;
\echo :LAST_ERROR_SQLSTATE
SELECT secret::text FROM ac_data WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT secret FROM ac_data WHERE id = 1) TO stdout;
\echo :LAST_ERROR_SQLSTATE
SELECT id, (colcrypt.describe(secret)).keyring FROM ac_data ORDER BY id;
SET colcrypt.output_mode = ciphertext;
SELECT secret AS envelope FROM ac_data WHERE id = 1 \gset
SELECT left(:'envelope', 9) AS prefix, length(:'envelope') > 40 AS long_enough;
CREATE TEMP TABLE envelopes AS SELECT :'envelope'::text AS envelope;
SELECT count(*) AS envelopes FROM ac_data WHERE colcrypt.encrypted_text_out(secret)::text LIKE 'colcrypt:%';
-- Casting still decrypts, also in ciphertext mode.
SELECT secret::text FROM ac_data WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
RESET colcrypt.output_mode;
-- An envelope of the same keyring is stored as it is: no grant needed (a
-- ciphertext-mode restore), nor to copy values within the keyring.
INSERT INTO ac_data SELECT 6, envelope FROM envelopes;
INSERT INTO ac_data SELECT 7, secret FROM ac_data WHERE id = 1;
-- No laundering: re-encrypting under a keyring the outsider can read needs
-- the grant on the source keyring, by any path.
INSERT INTO ac_other_data SELECT 2, secret FROM ac_data WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ac_other_data SELECT 3, envelope FROM envelopes;
\echo :LAST_ERROR_SQLSTATE
UPDATE ac_other_data SET secret = (SELECT secret FROM ac_data WHERE id = 1);
\echo :LAST_ERROR_SQLSTATE
SELECT secret::colcrypt.encrypted_text('ac_other') FROM ac_data WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
-- Its own keyring reads, and values not yet bound to a keyring need none.
SELECT id, secret FROM ac_other_data ORDER BY id;
SELECT 'loose'::colcrypt.encrypted_text AS transit;
DROP TABLE envelopes;
RESET ROLE;

-- Membership counts as soon as it is granted, and stops when revoked.
GRANT regress_ac_reader TO regress_ac_outsider;
SET ROLE regress_ac_outsider;
SELECT secret FROM ac_data WHERE id = 1;
RESET ROLE;
REVOKE regress_ac_reader FROM regress_ac_outsider;
SET ROLE regress_ac_outsider;
SELECT secret FROM ac_data WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- A superuser is not implicitly allowed (the test's own superuser, which did
-- not create 'ac', neither), but can grant itself (audited).
\set VERBOSITY terse
SELECT count(*) FROM ac_data WHERE secret::text IS NOT NULL;
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_ac_super;
SELECT secret FROM ac_data WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.grant_decrypt('ac', 'regress_ac_super');
SELECT secret FROM ac_data WHERE id = 1;
RESET ROLE;

-- Revoking takes effect at once for the role and its members.
SET ROLE regress_ac_owner;
SELECT colcrypt.revoke_decrypt('ac', 'regress_ac_reader');
SELECT colcrypt.revoke_decrypt('ac', 'regress_ac_reader');
RESET ROLE;
SET ROLE regress_ac_reader;
SELECT secret FROM ac_data WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_ac_member;
SELECT secret FROM ac_data WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- A constraint violation keeps its SQLSTATE for a role that may not
-- decrypt: PostgreSQL describes the offending key or row with the output
-- functions, which show such a role the envelope there (and the log
-- redaction then replaces the detail), not a 42501 in place of 23505.
CREATE TABLE ac_constrained (id int PRIMARY KEY, secret colcrypt.encrypted_text('ac') UNIQUE,
                             age int CHECK (age > 0), nick text NOT NULL DEFAULT 'n');
GRANT SELECT, INSERT ON ac_constrained TO regress_ac_outsider;
CREATE SCHEMA ac_outsider_schema AUTHORIZATION regress_ac_outsider;
SET ROLE regress_ac_outsider;
INSERT INTO ac_constrained VALUES (1, 'taken secret', 5);
INSERT INTO ac_constrained VALUES (2, 'taken secret', 5);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ac_constrained VALUES (3, 'another secret', -1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ac_constrained VALUES (4, 'another secret', 5, NULL);
\echo :LAST_ERROR_SQLSTATE
-- (psql keeps no LAST_ERROR_SQLSTATE for COPY FROM STDIN: the code is shown)
\set VERBOSITY sqlstate
COPY ac_constrained (id, secret, age) FROM STDIN;
5	taken secret	7
\.
\set VERBOSITY default
-- The other encrypted types share the output path.
CREATE TABLE ac_outsider_schema.numbers (n colcrypt.encrypted_int4('ac') UNIQUE);
INSERT INTO ac_outsider_schema.numbers VALUES (42), (42);
\echo :LAST_ERROR_SQLSTATE
-- An exclusion constraint's conflict is described the same way.
CREATE TABLE ac_outsider_schema.excl (secret colcrypt.encrypted_text('ac'), EXCLUDE USING btree (secret WITH =));
INSERT INTO ac_outsider_schema.excl VALUES ('once'), ('once');
\echo :LAST_ERROR_SQLSTATE
-- What the describer got: the envelope, never the plaintext.  The
-- statement's SQLSTATE, whether its detail matches the pattern, and whether
-- it holds the plaintext.
CREATE FUNCTION ac_outsider_schema.violation(statement text, pattern text, plaintext text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    state text;
    detail text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
    RETURN format('%s, detail names an envelope: %s, the plaintext: %s',
                  state, detail LIKE pattern, strpos(detail, plaintext) > 0);
END $$;
SELECT ac_outsider_schema.violation($s$INSERT INTO ac_constrained VALUES (6, 'taken secret', 5)$s$,
                                    'Key (secret)=(colcrypt:%) already exists.', 'taken secret');
-- Foreign keys: a missing referenced key (checked by the trigger queue at
-- the end of the statement, or at COMMIT when deferred), a referenced row
-- deleted, and ALTER TABLE ... ADD FOREIGN KEY over existing rows.
CREATE TABLE ac_outsider_schema.parent (secret colcrypt.encrypted_text('ac') PRIMARY KEY);
CREATE TABLE ac_outsider_schema.child (secret colcrypt.encrypted_text('ac') REFERENCES ac_outsider_schema.parent);
INSERT INTO ac_outsider_schema.parent VALUES ('known');
INSERT INTO ac_outsider_schema.child VALUES ('known');
INSERT INTO ac_outsider_schema.child VALUES ('unknown');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM ac_outsider_schema.parent;
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE ac_outsider_schema.deferred (secret colcrypt.encrypted_text('ac')
    REFERENCES ac_outsider_schema.parent DEFERRABLE INITIALLY DEFERRED);
BEGIN;
INSERT INTO ac_outsider_schema.deferred VALUES ('unknown');
COMMIT;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
INSERT INTO ac_outsider_schema.deferred VALUES ('unknown');
SET CONSTRAINTS ALL IMMEDIATE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
CREATE TABLE ac_outsider_schema.orphans (secret colcrypt.encrypted_text('ac'));
INSERT INTO ac_outsider_schema.orphans VALUES ('unknown');
ALTER TABLE ac_outsider_schema.orphans ADD FOREIGN KEY (secret) REFERENCES ac_outsider_schema.parent;
\echo :LAST_ERROR_SQLSTATE
SELECT ac_outsider_schema.violation($s$INSERT INTO ac_outsider_schema.child VALUES ('unknown')$s$,
                                    'Key (secret)=(colcrypt:%) is not present in table "parent".', 'unknown');
-- A trigger of the role's own that formats the value is not PostgreSQL's
-- description, even when it runs from the trigger queue.
CREATE FUNCTION ac_outsider_schema.show() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'got %', NEW.secret;
    RETURN NULL;
END $$;
CREATE TRIGGER show AFTER INSERT ON ac_outsider_schema.orphans FOR EACH ROW EXECUTE FUNCTION ac_outsider_schema.show();
INSERT INTO ac_outsider_schema.orphans VALUES ('shown?');
\echo :LAST_ERROR_SQLSTATE
-- Duplicates found while building a unique index, by an owner without
-- the grant.
CREATE TABLE ac_outsider_schema.dups (secret colcrypt.encrypted_text('ac'));
INSERT INTO ac_outsider_schema.dups VALUES ('twice'), ('twice');
CREATE UNIQUE INDEX ON ac_outsider_schema.dups (secret);
\echo :LAST_ERROR_SQLSTATE
-- Reading is still refused, and so is a check constraint that needs the
-- plaintext: only PostgreSQL's own descriptions get the envelope.
SELECT secret FROM ac_constrained;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE ac_outsider_schema.dups ADD COLUMN n int DEFAULT 1;
ALTER TABLE ac_outsider_schema.dups ADD CONSTRAINT formatted CHECK (format('%s', secret) <> 'never') NOT VALID;
INSERT INTO ac_outsider_schema.dups VALUES ('third', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ac_outsider_schema.dups;
RESET ROLE;
SELECT id FROM ac_constrained ORDER BY id;
DROP SCHEMA ac_outsider_schema CASCADE;
DROP TABLE ac_constrained;

-- Bad arguments.
SELECT colcrypt.grant_decrypt('no_such_keyring', 'regress_ac_reader');
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.grant_decrypt('ac', 'regress_no_such_role');
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.grant_decrypt('ac', '-');
\echo :LAST_ERROR_SQLSTATE

-- Every grant and revoke is audited, with who did it.
SELECT operation, keyring,
       replace(regexp_replace(detail, '[0-9a-f]{16}', '<fingerprint>', 'g'),
               format('"%s"', session_user), '"<bootstrap superuser>"') AS detail,
       replace(current_user_name, session_user, '<bootstrap superuser>') AS by_role
  FROM colcrypt.key_events WHERE keyring IN ('ac', 'ac_other') ORDER BY event_id;

-- The encrypt privilege is checked for whoever seals each value: a role
-- set in the middle of a load, a grant revoked by the transaction itself,
-- and a subtransaction rolled back do not let the next value through on
-- the previous decision.
SELECT colcrypt.create_key('ac_seal') > 0 AS created;
SELECT colcrypt.revoke_encrypt('ac_seal', 'public');
SELECT colcrypt.grant_encrypt('ac_seal', 'regress_ac_reader');
CREATE TABLE ac_sealed (n int, v colcrypt.encrypted_text('ac_seal'));
GRANT INSERT ON ac_sealed TO regress_ac_reader, regress_ac_outsider;
BEGIN;
SET LOCAL ROLE regress_ac_reader;
INSERT INTO ac_sealed VALUES (1, 'first');
SET LOCAL ROLE regress_ac_outsider;
INSERT INTO ac_sealed VALUES (2, 'second');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SET LOCAL ROLE regress_ac_reader;
INSERT INTO ac_sealed VALUES (3, 'third');
RESET ROLE;
SELECT colcrypt.revoke_encrypt('ac_seal', 'regress_ac_reader');
SET LOCAL ROLE regress_ac_reader;
INSERT INTO ac_sealed VALUES (4, 'fourth');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- A savepoint rolled back releases the version lock its first value took:
-- the next value takes it again.
BEGIN;
SET LOCAL ROLE regress_ac_reader;
SAVEPOINT first_value;
INSERT INTO ac_sealed VALUES (5, 'fifth');
ROLLBACK TO first_value;
INSERT INTO ac_sealed VALUES (6, 'sixth');
RESET ROLE;
SELECT n FROM ac_sealed ORDER BY n;
SELECT count(*) AS version_locks_held FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND mode = 'ShareLock' AND granted;
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM ac_sealed;
-- A rotation in the middle of a transaction's load: the values after it are
-- sealed under the new version.
BEGIN;
SET LOCAL ROLE regress_ac_reader;
INSERT INTO ac_sealed VALUES (7, 'seventh');
RESET ROLE;
SELECT colcrypt.rotate_key('ac_seal');
SET LOCAL ROLE regress_ac_reader;
INSERT INTO ac_sealed VALUES (8, 'eighth');
RESET ROLE;
SELECT n, (colcrypt.describe(v)).key_version FROM ac_sealed ORDER BY n;
COMMIT;
DROP TABLE ac_sealed;

-- Clean up: grants name roles by OID, so revoke before dropping a role.
SELECT colcrypt.revoke_decrypt('ac', 'regress_ac_owner');
SELECT colcrypt.revoke_decrypt('ac', 'regress_ac_super');
SELECT colcrypt.revoke_decrypt('ac_other', 'regress_ac_outsider');
DROP ROLE regress_ac_owner, regress_ac_reader, regress_ac_member, regress_ac_noinherit,
    regress_ac_outsider, regress_ac_super;
