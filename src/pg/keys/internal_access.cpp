// Internal access to colcrypt's tables: as their owner, search_path pinned,
// and the SPI helpers its queries share.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/keys/internal_access.hpp"

namespace colcrypt::pg {

namespace {

struct KeyTables {
    Oid keyrings = InvalidOid;
    Oid key_versions = InvalidOid;
    Oid owner = InvalidOid;
};
KeyTables key_tables;

void find_key_tables() {
    // Still there?  DROP EXTENSION and CREATE EXTENSION in one session leave
    // the OIDs of dropped tables here.
    if (OidIsValid(key_tables.keyrings)) {
        if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(key_tables.keyrings)))
            return;
        key_tables = KeyTables{};
    }
    Oid schema = get_namespace_oid("colcrypt", true);
    Oid keyrings = OidIsValid(schema) ? get_relname_relid("keyrings", schema) : InvalidOid;
    Oid versions = OidIsValid(schema) ? get_relname_relid("key_versions", schema) : InvalidOid;
    if (!OidIsValid(keyrings) || !OidIsValid(versions))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("extension \"colcrypt\" is not installed in this database"),
                        errhint("Run CREATE EXTENSION colcrypt.")));
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(keyrings));
    if (!HeapTupleIsValid(tuple))
        elog(ERROR, "cache lookup failed for relation %u", keyrings);
    key_tables.owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    key_tables.keyrings = keyrings;
    key_tables.key_versions = versions;
}

constexpr int kMaxArgs = 16;

// Internal queries are a fixed set of texts, run again and again (the
// re-encryption worker runs several per batch): each is kept
// (keep_statement) the first time it runs.  Utility statements (LOCK,
// REINDEX of a named index) are not: they gain nothing from a plan, and
// one-off texts would fill the table.  Bounded: past kMaxKeptPlans texts,
// queries run unprepared.
struct KeptPlan {
    KeptStatement statement;
    int nargs;
    Oid types[kMaxArgs];
};
constexpr int kMaxKeptPlans = 96;
KeptPlan kept_plans[kMaxKeptPlans];
int kept_plan_count = 0;

SPIPlanPtr kept_plan(const char *sql, int nargs, Oid *types) {
    for (int i = 0; i < kept_plan_count; i++) {
        const KeptPlan &k = kept_plans[i];
        if (k.nargs == nargs && std::memcmp(k.types, types, sizeof(Oid) * nargs) == 0 &&
            strcmp(k.statement.sql, sql) == 0)
            return k.statement.plan;
    }
    if (kept_plan_count == kMaxKeptPlans)
        return nullptr;
    KeptPlan &k = kept_plans[kept_plan_count];
    k.statement = keep_statement(sql, nargs, types);
    k.nargs = nargs;
    std::memcpy(k.types, types, sizeof(Oid) * nargs);
    kept_plan_count++;
    return k.statement.plan;
}

void execute(const char *sql, int expected, int nargs, const QueryArg *args, bool read_only) {
    Oid types[kMaxArgs];
    Datum values[kMaxArgs];
    char nulls[kMaxArgs + 1] = {};
    if (nargs > kMaxArgs)
        elog(ERROR, "colcrypt internal query has too many arguments");
    for (int i = 0; i < nargs; i++) {
        types[i] = args[i].type;
        values[i] = args[i].value;
        nulls[i] = args[i].is_null ? 'n' : ' ';
    }
    // Without an active snapshot (an output function called while a portal
    // sends the rows it stored, as for INSERT ... RETURNING), SPI would make
    // one for the portal that nobody pops: bring our own.
    bool pushed = !ActiveSnapshotSet();
    if (pushed)
        PushActiveSnapshot(GetTransactionSnapshot());
    SPIPlanPtr plan = expected != SPI_OK_UTILITY ? kept_plan(sql, nargs, types) : nullptr;
    int rc = plan != nullptr ? SPI_execute_plan(plan, values, nulls, read_only, 0)
                             : SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);
    if (pushed)
        PopActiveSnapshot();
    if (rc != expected)
        elog(ERROR, "colcrypt internal query failed: %s", SPI_result_code_string(rc));
}

Datum value_at(std::uint64_t row, int n, bool *isnull) {
    return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, n, isnull);
}

}  // namespace

KeptStatement keep_statement(const char *sql, int nargs, Oid *types) {
    SPIPlanPtr plan = SPI_prepare(sql, nargs, types);
    if (plan == nullptr)
        elog(ERROR, "colcrypt: could not prepare an internal statement: %s", SPI_result_code_string(SPI_result));
    char *text = MemoryContextStrdup(TopMemoryContext, sql);
    if (SPI_keepplan(plan) != 0) {
        pfree(text);
        elog(ERROR, "colcrypt: could not keep an internal statement's plan");
    }
    return KeptStatement{text, plan};
}

