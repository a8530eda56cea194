// colcrypt.upgrade_index_order(keyring): switch a keyring from 0.1.0's
// index order to order 2 and rebuild, in the same transaction, the indexes
// that hold its values (docs/design/index-order.md).
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "utils/builtins.h"
}

#include "colcrypt/pg/admin/containing_types.hpp"
#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/key_events.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_upgrade_index_order);
}

namespace colcrypt::pg {
namespace {

// Every index with a key whose type can contain an encrypted value, of
// any access method: btree indexes on the column, on arrays, composites or
// domains of it, GIN indexes on arrays (their keys are sorted by the btree
// order too).  A key on a column of another keyring (the table column's
// type modifier says which; a GIN key has none of its own) is left alone;
// keys without a type modifier (domains, composites, expressions) may hold
// the keyring's values and are rebuilt.  $1: the keyring's modifier; $2:
// the containing types.  other_temp: the index belongs to another
// session's temporary table, which this session cannot rebuild.
constexpr const char *kIndexesQuery =
    "SELECT DISTINCT c.oid::pg_catalog.regclass::pg_catalog.text,"
    "       pg_catalog.pg_is_other_temp_schema(c.relnamespace)"
    "  FROM pg_catalog.pg_attribute a"
    "  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid AND c.relkind = 'i'"
    "  JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid"
    "  LEFT JOIN pg_catalog.pg_attribute h ON h.attrelid = i.indrelid AND h.attnum = i.indkey[a.attnum - 1]"
    " WHERE a.attnum > 0 AND a.atttypid = ANY ($2) AND coalesce(h.atttypmod, a.atttypmod) IN ($1, -1)"
    " ORDER BY 1";

// Rebuild the indexes; returns how many.  Refuses when one belongs to
// another session's temporary table.
int rebuild_indexes(int32 typmod, const char *keyring) {
    InternalAccess access;
    begin_internal_access(&access);
    TypeSet types = containing_types();
    QueryArg args[] = {int4_arg(typmod), oid_array_arg(types)};
    run_internal_locking_query(kIndexesQuery, SPI_OK_SELECT, 2, args);
    std::uint64_t count = result_rows();
    char **names = (char **) palloc(sizeof(char *) * (count + 1));
    for (std::uint64_t i = 0; i < count; i++) {
        names[i] = result_text_copy(i, 1);
        if (result_bool(i, 2))
            ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                            errmsg("cannot rebuild index %s: it belongs to another session's temporary table",
                                   names[i]),
                            errdetail("Keyring \"%s\" keeps its index order until every index of its values is "
                                      "rebuilt.",
                                      keyring),
                            errhint("Retry when that session has ended.")));
    }
    for (std::uint64_t i = 0; i < count; i++) {
        run_internal_locking_query(psprintf("REINDEX INDEX %s", names[i]), SPI_OK_UTILITY);
        ereport(NOTICE, (errmsg("rebuilt index %s in index order 2", names[i])));
    }
    end_internal_access(&access);
    return (int) count;
}

}  // namespace
}  // namespace colcrypt::pg

using namespace colcrypt::pg;

// colcrypt.upgrade_index_order(keyring text) returns int: the number of
// indexes rebuilt.
extern "C" Datum colcrypt_upgrade_index_order(PG_FUNCTION_ARGS) {
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    KeyEventActor actor = begin_key_operation("upgrade_index_order");
    catalog::LockedKeyring keyring;
    catalog::lock_keyring(name, 0, true, &keyring);
    if (catalog::index_order(keyring.keyring_id) == 2) {
        ereport(NOTICE, (errmsg("keyring \"%s\" already has index order 2", keyring.name)));
        PG_RETURN_INT32(0);
    }
    catalog::set_index_order(keyring.keyring_id, 2);
    invalidate_key_caches();
    // Make the change visible to this transaction's next commands (the key
    // cache reloads the keyring from its latest row), then load the keyring
    // in its new order before anything compares its values.
    CommandCounterIncrement();
    (void) index_key_for_keyring((std::uint32_t) keyring.keyring_id);
    int rebuilt = rebuild_indexes(keyring.typmod, keyring.name);
    record_key_event(actor, KeyEvent::upgrade_index_order, keyring.name, 0, 0,
                     psprintf("index order 1 -> 2; %d index%s rebuilt", rebuilt, rebuilt == 1 ? "" : "es"));
    PG_RETURN_INT32(rebuilt);
}
