-- The order oracle on short terms: a role with SELECT only seals probes
-- under an 8-bit keyring, keeps those whose term equals the target's, and
-- learns from the btree order where the secret sits among the probes'
-- plaintexts.  From index order 2 the order among equal terms is that of
-- the full keyed terms, which says nothing about plaintexts.
CREATE EXTENSION IF NOT EXISTS colcrypt;
SET colcrypt.blind_index_bits = 8;
SELECT colcrypt.create_key('oracle8');
SELECT colcrypt.create_key('oracle8_v1');
RESET colcrypt.blind_index_bits;
-- A control keyring left in 0.1.0's order 1, as an upgraded database has it.
UPDATE colcrypt.keyrings SET index_order = 1 WHERE name = 'oracle8_v1';
SELECT name, index_term_bits, index_order FROM colcrypt.keyrings WHERE name LIKE 'oracle8%' ORDER BY name;

CREATE ROLE oracle_attacker;
CREATE TABLE oracle_target (s colcrypt.encrypted_text('oracle8'));
CREATE TABLE oracle_target_v1 (s colcrypt.encrypted_text('oracle8_v1'));
INSERT INTO oracle_target VALUES ('8badf00d');
INSERT INTO oracle_target_v1 VALUES ('8badf00d');
GRANT SELECT ON oracle_target, oracle_target_v1 TO oracle_attacker;

SET ROLE oracle_attacker;
SET colcrypt.output_mode = ciphertext;
-- No grant: no plaintext.
SELECT s::text FROM oracle_target;
-- The support function and the ordering operators are not for PUBLIC.
SELECT colcrypt.encrypted_text_cmp(s, s) FROM oracle_target;
SELECT s OPERATOR(colcrypt.#<#) s FROM oracle_target;

-- The term is the envelope's byte 16 (2 header bytes, two 1-byte varints,
-- 12 nonce bytes), visible in ciphertext mode.
CREATE FUNCTION pg_temp.term(e colcrypt.encrypted_text) RETURNS int LANGUAGE sql
    AS $$ SELECT get_byte(decode(substr(format('%s', e), 10), 'base64'), 16) $$;
-- Probes: 8000 strings sealed under each keyring (no grant needed to encrypt);
-- about 31 share the target's 8-bit term, fewer than 5 with odds of about 1e-9.
CREATE TEMP TABLE probes AS
    SELECT p, CAST(p AS colcrypt.encrypted_text('oracle8')) AS e,
           CAST(p AS colcrypt.encrypted_text('oracle8_v1')) AS e1
      FROM (SELECT md5(g::text) AS p FROM generate_series(1, 8000) g) x;
CREATE TEMP TABLE same_term AS
    SELECT p, e FROM probes WHERE pg_temp.term(e) = (SELECT pg_temp.term(s) FROM oracle_target);
CREATE TEMP TABLE same_term_v1 AS
    SELECT p, e1 AS e FROM probes WHERE pg_temp.term(e1) = (SELECT pg_temp.term(s) FROM oracle_target_v1);
SELECT count(*) >= 5 AS enough_probes FROM same_term;
SELECT count(*) >= 5 AS enough_probes FROM same_term_v1;

-- ORDER BY on the column (a sort calls the support function with no ACL
-- check): in order 1 the probes with the target's term come out in
-- plaintext order, which is the oracle; in order 2 they do not.
SELECT array_agg(p ORDER BY e) = array_agg(p ORDER BY p COLLATE "C") AS plaintext_order_v1 FROM same_term_v1;
SELECT array_agg(p ORDER BY e) = array_agg(p ORDER BY p COLLATE "C") AS plaintext_order FROM same_term;
-- Where the secret falls among those probes in the column's order tells
-- the attacker, in order 1, which probes are smaller than the secret: a
-- binary search on probes recovers it.
WITH all_values AS (
    SELECT p, e, false AS is_target FROM same_term_v1
    UNION ALL
    SELECT NULL, s, true FROM oracle_target_v1),
ordered AS (SELECT p, is_target, row_number() OVER (ORDER BY e) AS r FROM all_values)
SELECT bool_and((r < (SELECT r FROM ordered WHERE is_target)) = (p COLLATE "C" < '8badf00d')) AS secret_bracketed_v1
  FROM ordered WHERE NOT is_target;
RESET ROLE;
RESET colcrypt.output_mode;

-- Equality, lookups and UNIQUE still work on the 8-bit keyring in order 2.
CREATE TABLE oracle_lookup (id int PRIMARY KEY, v colcrypt.encrypted_text('oracle8') UNIQUE);
INSERT INTO oracle_lookup SELECT g, md5(g::text) FROM generate_series(1, 2000) g;
INSERT INTO oracle_lookup VALUES (9999, md5('7'));
SET enable_seqscan = off;
SELECT id FROM oracle_lookup WHERE v = md5('1234');
SELECT count(*) FROM oracle_lookup a JOIN oracle_lookup b ON a.v = b.v;
RESET enable_seqscan;
CREATE EXTENSION IF NOT EXISTS amcheck;
SELECT bt_index_check(indexrelid, true) FROM pg_index WHERE indrelid = 'oracle_lookup'::regclass;

DROP TABLE oracle_lookup, oracle_target, oracle_target_v1;
DROP OWNED BY oracle_attacker;
DROP ROLE oracle_attacker;
