// Reading pg_extension.extversion for colcrypt.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstdio>

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
}

#include "colcrypt/pg/keys/extension_version.hpp"

namespace colcrypt::pg {

// A catalog scan each time: callers ask when they load a keyring, which the
// key cache does once per keyring and invalidation.
bool extension_version_at_least(int major, int minor) {
    Relation rel = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("colcrypt"));
    SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
    HeapTuple tuple = systable_getnext(scan);
    int found_major = -1, found_minor = -1;
    if (HeapTupleIsValid(tuple)) {
        bool isnull;
        Datum version = heap_getattr(tuple, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);
        if (!isnull && sscanf(TextDatumGetCString(version), "%d.%d", &found_major, &found_minor) != 2)
            found_major = found_minor = -1;
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return found_major > major || (found_major == major && found_minor >= minor);
}

}  // namespace colcrypt::pg
