-- Keyrings: creation, naming rules, the keys view, and who may see what.
SELECT colcrypt.create_key('pii');
SELECT colcrypt.create_key('hr');

-- Created once only.
SELECT colcrypt.create_key('pii');
\echo :LAST_ERROR_SQLSTATE

-- Naming rules.
SELECT colcrypt.create_key('');
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.create_key('Has Spaces');
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.create_key('9starts_with_digit');
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.create_key(repeat('a', 64));
\echo :LAST_ERROR_SQLSTATE

-- The view shows versions and the master key fingerprint, no key material.
SELECT keyring, version, state, index_term_bits,
       master_key_fingerprint ~ '^[0-9a-f]{16}$' AS fingerprint_is_hex
  FROM colcrypt.keys ORDER BY keyring, version;
SELECT count(DISTINCT master_key_fingerprint) AS fingerprints FROM colcrypt.keys;

-- Data and index keys are stored wrapped (61 bytes), one of each per keyring.
SELECT k.name, v.purpose, v.version, v.state, length(v.wrapped_key) AS wrapped_bytes
  FROM colcrypt.key_versions v JOIN colcrypt.keyrings k USING (keyring_id)
 ORDER BY k.name, v.purpose;
-- Every wrapped key is distinct (fresh random keys, fresh nonces).
SELECT count(DISTINCT wrapped_key) = count(*) AS all_distinct FROM colcrypt.key_versions;

-- Keyring settings are fixed at creation: index term size from the GUC.
SET colcrypt.blind_index_bits = 12;
SET colcrypt.blind_index_bits = 32;
SELECT colcrypt.create_key('short_terms');
RESET colcrypt.blind_index_bits;
SELECT keyring, index_term_bits FROM colcrypt.keys WHERE keyring = 'short_terms';

-- Ordinary roles: no access to the key tables or to create_key, but the
-- view is readable.
CREATE ROLE regress_colcrypt_user;
SET ROLE regress_colcrypt_user;
SELECT * FROM colcrypt.key_versions;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM colcrypt.keyrings;
\echo :LAST_ERROR_SQLSTATE
SELECT colcrypt.create_key('mine');
\echo :LAST_ERROR_SQLSTATE
SELECT keyring FROM colcrypt.keys ORDER BY 1;
RESET ROLE;
DROP ROLE regress_colcrypt_user;
