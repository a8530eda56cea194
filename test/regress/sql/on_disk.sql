-- What reaches the disk: the heap file, its TOAST table and the WAL hold
-- ciphertext only.  Each check has a plaintext control that must find its
-- marker, so the check itself is known to work.
CREATE TABLE disk_encrypted (id int, v colcrypt.encrypted_text('pii'));
CREATE TABLE disk_plain (id int, v text);
INSERT INTO disk_encrypted SELECT g, 'ENCRYPTED-MARKER-' || g FROM generate_series(1, 200) g;
INSERT INTO disk_plain SELECT g, 'PLAIN-MARKER-' || g FROM generate_series(1, 200) g;
-- Long values go out of line, into the TOAST table.
INSERT INTO disk_encrypted VALUES (0, repeat('ENCRYPTED-TOAST-MARKER ', 5000));
INSERT INTO disk_plain VALUES (0, repeat('PLAIN-TOAST-MARKER ', 5000));
ALTER TABLE disk_plain ALTER COLUMN v SET STORAGE external;
INSERT INTO disk_plain VALUES (-1, repeat('PLAIN-TOAST-MARKER ', 5000));
CHECKPOINT;

CREATE FUNCTION file_contains(path text, marker text) RETURNS boolean LANGUAGE sql AS $$
    SELECT position(convert_to(marker, 'UTF8') IN pg_read_binary_file(path)) > 0
$$;
CREATE FUNCTION toast_path(tbl regclass) RETURNS text LANGUAGE sql AS $$
    SELECT pg_relation_filepath(reltoastrelid) FROM pg_class WHERE oid = tbl
$$;

SELECT file_contains(pg_relation_filepath('disk_encrypted'), 'ENCRYPTED-MARKER') AS encrypted_heap_has_plaintext,
       file_contains(pg_relation_filepath('disk_plain'), 'PLAIN-MARKER') AS plain_heap_has_plaintext;
SELECT pg_relation_size(reltoastrelid) > 0 AS encrypted_value_was_toasted
  FROM pg_class WHERE relname = 'disk_encrypted';
SELECT file_contains(toast_path('disk_encrypted'), 'ENCRYPTED-TOAST-MARKER') AS encrypted_toast_has_plaintext,
       file_contains(toast_path('disk_plain'), 'PLAIN-TOAST-MARKER') AS plain_toast_has_plaintext;
SELECT bool_or(file_contains('pg_wal/' || name, 'ENCRYPTED-MARKER')) AS wal_has_encrypted_plaintext,
       bool_or(file_contains('pg_wal/' || name, 'PLAIN-MARKER')) AS wal_has_plain_plaintext
  FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$';

-- And the values still read back.
SELECT count(*) AS rows, sum(length(v::text)) AS plaintext_chars FROM disk_encrypted;
