/*
 * Generated garbage into colcrypt.encrypted_text's input and receive
 * functions, through libpq (test/t/010_garbage_input.pl builds and runs
 * this).  Usage:
 *     garbage_inputs conninfo seed count marker master-key-hex
 * The table garbage (v colcrypt.encrypted_text('g')) must hold one row, the
 * plaintext marker; its envelope (read in ciphertext mode) and a transit
 * envelope of the marker are the real envelopes the mutated classes start
 * from.
 *
 * Every input class generates count inputs from the seed (the same inputs
 * in every mode; the mutated classes depend on the real envelopes too).
 * Each input is sent in four modes:
 *     binary   INSERT INTO garbage (v) VALUES ($1::colcrypt.encrypted_text('g')),
 *              binary parameter: the receive function
 *     text     the same statement, text parameter: the input function
 *     literal  the same INSERT with the input as an SQL literal: the input
 *              function with the column's type modifier (parameters are
 *              always read with type modifier -1)
 *     select   SELECT $1::colcrypt.encrypted_text, binary parameter and
 *              binary result: receive with no keyring, then send
 * Text parameters cannot carry NUL bytes: such inputs are skipped there
 * (literals carry them as escapes, for the server to refuse).
 *
 * Output, one fact per line:
 *     count <mode> <class> sent <n> skipped <n>
 *     count <mode> <class> valid plaintext <n>   sent, no prefix, UTF-8 without NUL
 *     count <mode> <class> accepted <plaintext|envelope> <n>
 *     count <mode> <class> rejected <sqlstate> <n>     ("none": no SQLSTATE)
 *     example <mode> <class> <sqlstate> <input hex> | <message>
 *     control <mode> <real|transit> <accepted|wrong-plaintext|SQLSTATE>
 *     lost <mode> <class> <index> <input hex>           the connection broke
 *     forged <mode> <class> <index> <input hex>         an envelope was accepted
 *     mismatch <mode> <class> <index> <input hex>       select returned other bytes
 *     leak <mode> <class> <index> <sqlstate> <what>     an error showed the marker or key bytes
 * "accepted envelope" counts inputs that start with "colcrypt:", which must
 * never be accepted: only the real envelopes may be.  Exits non-zero when the
 * client itself fails (setup), and when it stopped early: after five lost
 * connections, or one it could not reconnect after (the counts so far are
 * printed all the same).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#define PREFIX "colcrypt:"
#define PREFIX_SIZE 9
#define NONCE_SIZE 12
#define TAG_SIZE 16
#define MAX_INPUT 4096
#define MAX_STATES 32

static PGconn *conn;
static const char *conninfo;

static void die(const char *what, PGresult *res)
{
    fprintf(stderr, "%s: %s", what, res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    exit(1);
}

/* --- Deterministic generation ------------------------------------------- */

/* splitmix64: one independent stream per (seed, class, index). */
typedef struct { uint64_t s; } Rng;

static uint64_t next(Rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned below(Rng *r, unsigned n) { return (unsigned) (next(r) % n); }

static void fill(Rng *r, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char) next(r);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding; returns the length written (no NUL). */
static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3)
    {
        uint32_t v = (uint32_t) in[i] << 16;
        if (i + 1 < n) v |= (uint32_t) in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    return o;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int) (p - b64) : -1;
}

/* Only for the real envelopes the server wrote: lenient, no checks. */
static size_t b64_decode(const char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && in[i] != '='; i++)
    {
        acc = acc << 6 | (uint32_t) b64_value(in[i]);
        bits += 6;
        if (bits >= 8)
        {
            bits -= 8;
            out[o++] = (unsigned char) (acc >> bits);
        }
    }
    return o;
}

/* "colcrypt:" + base64(bytes). */
static size_t to_text(const unsigned char *bytes, size_t n, unsigned char *out)
{
    memcpy(out, PREFIX, PREFIX_SIZE);
    return PREFIX_SIZE + b64_encode(bytes, n, (char *) out + PREFIX_SIZE);
}

