// The per-backend cache of unwrapped keyrings.  See
// include/colcrypt/pg/keys/key_cache.hpp.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

extern "C" {
#include "access/xact.h"
#include "utils/inval.h"
}

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/keyring.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/key_wrapping.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"
#include "colcrypt/pg/keys/restore_session.hpp"
#include "colcrypt/pg/keys/transit_keys.hpp"

namespace colcrypt::pg {

namespace {

struct CachedKeyring {
    CachedKeyring(const catalog::KeyringRow &row, const core::TermPolicy &policy)
        : keyring_id(row.keyring_id), typmod(row.typmod), name(row.name),
          active_version(row.data.present ? row.data.version : 0), policy(policy), keys(row.keyring_id) {}
    std::uint32_t keyring_id;
    int32 typmod;
    std::string name;
    std::uint32_t active_version;  // 0: no active data key
    core::TermPolicy policy;
    core::KeyringKeys keys;
    core::AesGcm *active_aead = nullptr;  // keys.data_key(active_version), looked up once
    std::uint32_t order_index_version = 0;  // 0: no index key row
    core::BlindIndex *order_index = nullptr;    // keys.index_key(order_index_version)
    core::BlindIndex *sealing_index = nullptr;  // the active data version's index key
    std::uint32_t sealing_index_version = 0;     // its version (order_index_version outside a rotation)
    std::vector<std::int32_t> off_order_versions;  // catalog::data_versions_off_order_key
};

// Maps are allocated once and never destroyed, so no static destructor runs
// at backend exit after PostgreSQL has torn things down.
using KeyringsById = std::unordered_map<std::uint32_t, std::unique_ptr<CachedKeyring>>;
using KeyringsByTypmod = std::unordered_map<int32, CachedKeyring *>;

KeyringsById *cache_by_id = nullptr;
KeyringsByTypmod *cache_by_typmod = nullptr;
std::unordered_set<std::uint32_t> *missing_keyrings = nullptr;
bool cache_stale = false;
// Counts the times the cache was marked stale (key_cache_epoch).
std::uint64_t stale_marks = 0;

void mark_stale() {
    cache_stale = true;
    stale_marks++;
}

// Keyrings dropped from the cache while the transaction runs.  A caller may
// still hold a key of one (a comparison holds both operands' keys while the
// second lookup finds the cache stale), so they are destroyed, and their
// keys wiped, only at transaction end, when no such pointer survives.
std::vector<std::unique_ptr<CachedKeyring>> *retired_keyrings = nullptr;

// A keyring being loaded, owned here until it enters the cache: an ERROR
// while its keys are unwrapped leaves it to the next load or to
// transaction end, which destroy it (and wipe the keys it already holds).
CachedKeyring *loading_keyring = nullptr;

// The keyring each lookup found last.  The values of a column, and the
// comparisons of an index scan, come one after another under one keyring,
// so most lookups stop here instead of hashing.  Reset whenever the cache
// is emptied; never consulted while it is stale.
CachedKeyring *last_by_typmod = nullptr;
CachedKeyring *last_by_id = nullptr;

// A keyring loaded in parallel mode, where no new snapshot can be taken,
// is read through the query's snapshot, which may predate a key operation
// (a rotation committed while a REPEATABLE READ transaction or a long
// statement ran): it serves that transaction only.
bool empty_at_transaction_end = false;

// Invalidation may arrive in the middle of a lookup (any lock acquisition
// processes it), so it only marks the cache; it is emptied at the start of
// the next lookup, when no pointer into it is held.
void on_relcache_invalidation(Datum, Oid relid) {
    // Key operations invalidate colcrypt.keyrings (invalidate_key_caches);
    // InvalidOid means "everything", e.g. after a sinval queue overflow.
    if (relid == InvalidOid) {
        mark_stale();
        forget_key_tables();
    } else if (relid == keyrings_relid_if_known()) {
        mark_stale();
    }
}

void begin_lookup() {
    if (cache_by_id == nullptr) {
        cpp_guard([] {
            cache_by_id = new KeyringsById();
            cache_by_typmod = new KeyringsByTypmod();
            missing_keyrings = new std::unordered_set<std::uint32_t>();
            retired_keyrings = new std::vector<std::unique_ptr<CachedKeyring>>();
        });
    }
    if (cache_stale) {
        cpp_guard([] {
            // Reserve first: the moves below then cannot fail half-way.
            retired_keyrings->reserve(retired_keyrings->size() + cache_by_id->size());
            for (auto &cached : *cache_by_id)
                retired_keyrings->push_back(std::move(cached.second));
            cache_by_typmod->clear();
            cache_by_id->clear();
            missing_keyrings->clear();
        });
        cache_stale = false;
        last_by_typmod = last_by_id = nullptr;
    }
}

void destroy_loading_keyring() {
    if (loading_keyring != nullptr) {
        CachedKeyring *entry = loading_keyring;
        loading_keyring = nullptr;
        cpp_guard([&] { delete entry; });
    }
}

void at_transaction_end(XactEvent event, void *) {
    if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_COMMIT &&
        event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PREPARE)
        return;
    destroy_loading_keyring();
    if (retired_keyrings != nullptr && !retired_keyrings->empty())
        cpp_guard([] { retired_keyrings->clear(); });
    if (empty_at_transaction_end) {
        empty_at_transaction_end = false;
        mark_stale();
    }
}

// Load a keyring into the cache with its active data key and index key.
// It enters the cache only once both are unwrapped, so a cached keyring
// always has the keys its row promises; one whose keys fail is reported
// again on every use, not cached half-built.
CachedKeyring *load_keyring(catalog::KeyringBy by, int32 key) {
    if (IsInParallelMode())
        empty_at_transaction_end = true;
    catalog::KeyringRow row;
    catalog::load_keyring(by, key, &row);
    if (!row.found)
        return nullptr;
    if (row.data.present)
        check_fingerprint(row.name, row.data.fingerprint);
    if (row.index.present)
        check_fingerprint(row.name, row.index.fingerprint);
    if (row.sealing_index.present)
        check_fingerprint(row.name, row.sealing_index.fingerprint);
    int off_order_count;
    std::int32_t *off_order = catalog::data_versions_off_order_key(row.keyring_id, &off_order_count);
    core::TermPolicy policy =
        cpp_guard([&] { return core::TermPolicy::for_keyring(row.term_bits, row.case_insensitive, row.index_order); });
    destroy_loading_keyring();  // left by a load that failed earlier
    CachedKeyring *entry = cpp_guard([&] { return new CachedKeyring(row, policy); });
    loading_keyring = entry;
    bool data_ok = !row.data.present || unwrap_stored_key(entry->keys, core::KeyPurpose::data, row.data.version,
                                                          row.data.wrapped, row.data.wrapped_size);
    // Unwrapped even when no terms are stored: comparisons then order values
    // by a full term computed on the fly, never by plaintext.
    bool index_ok = data_ok && (!row.index.present ||
                                unwrap_stored_key(entry->keys, core::KeyPurpose::index, row.index.version,
                                                  row.index.wrapped, row.index.wrapped_size));
    // During a blind-index key rotation the active data version's terms are
    // made with the new index key, while comparisons order by the old one.
    bool sealing_ok = index_ok && (!row.sealing_index.present ||
                                   (row.index.present && row.sealing_index.version == row.index.version) ||
                                   unwrap_stored_key(entry->keys, core::KeyPurpose::index, row.sealing_index.version,
                                                     row.sealing_index.wrapped, row.sealing_index.wrapped_size));
    if (!data_ok || !index_ok || !sealing_ok) {
        destroy_loading_keyring();
        if (!data_ok)
            report_damaged_key(row.name, core::KeyPurpose::data, row.data.version);
        report_damaged_key(row.name, core::KeyPurpose::index,
                           index_ok ? row.sealing_index.version : row.index.version);
    }
    entry->active_aead = entry->active_version != 0 ? entry->keys.data_key(entry->active_version) : nullptr;
    entry->order_index_version = row.index.present ? row.index.version : 0;
    entry->order_index = row.index.present ? entry->keys.index_key(row.index.version) : nullptr;
    entry->sealing_index =
        row.sealing_index.present ? entry->keys.index_key(row.sealing_index.version) : entry->order_index;
    entry->sealing_index_version = row.sealing_index.present ? row.sealing_index.version : entry->order_index_version;
    cpp_guard([&] { entry->off_order_versions.assign(off_order, off_order + off_order_count); });
    cpp_guard([&] {
        loading_keyring = nullptr;  // owned by the cache from here (or freed if it throws)
        std::unique_ptr<CachedKeyring> owned(entry);
        (*cache_by_id)[row.keyring_id] = std::move(owned);
        (*cache_by_typmod)[row.typmod] = entry;
    });
    return entry;
}

CachedKeyring *cached_keyring_by_id(std::uint32_t keyring_id) {
    if (!cache_stale && last_by_id != nullptr && last_by_id->keyring_id == keyring_id)
        return last_by_id;
    begin_lookup();
    auto it = cache_by_id->find(keyring_id);
    CachedKeyring *entry =
        it != cache_by_id->end() ? it->second.get() : load_keyring(catalog::KeyringBy::id, (int32) keyring_id);
    if (entry != nullptr)
        last_by_id = entry;
    return entry;
}

CachedKeyring *cached_keyring_by_typmod(int32 typmod) {
    if (!cache_stale && last_by_typmod != nullptr && last_by_typmod->typmod == typmod)
        return last_by_typmod;
    begin_lookup();
    auto it = cache_by_typmod->find(typmod);
    CachedKeyring *entry =
        it != cache_by_typmod->end() ? it->second : load_keyring(catalog::KeyringBy::type_modifier, typmod);
    if (entry != nullptr)
        last_by_typmod = entry;
    return entry;
}

}  // namespace

