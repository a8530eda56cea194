// The types whose values can contain an encrypted value.  See
// include/colcrypt/pg/admin/containing_types.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
}

#include "colcrypt/pg/admin/containing_types.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"

namespace colcrypt::pg {
namespace {

// The types not yet in the set that contain one that is.  $1: the set so
// far.
constexpr const char *kContainingTypesQuery =
    "SELECT t.oid FROM pg_catalog.pg_type t"
    " WHERE t.oid <> ALL ($1) AND ("
    "       (t.typtype = 'd' AND t.typbasetype = ANY ($1))"
    "    OR (t.typelem = ANY ($1) AND t.typsubscript = 'pg_catalog.array_subscript_handler'::pg_catalog.regproc)"
    "    OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a"
    "                                     WHERE a.attrelid = t.typrelid AND a.attnum > 0"
    "                                       AND NOT a.attisdropped AND a.atttypid = ANY ($1)))"
    "    OR (t.typtype = 'r' AND EXISTS (SELECT 1 FROM pg_catalog.pg_range r"
    "                                     WHERE r.rngtypid = t.oid AND r.rngsubtype = ANY ($1)))"
    "    OR (t.typtype = 'm' AND EXISTS (SELECT 1 FROM pg_catalog.pg_range r"
    "                                     WHERE r.rngmultitypid = t.oid AND r.rngtypid = ANY ($1))))";

}  // namespace

bool contains(const TypeSet &set, Oid type) {
    for (int i = 0; i < set.count; i++)
        if (set.oids[i] == type)
            return true;
    return false;
}

QueryArg oid_array_arg(const TypeSet &set) {
    Datum *datums = (Datum *) palloc(sizeof(Datum) * (set.count + 1));
    for (int i = 0; i < set.count; i++)
        datums[i] = ObjectIdGetDatum(set.oids[i]);
    ArrayType *array = construct_array(datums, set.count, OIDOID, sizeof(Oid), true, TYPALIGN_INT);
    return QueryArg{OIDARRAYOID, PointerGetDatum(array)};
}

TypeSet containing_types() {
    TypeSet set{(Oid *) SPI_palloc(sizeof(Oid) * (kEncryptedTypeCount + 1)), 0};
    for (const EncryptedType &type : kEncryptedTypes) {
        Oid oid = encrypted_type_oid(type);
        if (OidIsValid(oid))
            set.oids[set.count++] = oid;
    }
    for (;;) {
        QueryArg arg = oid_array_arg(set);
        run_internal_locking_query(kContainingTypesQuery, SPI_OK_SELECT, 1, &arg);
        std::uint64_t found = result_rows();
        if (found == 0)
            break;
        set.oids = (Oid *) SPI_repalloc(set.oids, sizeof(Oid) * (set.count + found + 1));
        for (std::uint64_t i = 0; i < found; i++)
            set.oids[set.count++] = result_oid(i, 1);
    }
    return set;
}


}  // namespace colcrypt::pg