/* Minimal LEB128. */
static size_t put_varint(unsigned char *out, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80)
    {
        out[n++] = (unsigned char) (v | 0x80);
        v >>= 7;
    }
    out[n++] = (unsigned char) v;
    return n;
}

/* A real envelope, decoded, with the offsets of its parts. */
typedef struct
{
    unsigned char bytes[1024];
    size_t size;
    size_t id_at, version_at, nonce_at; /* offsets of both varints and the nonce */
    uint32_t keyring_id;
} Real;

static Real real_keyring, real_transit;

static uint32_t read_varint(const unsigned char *p, size_t *len)
{
    uint32_t v = 0;
    size_t i = 0;
    do
        v |= (uint32_t) (p[i] & 0x7f) << (7 * i);
    while (p[i++] & 0x80);
    *len = i;
    return v;
}

static void load_real(Real *real, const char *text)
{
    size_t n = strlen(text);
    if (n < PREFIX_SIZE || memcmp(text, PREFIX, PREFIX_SIZE) != 0 || (n - PREFIX_SIZE) / 4 * 3 > sizeof(real->bytes))
    {
        fprintf(stderr, "not an envelope of the expected size: %s\n", text);
        exit(1);
    }
    real->size = b64_decode(text + PREFIX_SIZE, n - PREFIX_SIZE, real->bytes);
    size_t len;
    real->id_at = 2;
    real->keyring_id = read_varint(real->bytes + 2, &len);
    real->version_at = 2 + len;
    read_varint(real->bytes + real->version_at, &len);
    real->nonce_at = real->version_at + len;
}

/* The real envelope with bytes [from, to) replaced by repl[0..n). */
static size_t splice(const Real *real, size_t from, size_t to, const unsigned char *repl, size_t n,
                     unsigned char *out)
{
    memcpy(out, real->bytes, from);
    memcpy(out + from, repl, n);
    memcpy(out + from + n, real->bytes + to, real->size - to);
    return from + n + real->size - to;
}

/* Each generator writes one input into out (MAX_INPUT bytes) and returns its size. */
typedef size_t (*Generator)(Rng *r, size_t index, unsigned char *out);

/* Any bytes, NUL included. */
static size_t gen_random_bytes(Rng *r, size_t index, unsigned char *out)
{
    (void) index;
    size_t n = below(r, 301);
    fill(r, out, n);
    return n;
}

/* Plaintext that almost starts like an envelope: must be taken as plaintext. */
static size_t gen_near_prefix(Rng *r, size_t index, unsigned char *out)
{
    (void) index;
    static const char *heads[] = {"Colcrypt:", "COLCRYPT:", "colcrypt", "colcrypt;", " colcrypt:", "colcrypt :",
                                  "colcrypt\t:", "colcryp:", "ccolcrypt:", "olcrypt:", "", "colcrypt\xc2\xa0:"};
    const char *head = heads[below(r, sizeof(heads) / sizeof(heads[0]))];
    size_t n = strlen(head);
    memcpy(out, head, n);
    size_t tail = below(r, 200);
    for (size_t i = 0; i < tail; i++)
        out[n++] = (unsigned char) (0x20 + below(r, 0x5f)); /* printable ASCII */
    /* "colcrypt" and a tail that starts with ':' is the real prefix. */
    if (n >= PREFIX_SIZE && memcmp(out, PREFIX, PREFIX_SIZE) == 0)
        out[PREFIX_SIZE - 1] = ';';
    return n;
}

/* The prefix, then any base64 characters (padding included) in any order. */
static size_t gen_b64_chars(Rng *r, size_t index, unsigned char *out)
{
    (void) index;
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    memcpy(out, PREFIX, PREFIX_SIZE);
    size_t n = below(r, 301);
    for (size_t i = 0; i < n; i++)
        out[PREFIX_SIZE + i] = (unsigned char) alphabet[below(r, sizeof(alphabet) - 1)];
    return PREFIX_SIZE + n;
}

/* The prefix, then valid base64 of random bytes. */
static size_t gen_b64_valid(Rng *r, size_t index, unsigned char *out)
{
    (void) index;
    unsigned char bytes[300];
    size_t n = below(r, 301);
    fill(r, bytes, n);
    return to_text(bytes, n, out);
}

