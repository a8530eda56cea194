-- The encrypted type family (docs/design/type-family.md): bytea, jsonb,
-- int4, int8, numeric, date and timestamptz next to text.  Round trips of
-- edge values, bad input with the base type's SQLSTATE, canonical output,
-- casts, the keyring modifier, default_key, and envelopes refused across types.
SELECT colcrypt.create_key('family');
SELECT colcrypt.create_key('family_other');
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TABLE family (
    id   serial PRIMARY KEY,
    b    colcrypt.encrypted_bytea('family'),
    j    colcrypt.encrypted_jsonb('family'),
    i4   colcrypt.encrypted_int4('family'),
    i8   colcrypt.encrypted_int8('family'),
    n    colcrypt.encrypted_numeric('family'),
    d    colcrypt.encrypted_date('family'),
    ts   colcrypt.encrypted_timestamptz('family')
);
\d family

-- Edge values of every type, and NULL.
INSERT INTO family (b, j, i4, i8, n, d, ts) VALUES
    ('\x', '{}', -2147483648, -9223372036854775808, 'NaN', '-infinity', '-infinity'),
    ('\x00ff10', '[1, "two", {"three": [3.0, null, true]}]', 2147483647, 9223372036854775807,
     '-0.000001', 'infinity', 'infinity'),
    ('\x636f6c63727970743a', '{"ünï": "日本語 🎉", "nested": {"a": {"b": {"c": [[[]]]}}}}', 0, 0,
     '12345678901234567890.123456789', '4713-01-01 BC', '294276-12-31 23:59:59.999999+00'),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT id, b, j, i4, i8, n, d, ts FROM family ORDER BY id;
SELECT id, b IS NULL AS b_null, j IS NULL AS j_null, i4 IS NULL AS i4_null, ts IS NULL AS ts_null
  FROM family WHERE id = 4;

-- A 1 MB bytea, and numeric with 1000 digits.
INSERT INTO family (b, n) VALUES (decode(repeat('00ff7f80', 262144), 'hex'), repeat('9', 1000)::numeric);
SELECT octet_length(b::bytea) AS bytes, b::bytea = decode(repeat('00ff7f80', 262144), 'hex') AS same_bytes,
       length(n::text) AS digits, n::numeric = repeat('9', 1000)::numeric AS same_number
  FROM family WHERE id = 5;

-- Every column is an envelope of its own keyring and type.
SELECT (colcrypt.describe(i4)).keyring, (colcrypt.describe(n)).keyring AS n_keyring,
       (colcrypt.describe(ts)).index_term_bits FROM family WHERE id = 1;
-- Overhead per value: 40 bytes over the sealed form with a 64-bit term
-- (int4: 4 bytes sealed, date 4, int8 and timestamptz 8).
SELECT (colcrypt.describe(i4)).stored_bytes AS int4_bytes, (colcrypt.describe(i8)).stored_bytes AS int8_bytes,
       (colcrypt.describe(d)).stored_bytes AS date_bytes, (colcrypt.describe(ts)).stored_bytes AS ts_bytes
  FROM family WHERE id = 2;

-- Ciphertext mode shows envelopes for every type; they go back in as they are.
SET colcrypt.output_mode = ciphertext;
CREATE TEMP TABLE envelopes AS
    SELECT id, b::text AS b, j::text AS j, i4::text AS i4, i8::text AS i8, n::text AS n, d::text AS d, ts::text AS ts
      FROM family WHERE id <= 3;
SELECT bool_and(b LIKE 'colcrypt:%' AND j LIKE 'colcrypt:%' AND i4 LIKE 'colcrypt:%' AND i8 LIKE 'colcrypt:%'
                AND n LIKE 'colcrypt:%' AND d LIKE 'colcrypt:%' AND ts LIKE 'colcrypt:%') AS all_envelopes
  FROM envelopes;
