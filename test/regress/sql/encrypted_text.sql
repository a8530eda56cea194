-- encrypted_text: plaintext in, plaintext out, ciphertext stored.
CREATE TABLE users (
    id    serial PRIMARY KEY,
    email colcrypt.encrypted_text('pii'),
    note  colcrypt.encrypted_text('hr')
);
\d users

-- Round trips: empty, ASCII, multibyte UTF-8, NULL.
INSERT INTO users (email, note) VALUES
    ('alice@example.com', 'ASCII'),
    ('', 'empty email'),
    ('Grüße 日本語 🎉', 'multibyte'),
    (NULL, 'null email');
SELECT id, email, note, email IS NULL AS is_null FROM users ORDER BY id;

-- A 1 MB value.
INSERT INTO users (email, note) VALUES (repeat('0123456789abcdef', 65536), 'one megabyte');
SELECT length(email::text) AS length, email::text = repeat('0123456789abcdef', 65536) AS same
  FROM users WHERE note::text = 'one megabyte';

-- The header, read without decrypting: 40 bytes of overhead with an
-- 8-byte (64-bit) index term.
SELECT id, (colcrypt.describe(email)).*, octet_length(email::text) AS plaintext_bytes
  FROM users WHERE id <= 4 ORDER BY id;
SELECT count(*) AS rows_with_40_byte_overhead
  FROM users WHERE (colcrypt.describe(email)).stored_bytes - octet_length(email::text) = 40;

-- Equal plaintexts encrypt differently (fresh nonce each time).
INSERT INTO users (email, note) VALUES ('same', 'dup'), ('same', 'dup'), ('same', 'dup');
SET colcrypt.output_mode = ciphertext;
SELECT count(*) AS values, count(DISTINCT colcrypt.encrypted_text_out(email)::text) AS distinct_envelopes
  FROM users WHERE note::text = 'dup';
-- Ciphertext mode shows envelopes, never plaintext.
SELECT email::text LIKE 'colcrypt:%' AS cast_still_decrypts,
       colcrypt.encrypted_text_out(email)::text LIKE 'colcrypt:%' AS output_is_envelope,
       position('alice' IN colcrypt.encrypted_text_out(email)::text) AS plaintext_found
  FROM users WHERE id = 1;
RESET colcrypt.output_mode;

-- UPDATE, and values moved between keyrings are re-encrypted under the
-- target column's keyring.
UPDATE users SET email = 'alice@example.org' WHERE id = 1;
UPDATE users SET note = email WHERE id = 1;
SELECT email, note, (colcrypt.describe(email)).keyring AS email_keyring,
       (colcrypt.describe(note)).keyring AS note_keyring
  FROM users WHERE id = 1;

-- COPY in and out, text format.
COPY users (email, note) FROM stdin;
copied@example.com	from copy
tab\there	escaped
\N	null from copy
\.
SELECT email, note, (colcrypt.describe(email)).keyring FROM users WHERE note::text LIKE '%copy%' OR note::text = 'escaped' ORDER BY id;
COPY (SELECT email, note FROM users WHERE id <= 3 ORDER BY id) TO stdout;

-- Prepared statements: parameters typed as the encrypted type, as text,
-- and left for the server to infer; generic plans too.
PREPARE ins_enc(colcrypt.encrypted_text) AS INSERT INTO users (email, note) VALUES ($1, 'prepared');
PREPARE ins_text(text) AS INSERT INTO users (email, note) VALUES ($1, 'prepared');
PREPARE ins_unknown AS INSERT INTO users (email, note) VALUES ($1, 'prepared');
EXECUTE ins_enc('p1');
EXECUTE ins_text('p2');
EXECUTE ins_unknown('p3');
SET plan_cache_mode = force_generic_plan;
EXECUTE ins_enc('p4');
EXECUTE ins_text('p5');
RESET plan_cache_mode;
SELECT email, (colcrypt.describe(email)).keyring FROM users WHERE note::text = 'prepared' ORDER BY id;

-- Migrations: a plaintext column encrypted in place, and back.
CREATE TABLE legacy (id int, secret text);
INSERT INTO legacy VALUES (1, 'one'), (2, 'two'), (3, NULL);
ALTER TABLE legacy ALTER COLUMN secret TYPE colcrypt.encrypted_text('pii')
    USING secret::colcrypt.encrypted_text('pii');
