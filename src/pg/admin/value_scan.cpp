// Counting the stored values that use a data-key version, from their
// headers (no decryption).
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

#include "colcrypt/pg/admin/value_scan.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"

namespace colcrypt::pg {
namespace {

// Every column that can hold values of a keyring: columns (of tables,
// partitions and populated materialized views in this database) whose type
// is a colcrypt encrypted type, a domain over one or an array of one, with
// the keyring's type modifier or none (-1: such columns keep values of any
// keyring as they are).  Partitioned parents are skipped: their partitions
// are scanned.  Other sessions' temporary tables cannot be read and are
// skipped.  $2 names the encrypted types (the registry).
constexpr const char *kColumnsQuery =
    "SELECT a.attrelid::pg_catalog.regclass::pg_catalog.text,"
    "       pg_catalog.quote_ident(a.attname),"
    "       t.typcategory = 'A' AND t.typelem <> 0"
    "  FROM pg_catalog.pg_attribute a"
    "  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    "  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
    "  JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype"
    "                                            WHEN t.typcategory = 'A' THEN t.typelem"
    "                                            ELSE t.oid END"
    " WHERE c.relkind IN ('r', 'm') AND a.attnum > 0 AND NOT a.attisdropped"
    "   AND (c.relkind <> 'm' OR c.relispopulated)"
    "   AND NOT pg_catalog.pg_is_other_temp_schema(c.relnamespace)"
    "   AND b.oid = ANY ($2)"
    "   AND CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END IN ($1, -1)"
    " ORDER BY 1, a.attnum";

// The OIDs of the registered encrypted types, as an oid[] argument.
QueryArg encrypted_type_oids() {
    Datum oids[kEncryptedTypeCount];
    int count = 0;
    for (const EncryptedType &type : kEncryptedTypes) {
        Oid oid = encrypted_type_oid(type);
        if (OidIsValid(oid))
            oids[count++] = ObjectIdGetDatum(oid);
    }
    ArrayType *array = construct_array(oids, count, OIDOID, sizeof(Oid), true, TYPALIGN_INT);
    return QueryArg{OIDARRAYOID, PointerGetDatum(array)};
}

}  // namespace

int64 count_values_using(std::int32_t keyring_id, std::int32_t typmod, std::int32_t version, StringInfo where) {
    InternalAccess access;
    begin_internal_access(&access);
    QueryArg column_args[] = {int4_arg(typmod), encrypted_type_oids()};
    run_internal_locking_query(kColumnsQuery, SPI_OK_SELECT, 2, column_args);
    std::uint64_t columns = result_rows();
    char **relations = (char **) palloc(sizeof(char *) * (columns + 1));
    char **names = (char **) palloc(sizeof(char *) * (columns + 1));
    bool *arrays = (bool *) palloc(sizeof(bool) * (columns + 1));
    for (std::uint64_t i = 0; i < columns; i++) {
        relations[i] = result_text_copy(i, 1);
        names[i] = result_text_copy(i, 2);
        arrays[i] = result_bool(i, 3);
    }

    constexpr int kListed = 10;
    int listed = 0;
    int unlisted = 0;
    int64 total = 0;
    QueryArg value_args[] = {int4_arg(keyring_id), int4_arg(version)};
    for (std::uint64_t i = 0; i < columns; i++) {
        char *sql = arrays[i] ? psprintf("SELECT pg_catalog.count(*) FROM ONLY %s AS r, pg_catalog.unnest(r.%s) AS v(x)"
                                         " WHERE colcrypt._keyring_id(v.x) = $1 AND colcrypt._key_version(v.x) = $2",
                                         relations[i], names[i])
                              : psprintf("SELECT pg_catalog.count(*) FROM ONLY %s AS r"
                                         " WHERE colcrypt._keyring_id(r.%s) = $1 AND colcrypt._key_version(r.%s) = $2",
                                         relations[i], names[i], names[i]);
        run_internal_locking_query(sql, SPI_OK_SELECT, 2, value_args);
        int64 n = result_int64(0, 1);
        if (n == 0)
            continue;
        total += n;
        if (listed < kListed) {
            appendStringInfo(where, "%s%s.%s (" INT64_FORMAT ")", listed > 0 ? ", " : "", relations[i], names[i], n);
            listed++;
        } else {
            unlisted++;
        }
    }
    if (unlisted > 0)
        appendStringInfo(where, " and %d more column%s", unlisted, unlisted == 1 ? "" : "s");
    end_internal_access(&access);
    return total;
}

}  // namespace colcrypt::pg
