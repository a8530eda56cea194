"""psycopg2 against colcrypt's encrypted types, as an application uses them:
parameters adapted by the driver (Decimal, date, datetime, dict, bytes,
int), results before and after registering the types with the driver's
own typecasters (the README's snippet), lookups with parameters, and a
bad value refused with the base type's SQLSTATE without echoing it.

    python3 psycopg2_types.py CONNINFO

Prints one "name -> value" line per check; test/t/022_psycopg2.pl reads them.
"""
import datetime
import decimal
import json
import sys

import psycopg2
import psycopg2.extensions
import psycopg2.extras


def out(name, value):
    print(f"{name} -> {value}")


conn = psycopg2.connect(sys.argv[1])
conn.autocommit = True
cur = conn.cursor()

when = datetime.datetime(2026, 12, 1, 12, 30, tzinfo=datetime.timezone.utc)
rows = [
    (1, "alice@example.com", decimal.Decimal("91000.50"), 42, datetime.date(1990, 1, 2), when,
     psycopg2.extras.Json({"b": [1, 2], "a": "x"}), psycopg2.Binary(b"\x00\x01colcrypt:")),
    (2, "bob@example.com", decimal.Decimal("1.0"), -7, datetime.date(2000, 2, 29), when,
     psycopg2.extras.Json({"a": 1.0}), psycopg2.Binary(b"")),
]
cur.executemany("INSERT INTO people VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)

# Before registration: the driver does not know the OIDs and returns strings.
cur.execute("SELECT salary, score, birth FROM people WHERE id = 1")
out("unregistered types", ",".join(type(v).__name__ for v in cur.fetchone()))

# The README's registration: each encrypted type read with the plaintext
# type's typecaster.
def oid_of(name):
    cur.execute("SELECT %s::regtype::oid", (name,))
    return cur.fetchone()[0]


for name, caster in [("colcrypt.encrypted_numeric", psycopg2.extensions.DECIMAL),
                     ("colcrypt.encrypted_int4", psycopg2.extensions.INTEGER),
                     ("colcrypt.encrypted_date", psycopg2.extensions.DATE),
                     ("colcrypt.encrypted_timestamptz", psycopg2.extensions.PYDATETIMETZ),
                     ("colcrypt.encrypted_bytea", psycopg2.BINARY)]:
    psycopg2.extensions.register_type(psycopg2.extensions.new_type((oid_of(name),), name, caster), conn)
psycopg2.extensions.register_type(
    psycopg2.extensions.new_type((oid_of("colcrypt.encrypted_jsonb"),), "colcrypt.encrypted_jsonb",
                                 lambda value, cursor: None if value is None else json.loads(value)), conn)

cur.execute("SELECT id, email, salary, score, birth, created, doc, data FROM people ORDER BY id")
for row in cur.fetchall():
    ident, email, salary, score, birth, created, doc, data = row
    out(f"row {ident}", f"{email}|{salary!r}|{score!r}|{birth!r}|{created.astimezone(datetime.timezone.utc).isoformat()}"
        f"|{json.dumps(doc, sort_keys=True)}|{bytes(data)!r}")

# Lookups with parameters the driver adapts: equal under the base type.
for column, value in [("email", "bob@example.com"), ("salary", decimal.Decimal("1.00")), ("score", 42),
                      ("birth", datetime.date(1990, 1, 2))]:
    cur.execute(f"SELECT id FROM people WHERE {column} = %s", (value,))
    out(f"lookup {column}", ",".join(str(r[0]) for r in cur.fetchall()))
cur.execute("SELECT id FROM people WHERE salary = ANY (%s) ORDER BY id",
            ([decimal.Decimal("91000.5"), decimal.Decimal("1")],))
out("lookup salary any", ",".join(str(r[0]) for r in cur.fetchall()))

# A bad value: int4's SQLSTATE, and the input is not in the server's
# message or detail.  (psycopg2 interpolates parameters into the query text
# on the client, so the statement itself holds the value: see the README's
# threat model on query texts.)
try:
    cur.execute("INSERT INTO people (id, score) VALUES (3, %s)", ("BAD-VALUE-022-12x",))
    out("bad int4", "accepted")
except psycopg2.Error as e:
    said = (e.diag.message_primary or "") + (e.diag.message_detail or "") + (e.diag.context or "")
    out("bad int4", f"{e.pgcode} {'echoed' if 'BAD-VALUE' in said else 'not echoed'}: {e.diag.message_primary}")
conn.close()