-- (text into an encrypted type is an explicit cast, as text into int4 is)
INSERT INTO family (b, j, i4, i8, n, d, ts)
    SELECT b::colcrypt.encrypted_bytea, j::colcrypt.encrypted_jsonb, i4::colcrypt.encrypted_int4,
           i8::colcrypt.encrypted_int8, n::colcrypt.encrypted_numeric, d::colcrypt.encrypted_date,
           ts::colcrypt.encrypted_timestamptz
      FROM envelopes WHERE id = 2;
-- An encrypted_int4 envelope fed to an encrypted_text column, and to an
-- encrypted_date one: it does not authenticate as another type.
CREATE TABLE substitution (t colcrypt.encrypted_text('family'), d colcrypt.encrypted_date('family'));
INSERT INTO substitution (t) SELECT i4 FROM envelopes WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO substitution (d) SELECT i4::colcrypt.encrypted_date FROM envelopes WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
-- A malformed envelope is an error, for bytea too.
SELECT 'colcrypt:AAAA'::colcrypt.encrypted_bytea('family');
\echo :LAST_ERROR_SQLSTATE
RESET colcrypt.output_mode;
SELECT b, j, i4, i8, n, d, ts FROM family WHERE id = 6;

-- bytea's ambiguity: input text that starts with "colcrypt:" is an envelope;
-- the same bytes in hex format, or cast from bytea, are a plaintext.
SELECT 'colcrypt:not an envelope'::colcrypt.encrypted_bytea('family');
\echo :LAST_ERROR_SQLSTATE
SELECT '\x636f6c63727970743a6e6f7420616e20656e76656c6f7065'::colcrypt.encrypted_bytea('family')::bytea
       = 'colcrypt:not an envelope'::bytea AS hex_is_plaintext;
SELECT convert_from(('colcrypt:x'::bytea)::colcrypt.encrypted_bytea('family')::bytea, 'UTF8') AS cast_is_plaintext;

-- Bad input: each type's own error and SQLSTATE, without the input.
SELECT '12x'::colcrypt.encrypted_int4('family');
\echo :LAST_ERROR_SQLSTATE
SELECT '2147483648'::colcrypt.encrypted_int4('family');
\echo :LAST_ERROR_SQLSTATE
SELECT '9223372036854775808'::colcrypt.encrypted_int8('family');
\echo :LAST_ERROR_SQLSTATE
SELECT '1.2.3'::colcrypt.encrypted_numeric('family');
\echo :LAST_ERROR_SQLSTATE
SELECT '2026-02-30'::colcrypt.encrypted_date('family');
\echo :LAST_ERROR_SQLSTATE
SELECT 'yesterday at noon-ish'::colcrypt.encrypted_timestamptz('family');
\echo :LAST_ERROR_SQLSTATE
SELECT '2026-01-01 00:00 Mars/Olympus'::colcrypt.encrypted_timestamptz('family');
\echo :LAST_ERROR_SQLSTATE
SELECT '{"a": 1,'::colcrypt.encrypted_jsonb('family');
\echo :LAST_ERROR_SQLSTATE
SELECT '"\ud83d"'::colcrypt.encrypted_jsonb('family');
\echo :LAST_ERROR_SQLSTATE
SELECT '\xzz'::colcrypt.encrypted_bytea('family');
\echo :LAST_ERROR_SQLSTATE
-- COPY too: neither the message nor COPY's context line quotes the value
-- (test/log_leak/check.sh reads the server log for the marker).
COPY family (i4) FROM stdin;
LEAKMARK-COPY-013-int4
\.
COPY family (d) FROM stdin;
LEAKMARK-COPY-013-date
\.
-- The base types agree on the SQLSTATEs.
SELECT '12x'::int4;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"a": 1,'::jsonb;
\echo :LAST_ERROR_SQLSTATE
SELECT 'yesterday at noon-ish'::timestamptz;
\echo :LAST_ERROR_SQLSTATE
SELECT '\xzz'::bytea;
\echo :LAST_ERROR_SQLSTATE

