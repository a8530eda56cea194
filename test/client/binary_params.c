/*
 * Prepared statements with binary parameters and binary results, through
 * libpq, against a table with an encrypted column (test/t/006_binary_parameters.pl
 * builds and runs this).  Each statement is executed eight times, so the
 * plan turns generic after the fifth execution.  Prints one line per
 * result for the test to check:
 *     <statement> <email> -> <ids, comma-separated>
 *     <statement> plans: custom=<n> generic=<n>
 *     email <id> -> <plaintext, from the binary result>
 * Exits non-zero on any libpq error.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define TEXTOID 25
#define INT4OID 23

static PGconn *conn;

static void die(const char *what, PGresult *res)
{
    fprintf(stderr, "%s: %s", what, res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    exit(1);
}

static void prepare(const char *name, const char *sql, int nparams, const Oid *types)
{
    PGresult *res = PQprepare(conn, name, sql, nparams, types);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        die(name, res);
    PQclear(res);
}

/* Execute a one-parameter lookup with the email as a binary parameter and
 * print the ids of the binary result. */
static void lookup(const char *statement, const char *email)
{
    const char *values[1] = {email};
    int lengths[1] = {(int) strlen(email)};
    int formats[1] = {1};
    PGresult *res = PQexecPrepared(conn, statement, 1, values, lengths, formats, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die(statement, res);
    printf("%s %s ->", statement, email);
    for (int i = 0; i < PQntuples(res); i++)
    {
        uint32_t id;
        memcpy(&id, PQgetvalue(res, i, 0), sizeof(id));
        printf("%s%d", i ? "," : " ", (int) ntohl(id));
    }
    printf("\n");
    PQclear(res);
}

static void plan_counts(const char *statement)
{
    const char *values[1] = {statement};
    PGresult *res = PQexecParams(conn,
                                 "SELECT custom_plans, generic_plans FROM pg_prepared_statements WHERE name = $1",
                                 1, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        die("pg_prepared_statements", res);
    printf("%s plans: custom=%s generic=%s\n", statement, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    PQclear(res);
}

int main(int argc, char **argv)
{
    /* "lookups": only the lookups, as a role that may not encrypt. */
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "lookups") != 0))
    {
        fprintf(stderr, "usage: %s conninfo [lookups]\n", argv[0]);
        return 2;
    }
    int lookups_only = argc == 3;
    conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK)
        die("connect", NULL);

    /* The parameter typed as text, and left for the server to infer (it
     * becomes colcrypt.encrypted_text, read by its binary receive function). */
    Oid text_type[1] = {TEXTOID};
    prepare("by_text", "SELECT id FROM people WHERE email = $1 ORDER BY id", 1, text_type);
    prepare("by_inferred", "SELECT id FROM people WHERE email = $1 ORDER BY id", 1, NULL);

    const char *statements[2] = {"by_text", "by_inferred"};
    for (int s = 0; s < 2; s++)
    {
        for (int i = 1; i <= 8; i++)
        {
            char email[64];
            snprintf(email, sizeof(email), "user%d@example.com", i * 11);
            lookup(statements[s], email);
        }
        lookup(statements[s], "nobody@example.com");
        plan_counts(statements[s]);
    }
    if (lookups_only)
    {
        PQfinish(conn);
        return 0;
    }

    /* Binary INSERT: an int4 and an inferred encrypted_text parameter.  The
     * values carry the marker the log-leak check (test/log_leak/check.sh)
     * looks for in the server logs: bind parameters never are in a query
     * text, so no log may hold them. */
    Oid insert_types[2] = {INT4OID, 0};
    prepare("insert", "INSERT INTO people (id, email) VALUES ($1, $2)", 2, insert_types);
    for (int i = 0; i < 3; i++)
    {
        uint32_t id = htonl(5000 + i);
        char email[64];
        snprintf(email, sizeof(email), "LEAKMARK-BIND-006-%d@example.com", i);
        const char *values[2] = {(const char *) &id, email};
        int lengths[2] = {sizeof(id), (int) strlen(email)};
        int formats[2] = {1, 1};
        PGresult *res = PQexecPrepared(conn, "insert", 2, values, lengths, formats, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            die("insert", res);
        PQclear(res);
    }
    lookup("by_text", "LEAKMARK-BIND-006-1@example.com");

    /* A binary parameter that is not UTF-8: refused, and the message must
     * not quote the bytes (they are plaintext).  Printed as
     *     invalid utf8 -> <SQLSTATE> <primary message> | <detail>   */
    {
        uint32_t id = htonl(6000);
        const char bad[] = "LEAKMARK-BIND-006-bad-\xe6\x97";
        const char *values[2] = {(const char *) &id, bad};
        int lengths[2] = {sizeof(id), (int) sizeof(bad) - 1};
        int formats[2] = {1, 1};
        PGresult *res = PQexecPrepared(conn, "insert", 2, values, lengths, formats, 0);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        printf("invalid utf8 -> %s %s | %s\n", state ? state : "none", primary ? primary : "", detail ? detail : "");
        PQclear(res);
    }

    /* Binary results of the encrypted column itself: plaintext bytes. */
    PGresult *res = PQexecParams(conn, "SELECT id, email FROM people WHERE id IN (11, 5002) ORDER BY id", 0, NULL,
                                 NULL, NULL, NULL, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die("binary select", res);
    for (int i = 0; i < PQntuples(res); i++)
    {
        uint32_t id;
        memcpy(&id, PQgetvalue(res, i, 0), sizeof(id));
        printf("email %d -> %.*s\n", (int) ntohl(id), PQgetlength(res, i, 1), PQgetvalue(res, i, 1));
    }
    PQclear(res);
    PQfinish(conn);
    return 0;
}
