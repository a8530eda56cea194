-- Bad input and damaged values: one clear error each, never a crash.
CREATE TABLE victims (id int, v colcrypt.encrypted_text('pii'));
INSERT INTO victims VALUES (1, 'a secret worth protecting');
SET colcrypt.output_mode = ciphertext;
SELECT colcrypt.encrypted_text_out(v)::text AS envelope FROM victims \gset
RESET colcrypt.output_mode;

-- Envelope bytes, and a way to write damaged ones back in text form.
CREATE TABLE envelope (raw bytea);
INSERT INTO envelope SELECT decode(substr(:'envelope', 10), 'base64');
CREATE FUNCTION as_text(raw bytea) RETURNS text LANGUAGE sql AS $$
    SELECT 'colcrypt:' || translate(encode(raw, 'base64'), E'\n', '')
$$;
CREATE FUNCTION flip(raw bytea, pos int, mask int) RETURNS bytea LANGUAGE sql AS $$
    SELECT set_byte(raw, pos, get_byte(raw, pos) # mask)
$$;
-- SQLSTATE and message of reading t as a pii value, or 'accepted'.
CREATE FUNCTION input_outcome(t text, keyring_column text DEFAULT 'pii') RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF keyring_column = 'pii' THEN
        PERFORM t::colcrypt.encrypted_text('pii');
    ELSE
        PERFORM t::colcrypt.encrypted_text('hr');
    END IF;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

-- Unchanged, it is accepted.
SELECT input_outcome(as_text(raw)) FROM envelope;

-- One flipped bit of the ciphertext, shown in full.
SELECT as_text(flip(raw, 30, 1))::colcrypt.encrypted_text('pii') FROM envelope;
\echo :LAST_ERROR_SQLSTATE

-- A flipped bit anywhere: header, nonce, index term, ciphertext or tag.
-- Header bytes give a parse error (unknown algorithm, invalid keyring or
-- version, term size); everything else fails authentication.
SELECT input_outcome(as_text(flip(raw, pos, 1))) AS outcome, count(*) AS positions
  FROM envelope, generate_series(0, length(raw) - 1) pos GROUP BY 1 ORDER BY 1;

-- A keyring this database does not have (keyring id is byte 2).
SELECT as_text(set_byte(raw, 2, 99))::colcrypt.encrypted_text('pii') FROM envelope;
\echo :LAST_ERROR_SQLSTATE
-- The header moved to another existing keyring (hr is keyring 2).
SELECT input_outcome(as_text(set_byte(raw, 2, 2)), 'hr') FROM envelope;
-- Another key version (byte 3): there is no version 2.
SELECT as_text(set_byte(raw, 3, 2))::colcrypt.encrypted_text('pii') FROM envelope;
\echo :LAST_ERROR_SQLSTATE

-- Truncated envelopes: every length from 0 to one byte short.  Shorter than
-- a header is malformed; longer parses as a shorter ciphertext and fails
-- authentication.
SELECT input_outcome(as_text(substring(raw FROM 1 FOR n))) AS outcome, count(*) AS truncations
  FROM envelope, generate_series(0, length(raw) - 1) n GROUP BY 1 ORDER BY 1;
-- One byte too many is a longer ciphertext, which fails authentication.
SELECT input_outcome(as_text(raw || '\x00'::bytea)) FROM envelope;

-- Garbage after the prefix.
SELECT 'colcrypt:'::colcrypt.encrypted_text('pii');
\echo :LAST_ERROR_SQLSTATE
SELECT 'colcrypt:!!not base64!!'::colcrypt.encrypted_text('pii');
\echo :LAST_ERROR_SQLSTATE
SELECT input_outcome('colcrypt:AAAA');
SELECT input_outcome('colcrypt: ' || substr(:'envelope', 10)) AS with_space;
SELECT input_outcome(:'envelope' || E'\n') AS with_newline;

-- Text that merely looks similar is plaintext.
SELECT 'colcrypt'::colcrypt.encrypted_text('pii') AS plain1, 'COLCRYPT:abc'::colcrypt.encrypted_text('pii') AS plain2;

-- Nothing above changed the stored value, and the session is fine.
SELECT v FROM victims;

-- A wrapped data key altered in colcrypt.key_versions is reported every
-- time the keyring is needed (it is never cached half-built), and the
-- keyring works again once the row is restored.
SELECT colcrypt.create_key('damaged');
CREATE TEMP TABLE saved_key AS
    SELECT v.wrapped_key FROM colcrypt.key_versions v JOIN colcrypt.keyrings k USING (keyring_id)
     WHERE k.name = 'damaged' AND v.purpose = 'data';
UPDATE colcrypt.key_versions v SET wrapped_key = set_byte(v.wrapped_key, 20, get_byte(v.wrapped_key, 20) # 1)
  FROM colcrypt.keyrings k WHERE k.keyring_id = v.keyring_id AND k.name = 'damaged' AND v.purpose = 'data';
SELECT 'x'::colcrypt.encrypted_text('damaged');
\echo :LAST_ERROR_SQLSTATE
SELECT 'x'::colcrypt.encrypted_text('damaged');
\echo :LAST_ERROR_SQLSTATE
UPDATE colcrypt.key_versions v SET wrapped_key = (SELECT wrapped_key FROM saved_key)
  FROM colcrypt.keyrings k WHERE k.keyring_id = v.keyring_id AND k.name = 'damaged' AND v.purpose = 'data';
SELECT 'x'::colcrypt.encrypted_text('damaged')::text AS restored;
