// The registry of encrypted types, and recognising them in the catalogs.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/types/encrypted_type.hpp"

namespace colcrypt::pg {

namespace {

// OIDs of the registered types in this database, by registry index.
struct TypeOids {
    bool looked_up;
    Oid oids[kEncryptedTypeCount];
};
TypeOids type_oids{};

void forget_type_oids(Datum, int, uint32) {
    type_oids.looked_up = false;
}

const TypeOids &lookup_type_oids() {
    if (type_oids.looked_up)
        return type_oids;
    TypeOids found{};
    Oid schema = get_namespace_oid("colcrypt", true);
    for (int i = 0; i < kEncryptedTypeCount; i++)
        found.oids[i] = OidIsValid(schema) ? GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
                                                             CStringGetDatum(kEncryptedTypes[i].name),
                                                             ObjectIdGetDatum(schema))
                                           : InvalidOid;
    found.looked_up = true;
    type_oids = found;
    return type_oids;
}

}  // namespace

const EncryptedType &encrypted_type(core::ValueType value_type) {
    for (int i = 0; i < kEncryptedTypeCount; i++)
        if (kEncryptedTypes[i].value_type == value_type)
            return kEncryptedTypes[i];
    elog(ERROR, "colcrypt has no SQL type for value type %d", (int) value_type);
    pg_unreachable();
}

Oid encrypted_type_oid(const EncryptedType &type) {
    return lookup_type_oids().oids[&type - kEncryptedTypes];
}

const EncryptedType *encrypted_type_of(Oid type) {
    if (!OidIsValid(type))
        return nullptr;
    const TypeOids &oids = lookup_type_oids();
    for (int i = 0; i < kEncryptedTypeCount; i++)
        if (oids.oids[i] == type)
            return &kEncryptedTypes[i];
    return nullptr;
}

bool is_encrypted_type(Oid type) {
    Oid element = get_element_type(type);
    return encrypted_type_of(OidIsValid(element) ? element : type) != nullptr;
}

namespace {

bool relation_holds_encrypted(Oid relation, int depth);

// Domains, arrays, composites, ranges and multiranges pass their values'
// bytes through, so a column of any of them over an encrypted type holds
// envelopes.  The depth bound only guards against a catalog cycle.
bool type_holds_encrypted(Oid type, int depth) {
    if (!OidIsValid(type) || depth > 16)
        return false;
    if (encrypted_type_of(type) != nullptr)
        return true;
    Oid element = get_element_type(type);
    if (OidIsValid(element))
        return type_holds_encrypted(element, depth + 1);
    switch (get_typtype(type)) {
    case TYPTYPE_DOMAIN:
        return type_holds_encrypted(getBaseType(type), depth + 1);
    case TYPTYPE_COMPOSITE:
        return relation_holds_encrypted(get_typ_typrelid(type), depth + 1);
    case TYPTYPE_RANGE:
        return type_holds_encrypted(get_range_subtype(type), depth + 1);
    case TYPTYPE_MULTIRANGE:
        return type_holds_encrypted(get_multirange_range(type), depth + 1);
    default:
        return false;
    }
}

bool relation_holds_encrypted(Oid relation, int depth) {
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
        bool dropped = form->attisdropped;
        Oid type = form->atttypid;
        ReleaseSysCache(tuple);
        found = !dropped && type_holds_encrypted(type, depth);
    }
    return found;
}

}  // namespace

bool has_encrypted_column(Oid relation) {
    return relation_holds_encrypted(relation, 0);
}

void register_encrypted_type_invalidation() {
    CacheRegisterSyscacheCallback(NAMESPACEOID, forget_type_oids, (Datum) 0);
    CacheRegisterSyscacheCallback(TYPEOID, forget_type_oids, (Datum) 0);
}

}  // namespace colcrypt::pg