\d legacy
SELECT id, secret, (colcrypt.describe(secret)).keyring, (colcrypt.describe(secret)).key_version
  FROM legacy ORDER BY id;
ALTER TABLE legacy ALTER COLUMN secret TYPE text USING secret::text;
SELECT id, secret FROM legacy ORDER BY id;
-- Without USING: the assignment casts suffice.
ALTER TABLE legacy ALTER COLUMN secret TYPE colcrypt.encrypted_text('hr');
SELECT id, secret, (colcrypt.describe(secret)).keyring FROM legacy ORDER BY id;
ALTER TABLE legacy ALTER COLUMN secret TYPE text;
SELECT id, secret FROM legacy ORDER BY id;
INSERT INTO legacy SELECT id + 10, email FROM users WHERE id = 1;
SELECT id, secret FROM legacy WHERE id > 10;

-- A value whose column is not known yet (type modifier -1) is sealed under
-- the transit key and bound to a keyring only when stored.
-- Its key version is the transit epoch (random per backend), so only the
-- overhead's range is shown: 31 bytes plus 1 to 4 for the epoch's varint.
SELECT d.keyring, d.index_term_bits, d.format_version, d.algorithm,
       d.stored_bytes - octet_length('loose') BETWEEN 32 AND 35 AS transit_overhead
  FROM colcrypt.describe('loose'::colcrypt.encrypted_text) d;
SELECT 'loose'::colcrypt.encrypted_text AS shown_as_plaintext;
SELECT (colcrypt.describe('bound'::colcrypt.encrypted_text('hr'))).keyring;
SELECT (colcrypt.describe('cast'::text::colcrypt.encrypted_text('pii'))).keyring;

-- Columns declared without a keyring get colcrypt.default_key, or are refused.
CREATE TABLE no_keyring (c colcrypt.encrypted_text);
\echo :LAST_ERROR_SQLSTATE
SET colcrypt.default_key = 'hr';
CREATE TABLE no_keyring (c colcrypt.encrypted_text, d colcrypt.encrypted_text('pii'));
ALTER TABLE no_keyring ADD COLUMN e colcrypt.encrypted_text;
\d no_keyring
INSERT INTO no_keyring VALUES ('c', 'd', 'e');
SELECT c, d, e, (colcrypt.describe(c)).keyring AS c_keyring, (colcrypt.describe(d)).keyring AS d_keyring,
       (colcrypt.describe(e)).keyring AS e_keyring FROM no_keyring;
SET colcrypt.default_key = 'Not Valid';
CREATE TABLE bad_default (c colcrypt.encrypted_text);
\echo :LAST_ERROR_SQLSTATE
RESET colcrypt.default_key;

-- Type modifier errors.
CREATE TABLE bad (c colcrypt.encrypted_text('missing'));
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE bad (c colcrypt.encrypted_text('pii', 'hr'));
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE bad (c colcrypt.encrypted_text('BAD'));
\echo :LAST_ERROR_SQLSTATE

-- The envelope is accepted back as input (this is how ciphertext-mode dumps
-- restore) and is stored as it is after verification.
CREATE TABLE copy_of_users (id int, email colcrypt.encrypted_text('pii'));
SET colcrypt.output_mode = ciphertext;
SELECT colcrypt.encrypted_text_out(email)::text AS envelope FROM users WHERE id = 1 \gset
RESET colcrypt.output_mode;
INSERT INTO copy_of_users VALUES (1, :'envelope');
SET colcrypt.output_mode = ciphertext;
SELECT colcrypt.encrypted_text_out(email)::text = :'envelope' AS stored_unchanged FROM copy_of_users;
RESET colcrypt.output_mode;
SELECT email FROM copy_of_users;
-- Into a column of another keyring it is re-encrypted.
INSERT INTO users (email, note) VALUES ('x', :'envelope');
SELECT note, (colcrypt.describe(note)).keyring FROM users WHERE email::text = 'x';

-- RETURNING in a new session: the decrypt privilege is first looked up
-- while the rows are sent, when no snapshot is active; the lookup must not
-- leave one behind ("snapshot still active" at commit).
\c -
INSERT INTO copy_of_users VALUES (2, 'returned') RETURNING id, email;
