-- Equality of the encrypted type family through blind-index terms of each
-- type's canonical form, against a plaintext copy of the same data: every
-- lookup's result compared with the plaintext one both ways (EXCEPT ALL),
-- its plan next to the plaintext plan.  8-bit terms make terms collide, so
-- matches are confirmed with the base type's own equality.
SELECT colcrypt.create_key('family_eq');
SET colcrypt.blind_index_bits = 8;
SELECT colcrypt.create_key('family_eq_tiny');
RESET colcrypt.blind_index_bits;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TABLE fam_plain (id int PRIMARY KEY, i4 int4, i8 int8, n numeric, d date, ts timestamptz, j jsonb, b bytea);
INSERT INTO fam_plain
SELECT g, g % 500, g::int8 * 1000000007, (g % 300) / 4.0, date '2000-01-01' + (g % 400),
       timestamptz '2026-01-01 00:00+00' + (g % 350) * interval '1 hour',
       jsonb_build_object('k', g % 200, 'v', (g % 7) * 1.0), decode(lpad(to_hex(g % 250), 4, '0'), 'hex')
  FROM generate_series(1, 3000) g;
CREATE TABLE fam (id int PRIMARY KEY,
    i4 colcrypt.encrypted_int4('family_eq'), i8 colcrypt.encrypted_int8('family_eq'),
    n colcrypt.encrypted_numeric('family_eq_tiny'), d colcrypt.encrypted_date('family_eq'),
    ts colcrypt.encrypted_timestamptz('family_eq'), j colcrypt.encrypted_jsonb('family_eq_tiny'),
    b colcrypt.encrypted_bytea('family_eq'));
INSERT INTO fam SELECT * FROM fam_plain;
CREATE INDEX ON fam (i4);
CREATE INDEX ON fam (i8);
CREATE INDEX ON fam (n);
CREATE INDEX ON fam (d);
CREATE INDEX ON fam (ts);
CREATE INDEX ON fam (j);
CREATE INDEX ON fam (b);
CREATE INDEX ON fam_plain (i4);
ANALYZE fam;
ANALYZE fam_plain;
SET enable_seqscan = off;

-- Literals of the base type (or of the types literals are written in).
EXPLAIN (COSTS OFF) SELECT id FROM fam WHERE i4 = 42;
EXPLAIN (COSTS OFF) SELECT id FROM fam_plain WHERE i4 = 42;
SELECT count(*) AS rows, (SELECT count(*) FROM (SELECT id FROM fam WHERE i4 = 42 EXCEPT ALL
                                               SELECT id FROM fam_plain WHERE i4 = 42) x) AS missing_plain,
       (SELECT count(*) FROM (SELECT id FROM fam_plain WHERE i4 = 42 EXCEPT ALL
                              SELECT id FROM fam WHERE i4 = 42) x) AS missing_encrypted
  FROM fam WHERE i4 = 42;
EXPLAIN (COSTS OFF) SELECT id FROM fam WHERE i8 = 42000000294;
SELECT (SELECT array_agg(id ORDER BY id) FROM fam WHERE i8 = 42000000294)
     = (SELECT array_agg(id ORDER BY id) FROM fam_plain WHERE i8 = 42000000294) AS i8_same;
-- numeric: 1.0, 1.00 and an int4 literal are one value.
EXPLAIN (COSTS OFF) SELECT id FROM fam WHERE n = 1;
SELECT (SELECT count(*) FROM fam WHERE n = 1) AS by_int, (SELECT count(*) FROM fam WHERE n = 1.00) AS by_scale,
       (SELECT count(*) FROM fam WHERE n = '1.000') AS by_literal, (SELECT count(*) FROM fam_plain WHERE n = 1) AS plain;
SELECT count(*) AS missing FROM (
    (SELECT id FROM fam WHERE n = 2.5 EXCEPT ALL SELECT id FROM fam_plain WHERE n = 2.5)
    UNION ALL (SELECT id FROM fam_plain WHERE n = 2.5 EXCEPT ALL SELECT id FROM fam WHERE n = 2.5)) x;
-- date and timestamptz: a literal under the session's DateStyle and
-- TimeZone, and the same instant written in another zone.
CREATE INDEX ON fam_plain (d);
EXPLAIN (COSTS OFF) SELECT id FROM fam WHERE d = '2000-02-01';
EXPLAIN (COSTS OFF) SELECT id FROM fam_plain WHERE d = '2000-02-01';
SELECT (SELECT count(*) FROM fam WHERE d = '2000-02-01') AS iso,
       (SELECT count(*) FROM fam WHERE d = date '2000-02-01') AS typed,
       (SELECT count(*) FROM fam_plain WHERE d = '2000-02-01') AS plain;
