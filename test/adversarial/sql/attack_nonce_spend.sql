-- Spending a keyring's nonce budget, or sealing probes, without the right
-- to store under it (issue 11, point 15; docs/design/encrypt-privilege.md).
-- Every plaintext sealed under a keyring needs the encrypt grant: casts,
-- VALUES, INSERT, UPDATE, COPY, values re-sealed from another keyring, and
-- search values stored back.  Lookups (=, IN, = ANY, prepared or not) need
-- no grant and seal nothing under the keyring: its encryption count stays.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('ns');
SET colcrypt.blind_index_bits = 8;
SELECT colcrypt.create_key('ns_short');   -- short terms: lookups confirm by plaintext
RESET colcrypt.blind_index_bits;
SELECT colcrypt.create_key('ns_other');
CREATE ROLE ns_writer;                    -- may encrypt under ns
CREATE ROLE ns_member IN ROLE ns_writer;  -- inherits it
CREATE ROLE ns_searcher;                  -- SELECT, INSERT, UPDATE; no encrypt grant
CREATE TABLE ns_people (id int PRIMARY KEY, email colcrypt.encrypted_text('ns'), tag colcrypt.encrypted_text('ns_short'));
CREATE INDEX ON ns_people (email);
CREATE INDEX ON ns_people (tag);
CREATE TABLE ns_elsewhere (id int, v colcrypt.encrypted_text('ns_other'));
INSERT INTO ns_people SELECT i, 'user' || i || '@example.com', 'tag' || (i % 50) FROM generate_series(1, 300) i;
INSERT INTO ns_elsewhere VALUES (1, 'moved@example.com');
ANALYZE ns_people;
GRANT SELECT, INSERT, UPDATE ON ns_people TO ns_writer, ns_searcher;
GRANT SELECT ON ns_elsewhere TO ns_searcher;
SELECT colcrypt.grant_decrypt('ns_other', 'ns_searcher');
CREATE FUNCTION ns_try(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
    EXECUTE query INTO result;
    RETURN 'result: ' || coalesce(result, 'null');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE FUNCTION ns_encryptions() RETURNS bigint LANGUAGE sql AS
    $$SELECT sum(encryptions)::bigint FROM colcrypt.keys WHERE keyring IN ('ns', 'ns_short')$$;

-- Every keyring starts with a grant to PUBLIC; a new one too.
SELECT k.name, g.grantee::text, g.granted_by = current_user AS by_creator
  FROM colcrypt.encrypt_grants g JOIN colcrypt.keyrings k USING (keyring_id)
 WHERE k.name LIKE 'ns%' ORDER BY k.name;
SELECT colcrypt.grant_encrypt('ns', 'public');           -- NOTICE: there already
SELECT colcrypt.revoke_encrypt('ns', 'PUBLIC');          -- as in has_table_privilege: lower case
SELECT colcrypt.revoke_encrypt('ns', 'public');
SELECT colcrypt.revoke_encrypt('ns_short', 'public');
SELECT colcrypt.revoke_encrypt('ns', 'public');          -- NOTICE: gone already
SELECT colcrypt.grant_encrypt('ns', 'ns_writer');
SELECT colcrypt.grant_encrypt('ns_short', 'ns_writer');
SELECT colcrypt.grant_encrypt('ns', 'ns_writer');        -- NOTICE: holds it
SELECT colcrypt.revoke_encrypt('ns', 'ns_searcher');     -- NOTICE: never had it
SELECT colcrypt.grant_encrypt('ns', 'no_such_role');
SELECT colcrypt.grant_encrypt('no_such_keyring', 'ns_writer');

-- The superuser running this holds no grant now: superuser does not imply it.
SELECT ns_try($$SELECT 'x'::colcrypt.encrypted_text('ns')::text$$) AS superuser_cast;
SELECT ns_encryptions() AS encryptions_before \gset

SET ROLE ns_searcher;
SELECT route, ns_try(query) AS outcome FROM (VALUES
    ('cast',                $$SELECT 'guess'::colcrypt.encrypted_text('ns')::text$$),
    ('cast from text',      $$SELECT length(('guess'::text)::colcrypt.encrypted_text('ns')::text)::text$$),
    ('input function',      $$SELECT colcrypt.encrypted_text_in('guess', 0, (SELECT atttypmod FROM pg_attribute WHERE attrelid = 'ns_people'::regclass AND attname = 'email'))::text$$),
    ('insert values',       $$INSERT INTO ns_people (id, email) VALUES (1000, 'probe@example.com') RETURNING id$$),
    ('insert select',       $$INSERT INTO ns_people (id, email) SELECT 1001, 'probe' || 1 RETURNING id$$),
    ('update',              $$UPDATE ns_people SET email = 'probe@example.com' WHERE id = 1 RETURNING id$$),
    ('update short keyring', $$UPDATE ns_people SET tag = 'probe' WHERE id = 1 RETURNING id$$),
    ('from another keyring', $$INSERT INTO ns_people (id, email) SELECT 1002, v FROM ns_elsewhere RETURNING id$$),
    ('store search value',  $$INSERT INTO ns_people (id, email) SELECT 1003, e FROM unnest(colcrypt._bind(ARRAY['probe']::text[], (SELECT atttypmod FROM pg_attribute WHERE attrelid = 'ns_people'::regclass AND attname = 'email'))) e RETURNING id$$)
) AS routes(route, query);
COPY ns_people (id, email) FROM stdin;
1004	copied@example.com
\.
-- A search value: keyring ns, key version 0.  Its envelope typed back in
-- is the transit value it carries, a plaintext to seal like any other.
SET colcrypt.output_mode = ciphertext;
SELECT (colcrypt._bind(ARRAY['probe']::text[], (SELECT atttypmod FROM pg_attribute WHERE attrelid = 'ns_people'::regclass AND attname = 'email')))[1] AS search_envelope \gset
SELECT keyring, key_version FROM colcrypt.describe((colcrypt._bind(ARRAY['probe']::text[], (SELECT atttypmod FROM pg_attribute WHERE attrelid = 'ns_people'::regclass AND attname = 'email')))[1]);
SELECT keyring, key_version > 0 AS epoch FROM colcrypt.describe(:'search_envelope'::colcrypt.encrypted_text);
SELECT ns_try(format('INSERT INTO ns_people (id, email) VALUES (1005, %L) RETURNING id', :'search_envelope')) AS typed_back;
RESET colcrypt.output_mode;

-- Lookups need no grant: literals, IN lists, arrays, prepared statements
-- with generic and custom plans, on long and short terms, by index scans.
SET enable_seqscan = off;
SELECT id FROM ns_people WHERE email = 'user7@example.com';
SELECT id FROM ns_people WHERE email IN ('user8@example.com', 'user9@example.com', 'nobody') ORDER BY id;
SELECT id FROM ns_people WHERE email = ANY (ARRAY['user10@example.com', 'user11@example.com']) ORDER BY id;
SELECT count(*) FROM ns_people WHERE tag IN ('tag3', 'tag4', 'tag99');
EXPLAIN (COSTS OFF) SELECT id FROM ns_people WHERE email IN ('user8@example.com', 'user9@example.com');
EXPLAIN (COSTS OFF) SELECT id FROM ns_people WHERE tag = ANY (ARRAY['tag3', 'tag4']);
PREPARE ns_any(text[]) AS SELECT count(*) FROM ns_people WHERE email = ANY ($1);
PREPARE ns_one AS SELECT id FROM ns_people WHERE email = $1;
SET plan_cache_mode = force_generic_plan;
EXECUTE ns_any(ARRAY['user12@example.com', 'user13@example.com', 'user14@example.com']);
EXECUTE ns_one('user15@example.com');
EXPLAIN (COSTS OFF) EXECUTE ns_any(ARRAY['user12@example.com']);
SET plan_cache_mode = force_custom_plan;
EXECUTE ns_any(ARRAY['user16@example.com', 'nobody']);
EXECUTE ns_one('user17@example.com');
RESET plan_cache_mode;
-- A thousand lookups of every kind.
DO $$
DECLARE found bigint := 0; n bigint;
BEGIN
    FOR i IN 1..250 LOOP
        SELECT count(*) INTO n FROM ns_people WHERE email = 'user' || i || '@example.com';
        found := found + n;
        SELECT count(*) INTO n FROM ns_people WHERE email IN ('user' || i || '@example.com', 'absent' || i);
        found := found + n;
        SELECT count(*) INTO n FROM ns_people WHERE email = ANY (ARRAY['user' || i || '@example.com']);
        found := found + n;
        SELECT count(*) INTO n FROM ns_people WHERE tag = ANY (ARRAY['tag' || (i % 50), 'none']);
        found := found + n;
    END LOOP;
    RAISE NOTICE 'lookups found % rows', found;
END $$;
RESET enable_seqscan;
RESET ROLE;
SELECT ns_encryptions() - :encryptions_before AS encryptions_by_lookups;

-- The grant, directly or through membership, lets a role write; a revoke
-- takes effect at the next statement.
SET ROLE ns_member;
INSERT INTO ns_people (id, email) VALUES (2000, 'member@example.com');
RESET ROLE;
SELECT ns_encryptions() - :encryptions_before AS encryptions_by_one_insert;
SELECT colcrypt.revoke_encrypt('ns', 'ns_writer');
SET ROLE ns_member;
SELECT ns_try($$INSERT INTO ns_people (id, email) VALUES (2001, 'member@example.com') RETURNING id$$) AS after_revoke;
RESET ROLE;
-- A ciphertext-mode copy of stored values seals nothing and needs no grant.
SET colcrypt.output_mode = ciphertext;
SELECT email AS stored_envelope FROM ns_people WHERE id = 1 \gset
RESET colcrypt.output_mode;
SET ROLE ns_searcher;
SELECT ns_try(format('INSERT INTO ns_people (id, email) VALUES (2002, %L) RETURNING id', :'stored_envelope')) AS envelope_copy;
RESET ROLE;
SELECT count(*) AS same_value FROM ns_people WHERE id IN (1, 2002) AND email = 'user1@example.com';
-- PUBLIC again: everyone may write.
SELECT colcrypt.grant_encrypt('ns', 'public');
SET ROLE ns_searcher;
SELECT ns_try($$INSERT INTO ns_people (id, email) VALUES (2003, 'public@example.com') RETURNING id$$) AS with_public_grant;
RESET ROLE;
-- Only administrators grant.
SET ROLE ns_searcher;
SELECT colcrypt.grant_encrypt('ns_short', 'ns_searcher');
RESET ROLE;
-- Re-encryption re-seals values already under the keyring: a batch needs
-- no grant (it runs as the table's owner, here a superuser without one);
-- colcrypt._reencrypt_value called directly spends the budget, so it does.
SELECT colcrypt.revoke_encrypt('ns', 'public');
SELECT colcrypt.rotate_key('ns');
SET ROLE ns_searcher;
SELECT ns_try($$SELECT length(colcrypt._reencrypt_value(email, (SELECT atttypmod FROM pg_attribute WHERE attrelid = 'ns_people'::regclass AND attname = 'email'))::text)::text FROM ns_people WHERE id = 1$$) AS direct_reseal;
RESET ROLE;
SELECT ns_try($$SELECT 'x'::colcrypt.encrypted_text('ns')::text$$) AS superuser_still_without_grant;
CALL colcrypt.reencrypt_now('ns_people');
SELECT (colcrypt.describe(email)).key_version AS version, count(*) FROM ns_people GROUP BY 1 ORDER BY 1;
SELECT operation, keyring, detail FROM colcrypt.key_events
 WHERE operation IN ('grant_encrypt', 'revoke_encrypt') ORDER BY event_id;

DROP TABLE ns_people, ns_elsewhere;
DROP FUNCTION ns_try(text), ns_encryptions();
SELECT colcrypt.revoke_decrypt('ns_other', 'ns_searcher');
SELECT colcrypt.revoke_encrypt('ns_short', 'ns_writer');
DROP ROLE ns_member, ns_writer, ns_searcher;
