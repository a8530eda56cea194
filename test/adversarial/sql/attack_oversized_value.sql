-- A value whose envelope's text form would not fit in 1 GB could be stored
-- but never shown in ciphertext mode, so a ciphertext dump of its table
-- failed.  Values are refused at input above 768 MiB less 1 KiB (the
-- arithmetic is checked in the unit tests: EnvelopeLimits).
CREATE EXTENSION IF NOT EXISTS colcrypt;
SELECT colcrypt.create_key('oversized');
CREATE TABLE oversized (v colcrypt.encrypted_text('oversized'));
INSERT INTO oversized SELECT repeat('x', 805305345);
\echo :LAST_ERROR_SQLSTATE
SELECT length(repeat('x', 805305345)::colcrypt.encrypted_text::text);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM oversized;
DROP TABLE oversized;