void forget_statement(KeptStatement *statement) {
    if (statement->plan == nullptr)
        return;
    SPIPlanPtr plan = statement->plan;
    char *text = statement->sql;
    *statement = KeptStatement{nullptr, nullptr};
    pfree(text);
    SPI_freeplan(plan);
}

void begin_internal_access(InternalAccess *access) {
    find_key_tables();
    GetUserIdAndSecContext(&access->saved_user, &access->saved_security_context);
    SetUserIdAndSecContext(key_tables.owner, access->saved_security_context | SECURITY_LOCAL_USERID_CHANGE |
                                                 SECURITY_RESTRICTED_OPERATION);
    access->guc_nest_level = NewGUCNestLevel();
    (void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                             true, 0, false);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
}

void end_internal_access(InternalAccess *access) {
    SPI_finish();
    AtEOXact_GUC(false, access->guc_nest_level);
    SetUserIdAndSecContext(access->saved_user, access->saved_security_context);
}

Oid keyrings_relid() {
    find_key_tables();
    return key_tables.keyrings;
}

Oid key_versions_relid() {
    find_key_tables();
    return key_tables.key_versions;
}

Oid keyrings_relid_if_known() {
    return key_tables.keyrings;
}

void forget_key_tables() {
    key_tables = KeyTables{};
}

QueryArg int4_arg(int32 value) {
    return QueryArg{INT4OID, Int32GetDatum(value)};
}

QueryArg text_arg(const char *value) {
    return value != nullptr ? QueryArg{TEXTOID, CStringGetTextDatum(value)} : QueryArg{TEXTOID, (Datum) 0, true};
}

QueryArg bytea_arg(const std::uint8_t *data, std::size_t size) {
    bytea *b = (bytea *) palloc(VARHDRSZ + size);
    SET_VARSIZE(b, VARHDRSZ + size);
    std::memcpy(VARDATA(b), data, size);
    return QueryArg{BYTEAOID, PointerGetDatum(b)};
}

QueryArg oid_arg(Oid value) {
    return QueryArg{OIDOID, ObjectIdGetDatum(value)};
}

void run_internal_query(const char *sql, int expected, int nargs, const QueryArg *args) {
    execute(sql, expected, nargs, args, expected == SPI_OK_SELECT && ActiveSnapshotSet());
}

void run_internal_current_query(const char *sql, int nargs, const QueryArg *args) {
    if (IsInParallelMode()) {
        execute(sql, SPI_OK_SELECT, nargs, args, true);
        return;
    }
    PushActiveSnapshot(GetLatestSnapshot());
    execute(sql, SPI_OK_SELECT, nargs, args, true);
    PopActiveSnapshot();
}

void run_internal_locking_query(const char *sql, int expected, int nargs, const QueryArg *args) {
    execute(sql, expected, nargs, args, false);
}

std::uint64_t result_rows() {
    return SPI_processed;
}

bool result_is_null(std::uint64_t row, int n) {
    bool isnull;
    (void) value_at(row, n, &isnull);
    return isnull;
}

bool result_bool(std::uint64_t row, int n) {
    bool isnull;
    Datum d = value_at(row, n, &isnull);
    return !isnull && DatumGetBool(d);
}

int32 result_int(std::uint64_t row, int n) {
    bool isnull;
    Datum d = value_at(row, n, &isnull);
    return isnull ? 0 : DatumGetInt32(d);
}

int64 result_int64(std::uint64_t row, int n) {
    bool isnull;
    Datum d = value_at(row, n, &isnull);
    return isnull ? 0 : DatumGetInt64(d);
}

Oid result_oid(std::uint64_t row, int n) {
    bool isnull;
    Datum d = value_at(row, n, &isnull);
    return isnull ? InvalidOid : DatumGetObjectId(d);
}

void result_text(std::uint64_t row, int n, char *out, std::size_t out_size) {
    char *s = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, n);
    strlcpy(out, s ? s : "", out_size);
}

char *result_text_copy(std::uint64_t row, int n) {
    char *s = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, n);
    if (s == nullptr)
        return nullptr;
    // SPI_palloc: the upper executor context, which SPI_finish keeps.
    char *copy = (char *) SPI_palloc(strlen(s) + 1);
    strcpy(copy, s);
    return copy;
}

std::size_t result_bytes(std::uint64_t row, int n, std::uint8_t *out, std::size_t out_size) {
    bool isnull;
    Datum d = value_at(row, n, &isnull);
    if (isnull)
        return 0;
    bytea *b = DatumGetByteaPP(d);
    std::size_t size = VARSIZE_ANY_EXHDR(b);
    if (size > out_size)
        return 0;
    std::memcpy(out, VARDATA_ANY(b), size);
    return size;
}

}  // namespace colcrypt::pg