/* A structurally plausible envelope: header 0x11, a term size (sometimes
 * too large), small varints (sometimes the real keyring, the transit keyring
 * or version 0), random nonce, term, ciphertext and tag. */
static size_t gen_plausible(Rng *r, size_t index, unsigned char *out)
{
    (void) index;
    static const uint32_t ids[] = {0, 1, 2, 3, 127, 128, 300, 16384, 0xffffffffu};
    static const uint32_t versions[] = {0, 1, 1, 2, 3, 127, 128, 0x0fffffffu, 0xffffffffu};
    unsigned char bytes[512];
    size_t n = 0;
    unsigned term = below(r, 8) == 0 ? 33 + below(r, 31) : below(r, 33);
    bytes[n++] = 0x11;
    bytes[n++] = (unsigned char) term;
    uint32_t id = below(r, 3) == 0 ? real_keyring.keyring_id : ids[below(r, sizeof(ids) / sizeof(ids[0]))];
    n += put_varint(bytes + n, id);
    n += put_varint(bytes + n, below(r, 2) ? 1 : versions[below(r, sizeof(versions) / sizeof(versions[0]))]);
    size_t rest = NONCE_SIZE + (term <= 32 ? term : below(r, 33)) + below(r, 65) + TAG_SIZE;
    fill(r, bytes + n, rest);
    n += rest;
    /* Now and then a size that does not add up. */
    if (below(r, 6) == 0)
        n = below(r, (unsigned) n);
    return to_text(bytes, n, out);
}

static const Real *real_for(size_t index) { return index % 2 ? &real_transit : &real_keyring; }

/* One bit of a real envelope flipped: in its bytes, or in its text after the prefix. */
static size_t gen_flip(Rng *r, size_t index, unsigned char *out)
{
    const Real *real = real_for(index);
    if (below(r, 2) == 0)
    {
        unsigned char bytes[1024];
        memcpy(bytes, real->bytes, real->size);
        size_t bit = below(r, (unsigned) real->size * 8);
        bytes[bit / 8] ^= (unsigned char) (1u << (bit % 8));
        return to_text(bytes, real->size, out);
    }
    size_t n = to_text(real->bytes, real->size, out);
    size_t at = PREFIX_SIZE + below(r, (unsigned) (n - PREFIX_SIZE));
    out[at] ^= (unsigned char) (1u << below(r, 8));
    return n;
}

/* A real envelope cut short: its bytes (re-encoded), or its text (prefix kept). */
static size_t gen_truncate(Rng *r, size_t index, unsigned char *out)
{
    const Real *real = real_for(index);
    if (below(r, 2) == 0)
        return to_text(real->bytes, below(r, (unsigned) real->size), out);
    size_t n = to_text(real->bytes, real->size, out);
    return PREFIX_SIZE + below(r, (unsigned) (n - PREFIX_SIZE));
}

/* A real envelope with bytes after it, or base64 characters after its text. */
static size_t gen_extend(Rng *r, size_t index, unsigned char *out)
{
    const Real *real = real_for(index);
    unsigned char extra[32];
    size_t k = 1 + below(r, sizeof(extra));
    fill(r, extra, k);
    if (below(r, 2) == 0)
    {
        unsigned char bytes[1024 + sizeof(extra)];
        return to_text(bytes, splice(real, real->size, real->size, extra, k, bytes), out);
    }
    size_t n = to_text(real->bytes, real->size, out);
    for (size_t i = 0; i < k; i++)
        out[n++] = (unsigned char) b64[extra[i] & 63];
    return n;
}

/* A real envelope whose header is redone wrongly: non-minimal or over-long
 * varints, a varint running off the end, reserved bits, a term size above
 * 32, version 0 of a real keyring, an unknown format or algorithm. */
