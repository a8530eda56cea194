/*
 * Binary parameters and results of every encrypted type through libpq
 * (test/t/011_binary_types.pl builds and runs this).  Each type's value is
 * sent in its plaintext type's binary format, once with the parameter typed
 * as the plaintext type (a cast encrypts it) and once untyped (the encrypted
 * type's binary receive function reads it); it is read back in binary, and
 * looked up with a binary parameter.  Prints one line per check:
 *     <type> typed|untyped -> <hex of the binary result>
 *     <type> lookup typed|untyped -> <ids>
 *     <type> ciphertext -> <first 9 bytes of the binary result>
 *     <type> envelope back -> <hex of the binary result of the re-inserted envelope>
 *     bytea prefix typed -> <hex> / bytea prefix untyped -> <SQLSTATE>
 * Exits non-zero on any unexpected libpq error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

static PGconn *conn;

static void die(const char *what, PGresult *res)
{
    fprintf(stderr, "%s: %s", what, res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    exit(1);
}

static void exec_ok(const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        die(sql, res);
    PQclear(res);
}

static void print_hex(const char *data, int size)
{
    for (int i = 0; i < size; i++)
        printf("%02x", (unsigned char) data[i]);
}

struct type_case
{
    const char *column; /* column of table typed, and the type's name */
    Oid plaintext_oid;
    const char *value; /* binary format of the plaintext type */
    int size;
};

/* numeric 91000.50: ndigits 3, weight 1, sign +, dscale 2, digits 9 1000 5000;
 * date 366 days after 2000-01-01; timestamptz 2000-01-01 00:00:01+00;
 * jsonb version 1 then the text; bytea with a NUL byte. */
static const struct type_case cases[] = {
    {"int4", 23, "\x80\x00\x00\x00", 4},
    {"int8", 20, "\x7f\xff\xff\xff\xff\xff\xff\xff", 8},
    {"numeric", 1700, "\x00\x03\x00\x01\x00\x00\x00\x02\x00\x09\x03\xe8\x13\x88", 14},
    {"date", 1082, "\x00\x00\x01\x6e", 4},
    {"timestamptz", 1184, "\x00\x00\x00\x00\x00\x0f\x42\x40", 8},
    {"bytea", 17, "LEAKMARK-BIND-011\x00\xff", 19},
    {"jsonb", 3802, "\x01{\"LEAKMARK-BIND-011\": [1.50, null]}", 36},
};
#define NCASES ((int) (sizeof(cases) / sizeof(cases[0])))

