// SQL-callable keyring verbs: create_key, rotate_key, rotate_index_key,
// retire_key.  Grants are in decrypt_grants.cpp, master key rotation in
// master_key_rotation.cpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "miscadmin.h"
#include "utils/builtins.h"
}

#include "colcrypt/core/master_key.hpp"
#include "colcrypt/pg/admin/keyring_transfer.hpp"
#include "colcrypt/pg/admin/keyring_verbs.hpp"
#include "colcrypt/pg/admin/reencrypt_on_rotate.hpp"
#include "colcrypt/pg/admin/value_scan.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/extension_version.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/key_events.hpp"
#include "colcrypt/pg/keys/key_wrapping.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"
#include "colcrypt/pg/keys/master_key_provider.hpp"
#include "colcrypt/pg/keys/version_locks.hpp"
#include "colcrypt/pg/state/nonce_counters.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(colcrypt_create_key);
PG_FUNCTION_INFO_V1(colcrypt_rotate_key);
PG_FUNCTION_INFO_V1(colcrypt_rotate_index_key);
PG_FUNCTION_INFO_V1(colcrypt_retire_key);
}

namespace colcrypt::pg {

std::int32_t rotate_data_key(const char *name, std::int32_t keyring_id, std::int32_t expected_active,
                             const KeyEventActor &actor, KeyEvent event, const char *detail) {
    core::MasterKey &master = master_key();
    catalog::LockedKeyring keyring;
    catalog::lock_keyring(name, keyring_id, true, &keyring);
    // Read after the lock: a rotation that committed while we waited is seen.
    catalog::DataKeyVersions versions = catalog::data_key_versions(keyring.keyring_id);
    if (expected_active > 0 && versions.active != expected_active)
        return 0;
    // Inside the versions this database may make (keyring transfer).
    std::int32_t version = next_data_key_version(keyring.keyring_id, keyring.name, versions.latest);
    std::uint8_t wrapped[core::kWrappedKeySize];
    wrap_fresh_key(master, (std::uint32_t) keyring.keyring_id, core::KeyPurpose::data, (std::uint32_t) version,
                   wrapped);
    // Demote first: under REPEATABLE READ a rotation that committed since the
    // snapshot makes this a serialization failure instead of a duplicate key.
    catalog::demote_active_data_key(keyring.keyring_id);
    catalog::insert_key_version(keyring.keyring_id, core::KeyPurpose::data, version, wrapped, master.fingerprint());

    invalidate_key_caches();
    record_key_event(actor, event, keyring.name, versions.active, version, detail);
    return version;
}

const char *destroy_unused_index_keys(std::int32_t keyring_id, const char *keyring_name) {
    if (!extension_version_at_least(0, 2))
        return "";
    int count;
    std::int32_t *versions = catalog::retire_unbound_index_keys(keyring_id, &count);
    StringInfoData out;
    initStringInfo(&out);
    for (int i = 0; i < count; i++) {
        appendStringInfo(&out, "; blind-index key version %d destroyed", versions[i]);
        ereport(NOTICE, (errmsg("blind-index key version %d of keyring \"%s\" destroyed", versions[i], keyring_name),
                         errdetail("No data key version that is not retired is bound to it, and comparisons no "
                                   "longer order by it.")));
    }
    return out.data;
}

}  // namespace colcrypt::pg

using namespace colcrypt::pg;
using colcrypt::core::KeyPurpose;

