// colcrypt.upgrade_index_order(keyring): switch a keyring from 0.1.0's
// index order to order 2 (docs/design/index-order.md), and/or its order key
// to its active blind-index key after a blind-index key rotation (the
// cut-over, docs/design/reencryption.md section 7), and rebuild, in the same
// transaction, the indexes that hold its values.
#include "colcrypt/pg/compat/postgres.hpp"

#include <algorithm>

extern "C" {
#include "access/xact.h"
#include "storage/lmgr.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

#include "colcrypt/pg/admin/containing_types.hpp"
#include "colcrypt/pg/admin/keyring_verbs.hpp"
#include "colcrypt/pg/admin/value_scan.hpp"
#include "colcrypt/pg/keys/extension_version.hpp"
#include "colcrypt/pg/keys/version_locks.hpp"
#include "colcrypt/pg/state/index_rebuild_lock.hpp"
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
    "       pg_catalog.pg_is_other_temp_schema(c.relnamespace), c.oid, i.indrelid"
    "  FROM pg_catalog.pg_attribute a"
    "  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid AND c.relkind = 'i'"
    "  JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid"
    "  LEFT JOIN pg_catalog.pg_attribute h ON h.attrelid = i.indrelid AND h.attnum = i.indkey[a.attnum - 1]"
    " WHERE a.attnum > 0 AND a.atttypid = ANY ($2) AND coalesce(h.atttypmod, a.atttypmod) IN ($1, -1)"
    " ORDER BY 1";

// Take every lock the rebuilds need before the first one, in OID order:
// each table's ShareLock, then each index's AccessExclusiveLock.  A
// query locks a table's indexes in OID order when it is planned, so a
// lookup that holds one of them already holds those before it: rebuilding
// in name order with the locks taken one by one would deadlock with it
// (the rebuild holding the first index, the lookup a later one).
void lock_for_rebuild(Oid *tables, Oid *indexes, std::uint64_t count, const char *keyring) {
    std::sort(tables, tables + count);
    std::sort(indexes, indexes + count);
    // Not while the re-encryption cleanup rebuilds one of these tables'
    // indexes concurrently: it waits for this transaction, which would
    // wait for it (state/index_rebuild_lock.hpp).
    for (std::uint64_t i = 0; i < count; i++)
        if ((i == 0 || tables[i] != tables[i - 1]) && !lock_out_index_rebuilds(tables[i]))
            ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                            errmsg("cannot rebuild the indexes of keyring \"%s\" now", keyring),
                            errdetail("The re-encryption worker is rebuilding an index of table %s concurrently, "
                                      "after a finished job.",
                                      get_rel_name(tables[i])),
                            errhint("Wait until colcrypt.reencrypt_progress shows the table done, then retry.")));
    for (std::uint64_t i = 0; i < count; i++)
        if (i == 0 || tables[i] != tables[i - 1])
            LockRelationOid(tables[i], ShareLock);
    for (std::uint64_t i = 0; i < count; i++)
        LockRelationOid(indexes[i], AccessExclusiveLock);
}

// Rebuild the indexes; returns how many.  Refuses when one belongs to
// another session's temporary table.
int rebuild_indexes(int32 typmod, const char *keyring, const char *rebuilt_in) {
    InternalAccess access;
    begin_internal_access(&access);
    TypeSet types = containing_types();
    QueryArg args[] = {int4_arg(typmod), oid_array_arg(types)};
    run_internal_locking_query(kIndexesQuery, SPI_OK_SELECT, 2, args);
    std::uint64_t count = result_rows();
    char **names = (char **) palloc(sizeof(char *) * (count + 1));
    Oid *indexes = (Oid *) palloc(sizeof(Oid) * (count + 1));
    Oid *tables = (Oid *) palloc(sizeof(Oid) * (count + 1));
    for (std::uint64_t i = 0; i < count; i++) {
        names[i] = result_text_copy(i, 1);
        indexes[i] = result_oid(i, 3);
        tables[i] = result_oid(i, 4);
        if (result_bool(i, 2))
            ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                            errmsg("cannot rebuild index %s: it belongs to another session's temporary table",
                                   names[i]),
                            errdetail("Keyring \"%s\" keeps its index order and order key until every index of "
                                      "its values is rebuilt.",
                                      keyring),
                            errhint("Retry when that session has ended.")));
    }
    lock_for_rebuild(tables, indexes, count, keyring);
    for (std::uint64_t i = 0; i < count; i++) {
        run_internal_locking_query(psprintf("REINDEX INDEX %s", names[i]), SPI_OK_UTILITY);
        ereport(NOTICE, (errmsg("rebuilt index %s %s", names[i], rebuilt_in)));
    }
    end_internal_access(&access);
    return (int) count;
}

