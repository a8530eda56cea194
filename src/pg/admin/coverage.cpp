// colcrypt._coverage_counts(tbl): behind colcrypt.coverage(), the values of
// every column that can hold encrypted values, counted per keyring and
// data-key version from their headers (nothing is decrypted), by the same
// physical walk that retire_key's scan makes (admin/value_scan.cpp): values
// inside domains, arrays, composites and ranges included, and values only
// in row versions the latest snapshot does not see counted apart.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "catalog/pg_inherits.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "storage/lockdefs.h"
#include "utils/tuplestore.h"
}

#include "colcrypt/pg/admin/containing_types.hpp"
#include "colcrypt/pg/admin/value_scan.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_coverage_counts);
}

using namespace colcrypt::pg;

namespace {

// Tables and materialized views with a column that can hold encrypted
// values: every one in the database (tree = 0), or tree and its
// partitions.  Other sessions' temporary tables cannot be read.
constexpr const char *kTablesQuery =
    "SELECT DISTINCT c.oid, c.oid::pg_catalog.regclass::pg_catalog.text"
    "  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    " WHERE a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = ANY ($1)"
    "   AND c.relkind IN ('r', 'm') AND NOT pg_catalog.pg_is_other_temp_schema(c.relnamespace)"
    "   AND ($2 = 0 OR c.oid = $2 OR c.oid IN (SELECT relid FROM pg_catalog.pg_partition_tree($2)))"
    " ORDER BY 2";

// The types are those of containing_types(), which outlive the access.
List *tables_to_count(Oid tree, TypeSet *types) {
    MemoryContext caller = CurrentMemoryContext;
    InternalAccess access;
    begin_internal_access(&access);
    *types = containing_types();
    QueryArg args[] = {oid_array_arg(*types), oid_arg(tree)};
    run_internal_query(kTablesQuery, SPI_OK_SELECT, 2, args);
    List *tables = NIL;
    MemoryContext spi = MemoryContextSwitchTo(caller);  // the list outlives SPI's context
    for (std::uint64_t i = 0; i < result_rows(); i++)
        tables = lappend_oid(tables, result_oid(i, 1));
    MemoryContextSwitchTo(spi);
    end_internal_access(&access);
    return tables;
}

}  // namespace

// colcrypt._coverage_counts(tbl regclass): (relid, attnum, keyring_id,
// version, live, dead) per table, column, keyring and version; version -1
// and keyring 0 for values whose header cannot be parsed.
extern "C" Datum colcrypt_coverage_counts(PG_FUNCTION_ARGS) {
    Oid tree = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    TypeSet types;
    List *tables = tables_to_count(tree, &types);
    ListCell *cell;
    foreach (cell, tables) {
        Oid table = lfirst_oid(cell);
        int64 unreadable = 0;
        List *counts = count_versions(table, types, &unreadable);
        ListCell *c;
        foreach (c, counts) {
            auto *count = (VersionCount *) lfirst(c);
            Datum values[6] = {ObjectIdGetDatum(table), Int16GetDatum(count->attnum),
                               Int32GetDatum((int32) count->keyring_id), Int32GetDatum((int32) count->version),
                               Int64GetDatum(count->live), Int64GetDatum(count->dead)};
            bool nulls[6] = {false, false, false, false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        }
        if (unreadable > 0) {
            Datum values[6] = {ObjectIdGetDatum(table), Int16GetDatum(0), Int32GetDatum(0), Int32GetDatum(-1),
                               Int64GetDatum(unreadable), Int64GetDatum(0)};
            bool nulls[6] = {false, true, false, false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        }
    }
    return (Datum) 0;
}