static size_t gen_header(Rng *r, size_t index, unsigned char *out)
{
    const Real *real = real_for(index);
    unsigned char bytes[1100], v[16];
    size_t n, k = 0;
    int field = below(r, 2); /* keyring id or key version */
    size_t from = field ? real->version_at : real->id_at;
    size_t to = field ? real->nonce_at : real->version_at;
    size_t len;
    uint32_t value = read_varint(real->bytes + from, &len);
    switch (below(r, 8))
    {
    case 0: /* non-minimal: the same value padded to 2..5 bytes */
    {
        unsigned room = len < 5 ? 5 - (unsigned) len : 1; /* a 5-byte value becomes 6 bytes */
        size_t pad = len + 1 + below(r, room);
        for (size_t i = 0; i < pad; i++)
            v[k++] = (unsigned char) (((value >> (7 * i)) & 0x7f) | (i + 1 < pad ? 0x80 : 0));
        n = splice(real, from, to, v, k, bytes);
        break;
    }
    case 1: /* over-long: a fifth byte above 0x0f, or six and more bytes */
        for (size_t i = 0, m = 5 + below(r, 6); i < m; i++)
            v[k++] = (unsigned char) (i + 1 < m ? 0x80 | below(r, 128) : 0x10 + below(r, 0x70));
        n = splice(real, from, to, v, k, bytes);
        break;
    case 2: /* a varint running to the end of the value */
        bytes[0] = 0x11;
        bytes[1] = (unsigned char) below(r, 33);
        n = 2 + 30 + below(r, 40);
        for (size_t i = 2; i < n; i++)
            bytes[i] = (unsigned char) (0x80 | below(r, 128));
        break;
    case 3: /* reserved bits of the term-size byte */
        memcpy(bytes, real->bytes, real->size);
        n = real->size;
        bytes[1] |= (unsigned char) (0x40 << below(r, 2)) | (below(r, 2) ? 0xc0 : 0);
        break;
    case 4: /* term size 33..63 */
        memcpy(bytes, real->bytes, real->size);
        n = real->size;
        bytes[1] = (unsigned char) (33 + below(r, 31));
        break;
    case 5: /* key version 0 of a real keyring */
        v[k++] = 0;
        n = splice(real, real->version_at, real->nonce_at, v, k, bytes);
        if (real->keyring_id == 0)
            bytes[real->id_at] = (unsigned char) real_keyring.keyring_id; /* the transit keyring allows 0 */
        break;
    case 6: /* unknown format version or algorithm */
    {
        static const unsigned char heads[] = {0x00, 0x01, 0x10, 0x12, 0x1f, 0x21, 0x31, 0xf1, 0xff};
        memcpy(bytes, real->bytes, real->size);
        n = real->size;
        bytes[0] = heads[below(r, sizeof(heads))];
        break;
    }
    default: /* the largest varint values, minimally encoded */
        k = put_varint(v, below(r, 2) ? 0xffffffffu : 0x10000000u + below(r, 0x10000000u));
        n = splice(real, from, to, v, k, bytes);
        break;
    }
    return to_text(bytes, n, out);
}

typedef struct
{
    const char *name;
    Generator generate;
} InputClass;