// colcrypt.create_key(keyring text, case_insensitive boolean) returns int: a
// new keyring with version 1 of its data key and of its blind-index key
// active, the decrypt grant for its creator and the encrypt grant for
// PUBLIC.  Returns the version.
extern "C" Datum colcrypt_create_key(PG_FUNCTION_ARGS) {
    KeyEventActor actor = begin_key_operation("create_key");
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    bool case_insensitive = PG_GETARG_BOOL(1);
    int32 typmod = keyring_typmod_for_name(name);
    colcrypt::core::MasterKey &master = master_key();
    char *creator = GetUserNameFromId(actor.current_user, false);

    // One creator at a time: ids are max + 1 and names must stay unique.
    catalog::lock_keyrings_for_create();
    if (char *existing = catalog::keyring_name_for_create(typmod)) {
        if (strcmp(existing, name) == 0)
            ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT), errmsg("keyring \"%s\" already exists", name)));
        ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                        errmsg("keyring name \"%s\" collides with keyring \"%s\"", name, existing),
                        errdetail("Both names map to type modifier %d.", typmod), errhint("Choose another name.")));
    }
    int32 keyring_id = catalog::next_keyring_id();
    std::uint8_t data_key[colcrypt::core::kWrappedKeySize];
    std::uint8_t index_key[colcrypt::core::kWrappedKeySize];
    wrap_fresh_key(master, (std::uint32_t) keyring_id, KeyPurpose::data, 1, data_key);
    wrap_fresh_key(master, (std::uint32_t) keyring_id, KeyPurpose::index, 1, index_key);

    catalog::insert_keyring(keyring_id, name, typmod, guc_blind_index_bits, case_insensitive, creator);
    // The index key first: the data version is bound to the active one.
    catalog::insert_key_version(keyring_id, KeyPurpose::index, 1, index_key, master.fingerprint());
    catalog::insert_key_version(keyring_id, KeyPurpose::data, 1, data_key, master.fingerprint());
    // The creator may decrypt what the keyring protects; every role may
    // encrypt under it until an administrator revokes that from PUBLIC
    // (docs/design/encrypt-privilege.md).
    (void) catalog::insert_decrypt_grant(keyring_id, actor.current_user, creator);
    bool encrypt_public = catalog::insert_encrypt_grant(keyring_id, InvalidOid, creator);

    invalidate_key_caches();
    record_key_event(actor, KeyEvent::create, name, 0, 1,
                     psprintf("data and blind-index keys version 1, master key %s; decryption granted to role \"%s\"%s",
                              master.fingerprint(), creator, encrypt_public ? "; encryption granted to PUBLIC" : ""));
    PG_RETURN_INT32(1);
}

// colcrypt.rotate_key(keyring text) returns int: the new active version.
extern "C" Datum colcrypt_rotate_key(PG_FUNCTION_ARGS) {
    KeyEventActor actor = begin_key_operation("rotate_key");
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    std::int32_t version = rotate_data_key(name, 0, 0, actor, KeyEvent::rotate, nullptr);
    queue_reencrypt_after_rotation(name);
    PG_RETURN_INT32(version);
}