void register_key_cache_invalidation() {
    CacheRegisterRelcacheCallback(on_relcache_invalidation, (Datum) 0);
    RegisterXactCallback(at_transaction_end, nullptr);
}

std::uint64_t key_cache_epoch() {
    return stale_marks;
}

void invalidate_key_caches() {
    // Every relation, not colcrypt.keyrings alone: plans that look values up
    // through an index over terms carry terms made under the keys of the
    // moment (planner/term_index_quals.cpp), and the plan cache throws away
    // a plan when a relation it uses is invalidated.  Key operations are
    // rare; each costs every backend a rebuild of the relation cache entries
    // it uses next.
    CacheInvalidateRelcacheAll();
}

namespace {

CachedKeyring *existing_keyring_for_typmod(int32 typmod) {
    CachedKeyring *entry = cached_keyring_by_typmod(typmod);
    if (entry == nullptr && in_restore())
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("keyring for type modifier %d does not exist yet", typmod),
                        errdetail("This table's data is being restored before colcrypt's key tables."),
                        errhint("Restore colcrypt.keyrings, colcrypt.key_versions and colcrypt.encrypt_grants first "
                                "(pg_restore -l, move their TABLE DATA lines before the other TABLE DATA lines, "
                                "pg_restore -L), or dump with colcrypt.output_mode = ciphertext, whose envelopes "
                                "restore in any order.")));
    if (entry == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("keyring for type modifier %d does not exist", typmod),
                        errhint("Create it with colcrypt.create_key(), or restore colcrypt.keyrings.")));
    return entry;
}

}  // namespace