SET DateStyle = 'SQL, DMY';
SELECT (SELECT count(*) FROM fam WHERE d = '01/02/2000') AS dmy, min(d::date) AS shown_dmy FROM fam WHERE d = '01/02/2000';
SET DateStyle = 'ISO, YMD';
EXPLAIN (COSTS OFF) SELECT id FROM fam WHERE ts = '2026-01-02 01:00+00';
SET TimeZone = 'Asia/Tokyo';
SELECT (SELECT count(*) FROM fam WHERE ts = '2026-01-02 10:00') AS tokyo,
       (SELECT count(*) FROM fam WHERE ts = '2026-01-02 01:00+00') AS utc,
       (SELECT count(*) FROM fam_plain WHERE ts = '2026-01-02 01:00+00') AS plain,
       (SELECT min(ts::text) FROM fam WHERE ts = '2026-01-02 01:00+00') AS shown_in_tokyo;
SET TimeZone = 'UTC';
-- A value written under one DateStyle and TimeZone, read under another.
CREATE TABLE written (d colcrypt.encrypted_date('family_eq'), ts colcrypt.encrypted_timestamptz('family_eq'));
SET DateStyle = 'German, DMY';
SET TimeZone = 'America/New_York';
INSERT INTO written VALUES ('31.12.1999', '31.12.1999 19:00');
SET DateStyle = 'ISO, YMD';
SET TimeZone = 'UTC';
SELECT d, ts, d = date '1999-12-31' AS same_date, ts = timestamptz '2000-01-01 00:00+00' AS same_instant FROM written;
-- jsonb: keys in another order, 1.0 and 1.00.
EXPLAIN (COSTS OFF) SELECT id FROM fam WHERE j = '{"v": 3.00, "k": 3}';
SELECT (SELECT array_agg(id ORDER BY id) FROM fam WHERE j = '{"v": 3.00, "k": 3}')
     = (SELECT array_agg(id ORDER BY id) FROM fam_plain WHERE j = '{"k": 3, "v": 3}') AS jsonb_same,
       (SELECT count(*) FROM fam WHERE j = '{"v": 3.00, "k": 3}') AS matches;
-- bytea.
EXPLAIN (COSTS OFF) SELECT id FROM fam WHERE b = '\x00f0';
SELECT (SELECT array_agg(id ORDER BY id) FROM fam WHERE b = '\x00f0')
     = (SELECT array_agg(id ORDER BY id) FROM fam_plain WHERE b = '\x00f0') AS bytea_same,
       (SELECT count(*) FROM fam WHERE b = '\x00f0'::bytea) AS typed_matches;

-- Every type, both ways: rows found on the encrypted table and not on the
-- plaintext copy, and the other way round, over many lookups each.
SELECT count(*) AS i8_missing FROM generate_series(1, 3000, 37) v, LATERAL (
    (SELECT id FROM fam WHERE i8 = v::int8 * 1000000007 EXCEPT ALL SELECT id FROM fam_plain WHERE i8 = v::int8 * 1000000007)
    UNION ALL (SELECT id FROM fam_plain WHERE i8 = v::int8 * 1000000007 EXCEPT ALL SELECT id FROM fam WHERE i8 = v::int8 * 1000000007)) x;
SELECT count(*) AS d_missing FROM generate_series(0, 420, 7) v, LATERAL (
    (SELECT id FROM fam WHERE d = date '2000-01-01' + v EXCEPT ALL SELECT id FROM fam_plain WHERE d = date '2000-01-01' + v)
    UNION ALL (SELECT id FROM fam_plain WHERE d = date '2000-01-01' + v EXCEPT ALL SELECT id FROM fam WHERE d = date '2000-01-01' + v)) x;
SELECT count(*) AS ts_missing FROM generate_series(0, 360, 9) v, LATERAL (
    (SELECT id FROM fam WHERE ts = timestamptz '2026-01-01 00:00+00' + v * interval '1 hour'
     EXCEPT ALL SELECT id FROM fam_plain WHERE ts = timestamptz '2026-01-01 00:00+00' + v * interval '1 hour')
    UNION ALL (SELECT id FROM fam_plain WHERE ts = timestamptz '2026-01-01 00:00+00' + v * interval '1 hour'
     EXCEPT ALL SELECT id FROM fam WHERE ts = timestamptz '2026-01-01 00:00+00' + v * interval '1 hour')) x;
SELECT count(*) AS n_missing FROM generate_series(0, 310, 3) v, LATERAL (
    (SELECT id FROM fam WHERE n = v / 4.00 EXCEPT ALL SELECT id FROM fam_plain WHERE n = v / 4.0)
    UNION ALL (SELECT id FROM fam_plain WHERE n = v / 4.0 EXCEPT ALL SELECT id FROM fam WHERE n = v / 4.00)) x;