// colcrypt.rotate_index_key(keyring text) returns int: a new blind-index key
// and a new data version bound to it, both active for writes, in one
// transaction; comparisons keep ordering by the old index key (the order
// key) until colcrypt.upgrade_index_order cuts over
// (docs/design/reencryption.md, section 7).  Returns the new index version.
extern "C" Datum colcrypt_rotate_index_key(PG_FUNCTION_ARGS) {
    KeyEventActor actor = begin_key_operation("rotate_index_key");
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    colcrypt::core::MasterKey &master = master_key();
    catalog::LockedKeyring keyring;
    catalog::lock_keyring(name, 0, true, &keyring);
    catalog::KeyringIdentity identity;
    catalog::keyring_identity(keyring.keyring_id, &identity);
    // A transferred keyring's index-key versions would be made apart in two
    // databases under the same numbers (docs/design/reencryption.md, section 7).
    if (identity.version_start > 1 || identity.version_end < PG_INT32_MAX)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot rotate the blind-index key of keyring \"%s\": it is shared with another "
                               "database",
                               keyring.name),
                        errdetail("The keyring was %s by colcrypt.%s; both databases would make index key "
                                  "versions of the same number.",
                                  identity.version_start > 1 ? "imported" : "exported",
                                  identity.version_start > 1 ? "import_keyring" : "export_keyring"),
                        errhint("Rotate its data key with colcrypt.rotate_key('%s') instead.", keyring.name)));
    std::int32_t active_index = catalog::active_index_version(keyring.keyring_id);
    std::int32_t order_index = catalog::order_index_version(keyring.keyring_id);
    if (active_index == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("keyring \"%s\" has no active blind-index key", keyring.name),
                        errhint("Restore colcrypt.key_versions from a backup.")));
    if (order_index != active_index)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("the blind-index key rotation of keyring \"%s\" is not finished", keyring.name),
                        errdetail("Comparisons still order by index key %d; index key %d is active for writes.",
                                  order_index, active_index),
                        errhint("Let the re-encryption job finish (colcrypt.reencrypt_progress), then cut over with "
                                "SELECT colcrypt.upgrade_index_order('%s').",
                                keyring.name)));
    if (catalog::data_key_versions(keyring.keyring_id).active == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("keyring \"%s\" has no active key version", keyring.name),
                        errhint("Create one with colcrypt.rotate_key().")));

    // The active index key is the newest one; a row above it (restored by
    // hand, say) is never overwritten.
    std::int32_t index_version = active_index + 1;
    while (catalog::key_version_exists(keyring.keyring_id, KeyPurpose::index, index_version))
        index_version++;
    std::uint8_t wrapped[colcrypt::core::kWrappedKeySize];
    wrap_fresh_key(master, (std::uint32_t) keyring.keyring_id, KeyPurpose::index, (std::uint32_t) index_version,
                   wrapped);
    // The new index key first: the data version made next is bound to the
    // active one (catalog::insert_key_version).
    catalog::demote_active_index_key(keyring.keyring_id);
    catalog::insert_key_version(keyring.keyring_id, KeyPurpose::index, index_version, wrapped, master.fingerprint());
    std::int32_t data_version = rotate_data_key(
        nullptr, keyring.keyring_id, 0, actor, KeyEvent::rotate_index_key,
        psprintf("blind-index key version %d, master key %s, active for writes with this data version; comparisons "
                 "order by index key %d until colcrypt.upgrade_index_order",
                 index_version, master.fingerprint(), order_index));
    // rotate_data_key invalidated every backend's keys and plans: a plan
    // made before now looks up one term per search value through an index
    // over colcrypt.term() (planner/term_index_quals.cpp), and from the
    // commit on new values carry terms of the new key too.
    ereport(NOTICE, (errmsg("keyring \"%s\": blind-index key version %d and data key version %d are active",
                            keyring.name, index_version, data_version),
                     errdetail("Comparisons order by index key %d until every value is re-encrypted and the keyring "
                               "is cut over.",
                               order_index),
                     errhint("When colcrypt.reencrypt_progress shows the job done, run SELECT "
                             "colcrypt.upgrade_index_order('%s').",
                             keyring.name)));
    queue_reencrypt_after_rotation(keyring.name);
    PG_RETURN_INT32(index_version);
}

