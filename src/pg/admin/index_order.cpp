// colcrypt.upgrade_index_order(keyring): switch a keyring from 0.1.0's
// index order to order 2 and rebuild, in the same transaction, the indexes
// that hold its values (docs/design/index-order.md).
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "utils/builtins.h"
}

#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/key_events.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_upgrade_index_order);
}

namespace colcrypt::pg {
namespace {

// Leaf btree indexes with a key of colcrypt's operator family whose values
// can be of the keyring: a column of its type modifier, a column without a
// keyring or of a domain, or an expression.  $1: the keyring's modifier.
// other_temp: 1 for indexes of other sessions' temporary tables, which
// this session cannot rebuild.
constexpr const char *kIndexesQuery =
    "SELECT DISTINCT i.indexrelid::pg_catalog.regclass::pg_catalog.text,"
    "       pg_catalog.pg_is_other_temp_schema(c.relnamespace)"
    "  FROM pg_catalog.pg_index i"
    "  JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid AND c.relkind = 'i'"
    "  CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(i.indclass::pg_catalog.oid[]),"
    "                                pg_catalog.unnest(i.indkey::pg_catalog.int2[])) AS k(opclass, attnum)"
    "  JOIN pg_catalog.pg_opclass oc ON oc.oid = k.opclass"
    "  JOIN pg_catalog.pg_opfamily f ON f.oid = oc.opcfamily"
    "  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
    "  LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
    " WHERE f.opfnamespace = 'colcrypt'::pg_catalog.regnamespace"
    "   AND f.opfmethod = (SELECT oid FROM pg_catalog.pg_am WHERE amname = 'btree')"
    "   AND (k.attnum = 0 OR t.typtype = 'd' OR a.atttypmod IN ($1, -1))"
    " ORDER BY 1";

// Rebuild the indexes; returns how many.  Refuses when one belongs to
// another session's temporary table.
int rebuild_indexes(int32 typmod, const char *keyring) {
    InternalAccess access;
    begin_internal_access(&access);
    QueryArg arg = int4_arg(typmod);
    run_internal_locking_query(kIndexesQuery, SPI_OK_SELECT, 1, &arg);
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
    KeyEventActor actor = current_actor();
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