SELECT count(*) AS j_missing FROM generate_series(0, 210, 11) v, LATERAL (
    (SELECT id FROM fam WHERE j = jsonb_build_object('v', (v % 7) * 1.00, 'k', v)
     EXCEPT ALL SELECT id FROM fam_plain WHERE j = jsonb_build_object('k', v, 'v', (v % 7)))
    UNION ALL (SELECT id FROM fam_plain WHERE j = jsonb_build_object('k', v, 'v', (v % 7))
     EXCEPT ALL SELECT id FROM fam WHERE j = jsonb_build_object('v', (v % 7) * 1.00, 'k', v))) x;
SELECT count(*) AS b_missing FROM generate_series(0, 260, 13) v, LATERAL (
    (SELECT id FROM fam WHERE b = decode(lpad(to_hex(v), 4, '0'), 'hex')
     EXCEPT ALL SELECT id FROM fam_plain WHERE b = decode(lpad(to_hex(v), 4, '0'), 'hex'))
    UNION ALL (SELECT id FROM fam_plain WHERE b = decode(lpad(to_hex(v), 4, '0'), 'hex')
     EXCEPT ALL SELECT id FROM fam WHERE b = decode(lpad(to_hex(v), 4, '0'), 'hex'))) x;
-- And that those lookups found rows at all.
SELECT count(*) AS j_found FROM generate_series(0, 210, 11) v, fam
 WHERE fam.j = jsonb_build_object('v', (v % 7) * 1.00, 'k', v);

-- Parameters of the base type, text and binary.
PREPARE by_date(date) AS SELECT count(*) FROM fam WHERE d = $1;
EXECUTE by_date('2000-02-01');
EXPLAIN (COSTS OFF) EXECUTE by_date('2000-02-01');
PREPARE by_salary(numeric) AS SELECT count(*) FROM fam WHERE n = $1;
EXECUTE by_salary(2.50);
SELECT count(*) AS plain FROM fam_plain WHERE n = 2.5;
PREPARE by_untyped AS SELECT count(*) FROM fam WHERE i4 = $1;
EXECUTE by_untyped('42');

-- IN lists, <>, joins between columns of one keyring, GROUP BY and DISTINCT.
SELECT count(*) FROM fam WHERE i4 IN (1, 2, 3);
SELECT count(*) FROM fam_plain WHERE i4 IN (1, 2, 3);
SELECT count(*) FROM fam WHERE d IN ('2000-01-02', '2000-01-03');
SELECT count(*) FROM fam WHERE i4 <> 42;
SELECT count(*) AS groups FROM (SELECT i4 FROM fam GROUP BY i4) g;
SELECT count(DISTINCT n) AS distinct_numerics, (SELECT count(DISTINCT n) FROM fam_plain) AS plain FROM fam;
SELECT count(DISTINCT j) AS distinct_jsonb, (SELECT count(DISTINCT j) FROM fam_plain) AS plain FROM fam;
SELECT count(*) AS joined FROM fam a JOIN fam b ON a.i4 = b.i4 WHERE a.id < 10;
-- Unequal types of comparison are refused, order operators are absent.
SELECT count(*) FROM fam WHERE i4 < 42;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM fam WHERE i4 = n;
\echo :LAST_ERROR_SQLSTATE
RESET enable_seqscan;

-- A unique constraint on an encrypted numeric sees 1.0 and 1.00 as one.
CREATE TABLE unique_amounts (n colcrypt.encrypted_numeric('family_eq') UNIQUE);
INSERT INTO unique_amounts VALUES (1.0);
INSERT INTO unique_amounts VALUES (1.00);
\echo :LAST_ERROR_SQLSTATE

-- A keyring without stored terms: full terms of the canonical form order
-- the index, the base type's equality decides.
SET colcrypt.blind_index_bits = 0;
SELECT colcrypt.create_key('family_eq_noterms');
RESET colcrypt.blind_index_bits;
CREATE TABLE noterms (id int, n colcrypt.encrypted_numeric('family_eq_noterms'),
                      j colcrypt.encrypted_jsonb('family_eq_noterms'));
INSERT INTO noterms SELECT g, (g % 10) / 2.0, jsonb_build_object('a', g % 5, 'b', (g % 3) * 1.0) FROM generate_series(1, 200) g;
CREATE INDEX ON noterms (n);
CREATE UNIQUE INDEX ON noterms (id, j);
SELECT (colcrypt.describe(n)).index_term_bits FROM noterms LIMIT 1;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM noterms WHERE n = 1.50;
SELECT count(*) AS by_index, (SELECT count(*) FROM generate_series(1, 200) g WHERE (g % 10) / 2.0 = 1.5) AS expected
  FROM noterms WHERE n = 1.50;
SELECT count(*) AS jsonb_matches FROM noterms WHERE j = '{"b": 2.00, "a": 4}';
RESET enable_seqscan;