-- Canonical output: how the value was typed does not show, except what the
-- base type keeps (numeric's scale).
SELECT '{"b": 1, "a": [1,   2], "a": "dup"}'::colcrypt.encrypted_jsonb('family') AS jsonb_canonical,
       ' 42 '::colcrypt.encrypted_int4('family') AS int4_trimmed,
       '0042'::colcrypt.encrypted_int8('family') AS int8_canonical,
       '1.50'::colcrypt.encrypted_numeric('family') AS numeric_keeps_scale,
       '1e3'::colcrypt.encrypted_numeric('family') AS numeric_exponent,
       'Jan 2, 2026'::colcrypt.encrypted_date('family') AS date_canonical,
       '2026-01-02 03:04:05+02'::colcrypt.encrypted_timestamptz('family') AS ts_in_utc;

-- Casts: plaintext type both ways, text both ways, and the literal types.
CREATE TABLE casts (i8 colcrypt.encrypted_int8('family'), n colcrypt.encrypted_numeric('family'),
                    ts colcrypt.encrypted_timestamptz('family'), j colcrypt.encrypted_jsonb('family'),
                    i4 colcrypt.encrypted_int4('family'));
INSERT INTO casts VALUES (91000, 91000, now(), '{"k": "v"}'::json, 7::smallint);
INSERT INTO casts VALUES (9100::smallint, 91000::bigint, '2000-01-01'::date, '{"k": 2}'::jsonb, 8);
INSERT INTO casts VALUES (1, 91000.50, '2000-01-01 12:00'::timestamp, NULL, NULL);
SELECT i8, n, j, i4, pg_typeof(i8::bigint) AS i8_to, pg_typeof(n::numeric) AS n_to FROM casts ORDER BY n::numeric;
SELECT sum(n::numeric) AS total, max(i8::bigint) AS biggest FROM casts;
SELECT count(*) AS recent FROM casts WHERE ts::timestamptz > now() - interval '1 day';
SELECT ts::timestamptz FROM casts WHERE ts::timestamptz < now() - interval '1 day' ORDER BY ts::timestamptz;
SELECT '2026-03-04'::date::colcrypt.encrypted_date('family')::text AS via_text,
       '17'::text::colcrypt.encrypted_int4('family')::int4 + 1 AS text_in;
-- ALTER TABLE ... TYPE ... USING, both ways.
CREATE TABLE salaries (id int, salary numeric(10,2), birth date);
INSERT INTO salaries VALUES (1, 91000.00, '1980-05-06'), (2, 45000.50, '1990-01-31'), (3, NULL, NULL);
ALTER TABLE salaries ALTER COLUMN salary TYPE colcrypt.encrypted_numeric('family')
    USING salary::colcrypt.encrypted_numeric('family'),
    ALTER COLUMN birth TYPE colcrypt.encrypted_date('family') USING birth::colcrypt.encrypted_date('family');
SELECT id, salary, birth, (colcrypt.describe(salary)).keyring FROM salaries ORDER BY birth::date;
ALTER TABLE salaries ALTER COLUMN salary TYPE numeric USING salary::numeric,
    ALTER COLUMN birth TYPE date USING birth::date;
\d salaries
SELECT * FROM salaries ORDER BY id;

-- The keyring modifier: values are bound to the column's keyring, transit
-- values re-sealed, values of another keyring re-encrypted.
SELECT (colcrypt.describe('5'::colcrypt.encrypted_int4)).keyring AS transit,
       (colcrypt.describe('5'::colcrypt.encrypted_int4('family'))).keyring AS bound;
CREATE TABLE moved (n colcrypt.encrypted_numeric('family_other'));
INSERT INTO moved SELECT n FROM family WHERE id = 3;
SELECT n, (colcrypt.describe(n)).keyring FROM moved;
CREATE TABLE bad_keyring (n colcrypt.encrypted_numeric('missing'));
\echo :LAST_ERROR_SQLSTATE
-- numeric's precision cannot ride on the modifier: a CHECK replaces it.
CREATE TABLE precise (salary colcrypt.encrypted_numeric('family')
    CHECK (round(salary::numeric, 2) = salary::numeric AND abs(salary::numeric) < 1e8));
INSERT INTO precise VALUES (100.25);
INSERT INTO precise VALUES (100.255);
\echo :LAST_ERROR_SQLSTATE
-- Or a domain, reusable across tables.
CREATE DOMAIN amount_2dp AS colcrypt.encrypted_numeric('family')
    CHECK (round(VALUE::numeric, 2) = VALUE::numeric);
CREATE TABLE invoices (total amount_2dp);
INSERT INTO invoices VALUES (19.99);
INSERT INTO invoices VALUES (19.999);
\echo :LAST_ERROR_SQLSTATE
SELECT total, (colcrypt.describe(total)).keyring FROM invoices;

-- Columns without a keyring get colcrypt.default_key, or are refused.
CREATE TABLE no_keyring_family (n colcrypt.encrypted_numeric);
\echo :LAST_ERROR_SQLSTATE
SET colcrypt.default_key = 'family_other';
CREATE TABLE no_keyring_family (n colcrypt.encrypted_numeric, d colcrypt.encrypted_date);
INSERT INTO no_keyring_family VALUES (1, '2026-01-01');
SELECT n, d, (colcrypt.describe(n)).keyring AS n_keyring, (colcrypt.describe(d)).keyring AS d_keyring
  FROM no_keyring_family;
RESET colcrypt.default_key;
\d no_keyring_family

-- Binary output is the base type's send format in plaintext mode.
SELECT colcrypt.encrypted_int4_send(i4) = int4send(i4::int4) AS int4_send,
       colcrypt.encrypted_numeric_send(n) = numeric_send(n::numeric) AS numeric_send,
       colcrypt.encrypted_timestamptz_send(ts) = timestamptz_send(ts::timestamptz) AS ts_send,
       colcrypt.encrypted_jsonb_send(j) = jsonb_send(j::jsonb) AS jsonb_send
  FROM family WHERE id = 2;

-- The decrypt privilege: a role without the grant may write and compare,
-- not read; in ciphertext mode it gets envelopes.  Every type's output,
-- binary send and cast to the plaintext type checks it.
CREATE ROLE regress_family_outsider;
GRANT SELECT, INSERT ON family TO regress_family_outsider;
GRANT USAGE ON SEQUENCE family_id_seq TO regress_family_outsider;
SET ROLE regress_family_outsider;
INSERT INTO family (i4, n, d) VALUES (41, 4.1, '2041-01-01');
SELECT i4 FROM family WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT n::numeric FROM family WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.encrypted_date_send(d) FROM family WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS found_without_reading FROM family WHERE i4 = 41;
SET colcrypt.output_mode = ciphertext;
SELECT left(j::text, 9) AS envelope FROM family WHERE id = 1;
RESET colcrypt.output_mode;
RESET ROLE;

-- retire_key's scan finds values of every type under an old version.
SELECT colcrypt.create_key('family_retire');
CREATE TABLE retiring (i4 colcrypt.encrypted_int4('family_retire'), j colcrypt.encrypted_jsonb('family_retire'));
INSERT INTO retiring VALUES (1, NULL), (NULL, '{"v": 1}');
SELECT colcrypt.rotate_key('family_retire');
SELECT colcrypt.retire_key('family_retire', 1);
\echo :LAST_ERROR_SQLSTATE
UPDATE retiring SET i4 = i4::int4 WHERE i4 IS NOT NULL;
SELECT colcrypt.retire_key('family_retire', 1);
\echo :LAST_ERROR_SQLSTATE
UPDATE retiring SET j = j::jsonb WHERE j IS NOT NULL;
VACUUM retiring;
SELECT colcrypt.retire_key('family_retire', 1);
SELECT i4, j, (colcrypt.describe(i4)).key_version AS i4_version FROM retiring ORDER BY i4;
-- The nonce budget counts the new types' encryptions like text's: the two
-- values re-sealed under version 2 (the retired version's count is gone).
SELECT version, state, encryptions FROM colcrypt.keys WHERE keyring = 'family_retire' ORDER BY version;