static const InputClass classes[] = {
    {"random_bytes", gen_random_bytes}, {"near_prefix", gen_near_prefix}, {"b64_chars", gen_b64_chars},
    {"b64_valid", gen_b64_valid},       {"plausible", gen_plausible},     {"mutated_flip", gen_flip},
    {"mutated_truncate", gen_truncate}, {"mutated_extend", gen_extend},   {"varint_reserved", gen_header},
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

/* --- Sending ------------------------------------------------------------ */

enum Mode { BINARY, TEXT, LITERAL, SELECT, NMODES };
static const char *mode_names[NMODES] = {"binary", "text", "literal", "select"};

typedef struct
{
    int sent, skipped, valid_plain, accepted_plain, accepted_envelope;
    int nstates;
    char states[MAX_STATES][6];
    int counts[MAX_STATES];
} Stats;

static Stats stats[NMODES][NCLASSES];

/* What must never appear in an error: the marker plaintext, and any eight
 * consecutive master key bytes, raw or in hex, or the key in base64. */
#define MAX_NEEDLES 128
static struct { char bytes[128]; size_t size; const char *what; } needles[MAX_NEEDLES];
static int nneedles;

static void add_needle(const void *bytes, size_t size, const char *what)
{
    if (nneedles == MAX_NEEDLES)
    {
        fprintf(stderr, "too many needles\n");
        exit(1);
    }
    memcpy(needles[nneedles].bytes, bytes, size);
    needles[nneedles].size = size;
    needles[nneedles].what = what;
    nneedles++;
}

static int contains(const char *hay, size_t n, const char *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

static void hex_print(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static void prepare(const char *name, const char *sql)
{
    PGresult *res = PQprepare(conn, name, sql, 1, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        die(name, res);
    PQclear(res);
}

static void run(const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        die(sql, res);
    PQclear(res);
}

static void connect_and_prepare(void)
{
    conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK)
        die("connect", NULL);
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    /* A hang becomes an error the test sees (57014), not a stuck test. */
    run("SET statement_timeout = '10s'");
    /* The node logs every statement with its parameters: not these
     * (thousands of them, and the marker); errors are still logged. */
    run("SET log_statement = none");
    prepare("ins", "INSERT INTO garbage (v) VALUES ($1::colcrypt.encrypted_text('g'))");
    prepare("sel", "SELECT $1::colcrypt.encrypted_text");
}

/* Lost connections so far; after MAX_LOST the client stops sending. */
#define MAX_LOST 5
static int lost;

/* After a lost connection: the server restarts after a crash (the test
 * turns restart_after_crash on), so the client can go on and report more
 * than the first crashing input.  Returns 0 when it cannot. */
static int reconnect(void)
{
    PQfinish(conn);
    conn = NULL;
    for (int attempt = 0; attempt < 30; attempt++)
    {
        sleep(1);
        PGconn *probe = PQconnectdb(conninfo);
        int ok = PQstatus(probe) == CONNECTION_OK;
        PQfinish(probe);
        if (ok)
        {
            connect_and_prepare();
            return 1;
        }
    }
    fprintf(stderr, "could not reconnect after a lost connection\n");
    return 0;
}

/* Send one input in one mode.  Returns the result (caller clears it), or
 * NULL when the input cannot be sent that way. */
static PGresult *send_input(enum Mode mode, const unsigned char *in, size_t n)
{
    const char *values[1] = {(const char *) in};
    int lengths[1] = {(int) n};
    int binary[1] = {1};
    int has_nul = memchr(in, 0, n) != NULL;
    char str[MAX_INPUT + 1];
    if (mode == TEXT)
    {
        if (has_nul)
            return NULL;
        memcpy(str, in, n);
        str[n] = '\0';
        values[0] = str;
    }
    switch (mode)
    {
    case BINARY:
        return PQexecPrepared(conn, "ins", 1, values, lengths, binary, 0);
    case TEXT:
        return PQexecPrepared(conn, "ins", 1, values, NULL, NULL, 0);
    case LITERAL:
    {
        /* Quoted by hand, not with PQescapeLiteral (which refuses invalid
         * UTF-8): every byte outside printable ASCII as a \x escape, so
         * the server's scanner, not libpq, judges the bytes. */
        static char sql[64 + 4 * MAX_INPUT];
        size_t o = (size_t) sprintf(sql, "INSERT INTO garbage (v) VALUES (E'");
        for (size_t i = 0; i < n; i++)
        {
            if (in[i] >= 0x20 && in[i] < 0x7f && in[i] != '\'' && in[i] != '\\')
                sql[o++] = (char) in[i];
            else
                o += (size_t) sprintf(sql + o, "\\x%02x", in[i]);
        }
        strcpy(sql + o, "')");
        return PQexec(conn, sql);
    }
    default:
        return PQexecPrepared(conn, "sel", 1, values, lengths, binary, 1);
    }
}

/* Well-formed UTF-8 (no overlong forms, no surrogates, nothing above
 * U+10FFFF) without NUL: what PostgreSQL lets through to a UTF-8 database. */
static int valid_utf8(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;)
    {
        unsigned char c = p[i];
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (c == 0 || len == 0 || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        if (len >= 3)
        {
            unsigned char d = p[i + 1];
            if ((c == 0xe0 && d < 0xa0) || (c == 0xed && d > 0x9f) || (c == 0xf0 && d < 0x90) || (c == 0xf4 && d > 0x8f))
                return 0;
        }
        i += len;
    }
    return 1;
}

static int accepted(PGresult *res)
{
    return PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
}

/* The SQLSTATE of a failed result, "none" when there is none (the
 * connection broke: libpq made the error up). */
static const char *sqlstate_of(PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state && strlen(state) == 5 ? state : "none";
}

static void count_state(Stats *s, const char *state, int *first)
{
    for (int i = 0; i < s->nstates; i++)
        if (strcmp(s->states[i], state) == 0)
        {
            s->counts[i]++;
            *first = 0;
            return;
        }
    if (s->nstates == MAX_STATES)
    {
        fprintf(stderr, "more than %d SQLSTATEs\n", MAX_STATES);
        exit(1);
    }
    strcpy(s->states[s->nstates], state);
    s->counts[s->nstates++] = 1;
    *first = 1;
}

static void one_line(const char *text)
{
    for (const char *p = text; *p; p++)
        putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
}

/* Returns 0 when the client must stop: too many lost connections. */
static int check_input(enum Mode mode, size_t c, size_t index, const unsigned char *in, size_t n)
{
    Stats *s = &stats[mode][c];
    const char *where = mode_names[mode], *cls = classes[c].name;
    PGresult *res = send_input(mode, in, n);
    if (res == NULL)
    {
        s->skipped++;
        return 1;
    }
    s->sent++;
    int envelope = n >= PREFIX_SIZE && memcmp(in, PREFIX, PREFIX_SIZE) == 0;
    if (!envelope && valid_utf8(in, n))
        s->valid_plain++;
    if (accepted(res))
    {
        if (envelope)
        {
            s->accepted_envelope++;
            printf("forged %s %s %zu ", where, cls, index);
            hex_print(in, n);
            printf("\n");
        }
        else
            s->accepted_plain++;
        /* Plaintext in, the same plaintext out. */
        if (mode == SELECT && !envelope &&
            (PQntuples(res) != 1 || (size_t) PQgetlength(res, 0, 0) != n || memcmp(PQgetvalue(res, 0, 0), in, n) != 0))
        {
            printf("mismatch %s %s %zu ", where, cls, index);
            hex_print(in, n);
            printf("\n");
        }
        PQclear(res);
        return 1;
    }
    const char *state = sqlstate_of(res);
    int first;
    count_state(s, state, &first);
    const char *message = PQresultErrorMessage(res);
    for (int i = 0; i < nneedles; i++)
        if (contains(message, strlen(message), needles[i].bytes, needles[i].size))
            printf("leak %s %s %zu %s %s\n", where, cls, index, state, needles[i].what);
    if (first)
    {
        printf("example %s %s %s ", where, cls, state);
        hex_print(in, n);
        printf(" | ");
        one_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                                                                  : message);
        printf("\n");
    }
    PQclear(res);
    if (PQstatus(conn) != CONNECTION_OK)
    {
        printf("lost %s %s %zu ", where, cls, index);
        hex_print(in, n);
        printf("\n");
        fflush(stdout);
        return ++lost < MAX_LOST && reconnect();
    }
    return 1;
}

/* The real envelopes themselves, unmodified, in every mode: they must be
 * accepted, or the rejections of their mutations would prove nothing. */
static void control(enum Mode mode, const char *name, const Real *real, const char *marker)
{
    unsigned char text[MAX_INPUT];
    size_t n = to_text(real->bytes, real->size, text);
    PGresult *res = send_input(mode, text, n);
    if (accepted(res))
    {
        int same = mode != SELECT ||
                   ((size_t) PQgetlength(res, 0, 0) == strlen(marker) && memcmp(PQgetvalue(res, 0, 0), marker, strlen(marker)) == 0);
        printf("control %s %s %s\n", mode_names[mode], name, same ? "accepted" : "wrong-plaintext");
    }
    else
        printf("control %s %s %s\n", mode_names[mode], name, sqlstate_of(res));
    PQclear(res);
}

static char *query_one(const char *sql, const char *param)
{
    const char *values[1] = {param};
    PGresult *res = PQexecParams(conn, sql, param ? 1 : 0, NULL, param ? values : NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        die(sql, res);
    char *value = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return value;
}

int main(int argc, char **argv)
{
    if (argc != 6)
    {
        fprintf(stderr, "usage: %s conninfo seed count marker master-key-hex\n", argv[0]);
        return 2;
    }
    conninfo = argv[1];
    uint64_t seed = strtoull(argv[2], NULL, 10);
    size_t count = strtoul(argv[3], NULL, 10);
    const char *marker = argv[4], *key_hex = argv[5];

    unsigned char key[32];
    if (strlen(key_hex) != 64 || strlen(marker) >= sizeof(needles[0].bytes))
    {
        fprintf(stderr, "the marker must be short and the key 64 hex digits\n");
        return 2;
    }
    for (int i = 0; i < 32; i++)
        sscanf(key_hex + 2 * i, "%2hhx", &key[i]);
    add_needle(marker, strlen(marker), "marker");
    for (int i = 0; i + 8 <= 32; i++)
    {
        char hex[17];
        add_needle(key + i, 8, "key-bytes");
        for (int j = 0; j < 8; j++)
            sprintf(hex + 2 * j, "%02x", key[i + j]);
        add_needle(hex, 16, "key-hex");
        for (int j = 0; j < 16; j++)
            hex[j] = (char) (hex[j] >= 'a' ? hex[j] - 32 : hex[j]);
        add_needle(hex, 16, "key-hex");
    }
    char key_b64[45];
    add_needle(key_b64, b64_encode(key, 32, key_b64), "key-base64");

    connect_and_prepare();

    /* The real envelopes: the marker row's, and a transit one. */
    run("SET colcrypt.output_mode = ciphertext");
    char *stored = query_one("SELECT v FROM garbage", NULL);
    char *transit = query_one("SELECT $1::colcrypt.encrypted_text", marker);
    run("RESET colcrypt.output_mode");
    load_real(&real_keyring, stored);
    load_real(&real_transit, transit);
    if (real_keyring.keyring_id == 0 || real_transit.keyring_id != 0)
    {
        fprintf(stderr, "unexpected keyrings: %s, %s\n", stored, transit);
        return 1;
    }
    printf("real keyring %u size %zu\nreal transit size %zu\n", real_keyring.keyring_id, real_keyring.size,
           real_transit.size);

    for (int m = 0; m < NMODES; m++)
    {
        control((enum Mode) m, "real", &real_keyring, marker);
        control((enum Mode) m, "transit", &real_transit, marker);
    }

    unsigned char in[MAX_INPUT];
    int going = 1;
    for (size_t c = 0; c < NCLASSES && going; c++)
        for (size_t i = 0; i < count && going; i++)
        {
            Rng r = {seed * 0x100000001b3ULL + c * 0x9e3779b97f4a7c15ULL + i};
            size_t n = classes[c].generate(&r, i, in);
            for (int m = 0; m < NMODES && going; m++)
                going = check_input((enum Mode) m, c, i, in, n);
        }

    for (int m = 0; m < NMODES; m++)
        for (size_t c = 0; c < NCLASSES; c++)
        {
            Stats *s = &stats[m][c];
            const char *where = mode_names[m], *cls = classes[c].name;
            printf("count %s %s sent %d skipped %d\n", where, cls, s->sent, s->skipped);
            printf("count %s %s valid plaintext %d\n", where, cls, s->valid_plain);
            printf("count %s %s accepted plaintext %d\n", where, cls, s->accepted_plain);
            printf("count %s %s accepted envelope %d\n", where, cls, s->accepted_envelope);
            for (int i = 0; i < s->nstates; i++)
                printf("count %s %s rejected %s %d\n", where, cls, s->states[i], s->counts[i]);
        }
    free(stored);
    free(transit);
    PQfinish(conn);
    if (!going)
    {
        fprintf(stderr, "stopped after %d lost connections\n", lost);
        return 1;
    }
    return 0;
}