// The cut-over's condition: no row the latest snapshot sees holds a value
// of a data version bound to the old order key.  Each version's retirement
// lock waits for the transactions that may still write under it, as for
// retire_key.  Old row versions and index entries do not block: every
// comparison decrypts a value whose term is not under the order key.
void check_old_order_key_unused(const catalog::LockedKeyring &keyring, int32 old_order, int32 new_order) {
    int count;
    int32 *versions = catalog::data_versions_bound_to(keyring.keyring_id, old_order, &count);
    int64 live = 0;
    StringInfoData where, listed;
    initStringInfo(&where);
    initStringInfo(&listed);
    for (int i = 0; i < count; i++) {
        lock_version_for_retirement((std::uint32_t) keyring.keyring_id, (std::uint32_t) versions[i]);
        VersionUse use;
        find_version_use((std::uint32_t) keyring.keyring_id, (std::uint32_t) versions[i], &use);
        if (use.live == 0)
            continue;
        live += use.live;
        appendStringInfo(&listed, "%s%d", listed.len > 0 ? ", " : "", versions[i]);
        appendStringInfo(&where, "%s%s%s", where.len > 0 ? "; " : "", count > 1 ? psprintf("version %d: ", versions[i]) : "",
                         use.live_where.data);
    }
    if (live > 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                        errmsg("cannot cut keyring \"%s\" over to blind-index key %d: " INT64_FORMAT
                               " value%s still carr%s terms of index key %d",
                               keyring.name, new_order, live, live == 1 ? "" : "s", live == 1 ? "ies" : "y",
                               old_order),
                        errdetail("Values under data key version%s %s (bound to index key %d): %s.",
                                  count == 1 ? "" : "s", listed.data, old_order, where.data),
                        errhint("Let the re-encryption job finish (colcrypt.reencrypt_progress) or run CALL "
                                "colcrypt.reencrypt_now(tbl) for each table listed; rewrite values inside arrays, "
                                "composites and domains by hand (UPDATE).  Then retry.")));
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
    bool order_switch = catalog::index_order(keyring.keyring_id) != 2;
    int32 old_order = catalog::order_index_version(keyring.keyring_id);
    int32 new_order = extension_version_at_least(0, 2) ? catalog::active_index_version(keyring.keyring_id) : 0;
    bool key_switch = new_order != 0 && new_order != old_order;
    if (!order_switch && !key_switch) {
        ereport(NOTICE, (errmsg("keyring \"%s\" already has index order 2 and orders by its active blind-index key",
                                keyring.name)));
        PG_RETURN_INT32(0);
    }
    if (key_switch)
        check_old_order_key_unused(keyring, old_order, new_order);
    if (order_switch)
        catalog::set_index_order(keyring.keyring_id, 2);
    if (key_switch)
        catalog::set_order_index_version(keyring.keyring_id, new_order);
    invalidate_key_caches();
    // Make the change visible to this transaction's next commands (the key
    // cache reloads the keyring from its latest row), then load the keyring
    // in its new order before anything compares its values.
    CommandCounterIncrement();
    (void) index_key_for_keyring((std::uint32_t) keyring.keyring_id);
    char *rebuilt_in = order_switch && key_switch
                           ? psprintf("in index order 2 under blind-index key %d", new_order)
                       : order_switch ? pstrdup("in index order 2")
                                      : psprintf("under blind-index key %d", new_order);
    int rebuilt = rebuild_indexes(keyring.typmod, keyring.name, rebuilt_in);
    const char *destroyed = key_switch ? destroy_unused_index_keys(keyring.keyring_id, keyring.name) : "";
    if (destroyed[0] != '\0')
        invalidate_key_caches();
    StringInfoData detail;
    initStringInfo(&detail);
    if (order_switch)
        appendStringInfoString(&detail, "index order 1 -> 2; ");
    if (key_switch)
        appendStringInfo(&detail, "order key: blind-index key %d -> %d; ", old_order, new_order);
    appendStringInfo(&detail, "%d index%s rebuilt%s", rebuilt, rebuilt == 1 ? "" : "es", destroyed);
    record_key_event(actor, KeyEvent::upgrade_index_order, keyring.name, 0, 0, detail.data);
    PG_RETURN_INT32(rebuilt);
}