/* Insert one value into row id, typed or untyped, in binary. */
static void insert(const struct type_case *c, int id, int typed, const char *value, int size)
{
    char sql[200], idtext[16];
    snprintf(sql, sizeof(sql), "INSERT INTO typed (id, %s) VALUES ($1, $2)", c->column);
    snprintf(idtext, sizeof(idtext), "%d", id);
    Oid types[2] = {23, typed ? c->plaintext_oid : 0};
    const char *values[2] = {idtext, value};
    int lengths[2] = {0, size};
    int formats[2] = {0, 1};
    PGresult *res = PQexecParams(conn, sql, 2, types, values, lengths, formats, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        die(sql, res);
    PQclear(res);
}

/* The binary result of one column of one row; the caller PQclear()s. */
static PGresult *select_binary(const struct type_case *c, int id)
{
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT %s FROM typed WHERE id = %d", c->column, id);
    PGresult *res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        die(sql, res);
    return res;
}

/* A lookup with the value as a binary parameter, typed as the plaintext
 * type or untyped (then read by the encrypted type's receive function). */
static void lookup(const struct type_case *c, int typed)
{
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT id FROM typed WHERE %s = $1 ORDER BY id", c->column);
    Oid types[1] = {typed ? c->plaintext_oid : 0};
    const char *values[1] = {c->value};
    int lengths[1] = {c->size};
    int formats[1] = {1};
    PGresult *res = PQexecParams(conn, sql, 1, types, values, lengths, formats, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die(sql, res);
    printf("%s lookup %s ->", c->column, typed ? "typed" : "untyped");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%s%s", i ? "," : " ", PQgetvalue(res, i, 0));
    printf("\n");
    PQclear(res);
}

int main(int argc, char **argv)
{
    if (argc != 2)
    {
        fprintf(stderr, "usage: %s conninfo\n", argv[0]);
        return 2;
    }
    conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK)
        die("connect", NULL);

    for (int i = 0; i < NCASES; i++)
    {
        const struct type_case *c = &cases[i];
        insert(c, 100 + i, 1, c->value, c->size);
        insert(c, 200 + i, 0, c->value, c->size);
        for (int typed = 1; typed >= 0; typed--)
        {
            PGresult *res = select_binary(c, (typed ? 100 : 200) + i);
            printf("%s %s -> ", c->column, typed ? "typed" : "untyped");
            print_hex(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));
            printf("\n");
            PQclear(res);
        }
    }

    /* Ciphertext mode: binary results are envelopes, which go back in
     * through the binary receive function as they are. */
    exec_ok("SET colcrypt.output_mode = ciphertext");
    for (int i = 0; i < NCASES; i++)
    {
        const struct type_case *c = &cases[i];
        PGresult *res = select_binary(c, 100 + i);
        printf("%s ciphertext -> %.9s\n", c->column, PQgetvalue(res, 0, 0));
        insert(c, 300 + i, 0, PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));
        PQclear(res);
    }
    exec_ok("RESET colcrypt.output_mode");
    for (int i = 0; i < NCASES; i++)
    {
        PGresult *res = select_binary(&cases[i], 300 + i);
        printf("%s envelope back -> ", cases[i].column);
        print_hex(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));
        printf("\n");
        PQclear(res);
    }
    for (int i = 0; i < NCASES; i++)
    {
        lookup(&cases[i], 1);
        lookup(&cases[i], 0);
    }

    /* A bytea plaintext that starts with the envelope prefix: typed as
     * bytea it is encrypted; untyped, the receive function takes it for an
     * envelope and refuses it as malformed. */
    {
        const struct type_case *bytea = &cases[5];
        const char prefixed[] = "colcrypt:LEAKMARK-BIND-011";
        insert(bytea, 400, 1, prefixed, (int) sizeof(prefixed) - 1);
        PGresult *res = select_binary(bytea, 400);
        printf("bytea prefix typed -> %.*s\n", PQgetlength(res, 0, 0), PQgetvalue(res, 0, 0));
        PQclear(res);
        Oid types[2] = {23, 0};
        const char *values[2] = {"401", prefixed};
        int lengths[2] = {0, (int) sizeof(prefixed) - 1};
        int formats[2] = {0, 1};
        res = PQexecParams(conn, "INSERT INTO typed (id, bytea) VALUES ($1, $2)", 2, types, values, lengths,
                           formats, 0);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        printf("bytea prefix untyped -> %s\n", state ? state : "accepted");
        PQclear(res);
    }

    /* A binary int4 of the wrong size: int4's own error, without the bytes. */
    {
        Oid types[2] = {23, 0};
        const char *values[2] = {"500", "\x01\x02\x03"};
        int lengths[2] = {0, 3};
        int formats[2] = {0, 1};
        PGresult *res = PQexecParams(conn, "INSERT INTO typed (id, int4) VALUES ($1, $2)", 2, types, values,
                                     lengths, formats, 0);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        printf("int4 short -> %s %s\n", state ? state : "accepted", primary ? primary : "");
        PQclear(res);
    }
    /* Text parameters the base types reject: their SQLSTATE, and neither
     * the message nor the server log may quote them (they are plaintext). */
    {
        const char *columns[3] = {"int4", "jsonb", "date"};
        const char *bad[3] = {"LEAKMARK-BIND-011-int4", "{\"LEAKMARK-BIND-011-jsonb\"", "LEAKMARK-BIND-011-date"};
        for (int i = 0; i < 3; i++)
        {
            char sql[200];
            snprintf(sql, sizeof(sql), "INSERT INTO typed (id, %s) VALUES (600, $1)", columns[i]);
            const char *values[1] = {bad[i]};
            PGresult *res = PQexecParams(conn, sql, 1, NULL, values, NULL, NULL, 0);
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
            const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
            printf("%s bad text -> %s %s | %s\n", columns[i], state ? state : "accepted", primary ? primary : "",
                   detail ? detail : "");
            PQclear(res);
        }
    }
    PQfinish(conn);
    return 0;
}