std::uint32_t keyring_id_for_typmod(int32 typmod) {
    return existing_keyring_for_typmod(typmod)->keyring_id;
}

std::uint32_t order_index_version_for_typmod(int32 typmod) {
    return existing_keyring_for_typmod(typmod)->order_index_version;
}

SealingKeyring sealing_key_for_typmod(int32 typmod) {
    CachedKeyring *entry = existing_keyring_for_typmod(typmod);
    if (entry->active_version == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("keyring \"%s\" has no active key version", entry->name.c_str()),
                        errhint("Create one with colcrypt.rotate_key().")));
    SealingKeyring sealing;
    sealing.key.keyring_id = entry->keyring_id;
    sealing.key.key_version = entry->active_version;
    sealing.key.data_key = entry->active_aead;
    sealing.key.index_key = entry->sealing_index;
    sealing.key.policy = entry->policy;
    sealing.keyring_name = entry->name.c_str();
    return sealing;
}

void report_unknown_keyring(std::uint32_t keyring_id) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring %u does not exist", keyring_id),
                    errdetail("The value was encrypted under a keyring this database does not have."),
                    errhint("Restore colcrypt.keyrings and colcrypt.key_versions from the database the value came from.")));
    pg_unreachable();
}

core::AesGcm &data_key(std::uint32_t keyring_id, std::uint32_t key_version) {
    if (keyring_id == core::kTransitKeyringId)
        return transit_data_key(key_version);
    CachedKeyring *entry = cached_keyring_by_id(keyring_id);
    if (entry == nullptr)
        report_unknown_keyring(keyring_id);
    if (key_version == entry->active_version && entry->active_aead != nullptr)
        return *entry->active_aead;
    if (core::AesGcm *aead = entry->keys.data_key(key_version))
        return *aead;

    catalog::WrappedKeyRow row;
    catalog::load_data_key(keyring_id, key_version, &row);
    if (!row.present)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("key version %u of keyring \"%s\" does not exist", key_version, entry->name.c_str())));
    if (row.wrapped_size == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("key version %u of keyring \"%s\" is %s", key_version, entry->name.c_str(), row.state),
                        errdetail("Its key was destroyed; values encrypted under it can no longer be read.")));
    check_fingerprint(entry->name.c_str(), row.fingerprint);
    if (!unwrap_stored_key(entry->keys, core::KeyPurpose::data, key_version, row.wrapped, row.wrapped_size))
        report_damaged_key(entry->name.c_str(), core::KeyPurpose::data, key_version);
    return *entry->keys.data_key(key_version);
}

namespace {

IndexKey index_key_of(const CachedKeyring *entry) {
    return IndexKey{entry->order_index,
                    entry->policy,
                    entry->order_index_version,
                    entry->off_order_versions.data(),
                    (int) entry->off_order_versions.size(),
                    entry->sealing_index,
                    entry->sealing_index_version};
}

}  // namespace

IndexKey index_key_for_keyring(std::uint32_t keyring_id) {
    CachedKeyring *entry = cached_keyring_by_id(keyring_id);
    if (entry == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring %u does not exist", keyring_id)));
    return index_key_of(entry);
}

bool index_key_for_typmod(int32 typmod, IndexKey *key) {
    CachedKeyring *entry = cached_keyring_by_typmod(typmod);
    if (entry == nullptr)
        return false;
    *key = index_key_of(entry);
    return true;
}

bool keyring_exists(std::uint32_t keyring_id) {
    if (keyring_id == core::kTransitKeyringId)
        return true;
    begin_lookup();
    if (cache_by_id->count(keyring_id) > 0)
        return true;
    if (missing_keyrings->count(keyring_id) > 0)
        return false;
    if (keyring_name_for_id(keyring_id) != nullptr)
        return true;
    cpp_guard([&] { missing_keyrings->insert(keyring_id); });
    return false;
}

}  // namespace colcrypt::pg
