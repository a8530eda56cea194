// Recognising colcrypt's encrypted types in the catalogs.
#include "colcrypt/pg/postgres.hpp"

#include <cstring>

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/encrypted_types.hpp"

namespace colcrypt::pg {

bool is_encrypted_type(Oid type) {
    Oid element = get_element_type(type);
    if (OidIsValid(element))
        type = element;
    HeapTuple tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
    if (!HeapTupleIsValid(tuple))
        return false;
    auto *form = (Form_pg_type) GETSTRUCT(tuple);
    bool ours = strncmp(NameStr(form->typname), "encrypted_", 10) == 0 &&
                form->typnamespace == get_namespace_oid("colcrypt", true);
    ReleaseSysCache(tuple);
    return ours;
}

bool has_encrypted_column(Oid relation) {
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relation));
    if (!HeapTupleIsValid(tuple))
        return false;
    int columns = ((Form_pg_class) GETSTRUCT(tuple))->relnatts;
    ReleaseSysCache(tuple);
    bool found = false;
    for (int attnum = 1; attnum <= columns && !found; attnum++) {
        tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relation), Int16GetDatum(attnum));
        if (!HeapTupleIsValid(tuple))
            continue;
        auto *form = (Form_pg_attribute) GETSTRUCT(tuple);
        found = !form->attisdropped && is_encrypted_type(form->atttypid);
        ReleaseSysCache(tuple);
    }
    return found;
}

}  // namespace colcrypt::pg
