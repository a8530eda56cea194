// Internal access to colcrypt's tables: as their owner, search_path pinned.
#include "colcrypt/pg/postgres.hpp"

#include <cstring>

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/internal_access.hpp"

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

}  // namespace

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

void run_internal_query(const char *sql, int nargs, const int32 *args, int expected) {
    constexpr int kMaxArgs = 8;
    Oid types[kMaxArgs];
    Datum values[kMaxArgs];
    Assert(nargs <= kMaxArgs);
    for (int i = 0; i < nargs; i++) {
        types[i] = INT4OID;
        values[i] = Int32GetDatum(args[i]);
    }
    run_internal_query_typed(sql, nargs, types, values, expected);
}

namespace {
void execute_internal_query(const char *sql, int nargs, const Oid *types, const Datum *values, int expected,
                            bool read_only) {
    int rc = SPI_execute_with_args(sql, nargs, const_cast<Oid *>(types), const_cast<Datum *>(values), nullptr,
                                   read_only, 0);
    if (rc != expected)
        elog(ERROR, "colcrypt internal query failed: %s", SPI_result_code_string(rc));
}
}  // namespace

void run_internal_query_typed(const char *sql, int nargs, const Oid *types, const Datum *values, int expected) {
    bool read_only = expected == SPI_OK_SELECT && ActiveSnapshotSet();
    execute_internal_query(sql, nargs, types, values, expected, read_only);
}

void run_internal_locking_query(const char *sql, int nargs, const Oid *types, const Datum *values, int expected) {
    execute_internal_query(sql, nargs, types, values, expected, false);
}

Datum bytea_param(const std::uint8_t *data, std::size_t size) {
    bytea *b = (bytea *) palloc(VARHDRSZ + size);
    SET_VARSIZE(b, VARHDRSZ + size);
    std::memcpy(VARDATA(b), data, size);
    return PointerGetDatum(b);
}

bool result_bool(int row, int n) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, n, &isnull);
    return !isnull && DatumGetBool(d);
}

bool result_is_null(int row, int n) {
    bool isnull;
    SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, n, &isnull);
    return isnull;
}

int32 result_int(int row, int n) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, n, &isnull);
    return isnull ? 0 : DatumGetInt32(d);
}

void result_text(int row, int n, char *out, std::size_t out_size) {
    char *s = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, n);
    strlcpy(out, s ? s : "", out_size);
}

std::size_t result_bytes(int row, int n, std::uint8_t *out, std::size_t out_size) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, n, &isnull);
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