// colcrypt.retire_key(keyring text, version int): destroys the wrapped key
// of a version that is not active and that no stored value uses, and the
// blind-index key the last such version was bound to once nothing needs it
// (docs/design/reencryption.md, section 7).
extern "C" Datum colcrypt_retire_key(PG_FUNCTION_ARGS) {
    char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    int32 version = PG_GETARG_INT32(1);
    KeyEventActor actor = begin_key_operation("retire_key");

    catalog::LockedKeyring keyring;
    catalog::lock_keyring(name, 0, true, &keyring);
    char state[16];
    if (!catalog::data_key_state(keyring.keyring_id, version, state, sizeof(state)))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("key version %d of keyring \"%s\" does not exist", version, keyring.name)));
    if (strcmp(state, "active") == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("key version %d of keyring \"%s\" is the active version", version, keyring.name),
                        errhint("Rotate first with colcrypt.rotate_key('%s'), re-encrypt the values that use "
                                "version %d, then retire it.",
                                keyring.name, version)));
    if (strcmp(state, "retired") == 0) {
        ereport(NOTICE, (errmsg("key version %d of keyring \"%s\" is already retired", version, keyring.name)));
        PG_RETURN_VOID();
    }

    // Nothing writes under the version from here on: wait for the
    // transactions that may still do (docs/design/retirement.md), then look
    // at every place a value under it can still be read.
    lock_version_for_retirement((std::uint32_t) keyring.keyring_id, (std::uint32_t) version);
    VersionUse use;
    find_version_use((std::uint32_t) keyring.keyring_id, (std::uint32_t) version, &use);
    if (use.other_temp_table != nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                        errmsg("cannot retire key version %d of keyring \"%s\" while another session's temporary "
                               "table \"%s\" may hold its values",
                               version, keyring.name, use.other_temp_table),
                        errdetail("Temporary tables of other sessions cannot be read."),
                        errhint("Retry when that session has ended.")));
    if (use.live > 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                        errmsg("key version %d of keyring \"%s\" is still used by " INT64_FORMAT " value%s", version,
                               keyring.name, use.live, use.live == 1 ? "" : "s"),
                        errdetail("Values under version %d: %s.", version, use.live_where.data),
                        errhint("Re-encrypt them under the active version first, for example "
                                "UPDATE t SET c = c::text for each column listed (c::int4, c::jsonb "
                                "and so on for the other encrypted types).")));
    if (use.unreadable > 0)
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg("cannot retire key version %d of keyring \"%s\": " INT64_FORMAT
                               " stored value%s cannot be parsed",
                               version, keyring.name, use.unreadable, use.unreadable == 1 ? "" : "s"),
                        errdetail("A value whose header is damaged might be under version %d: %s.", version,
                                  use.unreadable_where.data),
                        errhint("Find them with colcrypt.describe() and restore them from a backup.")));
    if (use.dead > 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                        errmsg("key version %d of keyring \"%s\" is still held by " INT64_FORMAT
                               " value%s in row versions that are no longer visible",
                               version, keyring.name, use.dead, use.dead == 1 ? "" : "s"),
                        errdetail("Deleted or updated rows of %s still hold values under version %d; a transaction "
                                  "with an older snapshot (a running pg_dump, say) can still read them.",
                                  use.dead_where.data, version),
                        errhint("Vacuum first: VACUUM those tables, after the transactions that started before the "
                                "values were rewritten have ended, then retry.")));
    if (use.unchecked_index != nullptr)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot retire key version %d of keyring \"%s\" while index %s may hold its values",
                               version, keyring.name, use.unchecked_index),
                        errdetail("Only btree and GIN indexes can be searched for values under a key version."),
                        errhint("Drop the index, retire the version, then create the index again.")));
    if (use.index_leaf > 0 || use.index_until_rebuilt > 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                        errmsg("key version %d of keyring \"%s\" is still held by " INT64_FORMAT " index entr%s",
                               version, keyring.name, use.index_leaf + use.index_until_rebuilt,
                               use.index_leaf + use.index_until_rebuilt == 1 ? "y" : "ies"),
                        errdetail("Indexes %s hold values under version %d that lookups still compare with.",
                                  use.index_where.data, version),
                        use.index_until_rebuilt == 0
                            ? errhint("Vacuum first: VACUUM removes the entries of deleted rows, then retry.")
                        : use.index_leaf == 0
                            ? errhint("Reindex first: entries in btree inner pages and GIN keys stay until the index "
                                      "is rebuilt (REINDEX INDEX CONCURRENTLY), then retry.")
                            : errhint("VACUUM removes the entries of deleted rows; entries in btree inner pages and "
                                      "GIN keys stay until the index is rebuilt (REINDEX INDEX CONCURRENTLY).  Then "
                                      "retry.")));
    if (use.statistics > 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_IN_USE),
                        errmsg("key version %d of keyring \"%s\" is still held by " INT64_FORMAT
                               " sample value%s in planner statistics",
                               version, keyring.name, use.statistics, use.statistics == 1 ? "" : "s"),
                        errdetail("The statistics of %s keep values under version %d, which the planner compares "
                                  "query constants with.",
                                  use.statistics_where.data, version),
                        errhint("Analyze first: ANALYZE those tables after the values were rewritten, then retry.")));

    catalog::retire_data_key(keyring.keyring_id, version);
    const char *index_keys_destroyed = destroy_unused_index_keys(keyring.keyring_id, keyring.name);
    invalidate_key_caches();
    release_nonce_counter_at_commit((std::uint32_t) keyring.keyring_id, (std::uint32_t) version);
    record_key_event(actor, KeyEvent::retire, keyring.name, version, 0,
                     psprintf("wrapped key destroyed; no stored value used it%s", index_keys_destroyed));
    PG_RETURN_VOID();
}
