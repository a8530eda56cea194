// Key tables, internal access to them, and the per-backend key cache.
#include "colcrypt/pg/postgres.hpp"

#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include "colcrypt/core/crypto.hpp"
#include "colcrypt/core/error.hpp"
#include "colcrypt/core/keyring.hpp"
#include "colcrypt/core/keyring_name.hpp"
#include "colcrypt/core/master_key.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/boundary.hpp"
#include "colcrypt/pg/internal_access.hpp"
#include "colcrypt/pg/key_store.hpp"
#include "colcrypt/pg/master_key_provider.hpp"
#include "colcrypt/pg/nonce_budget.hpp"

namespace colcrypt::pg {

int guc_blind_index_bits = 64;

namespace {

// ---------------------------------------------------------------------------
// Rows as read from the key tables: plain data, no destructors, so they can
// be filled by PostgreSQL code that may ereport.
// ---------------------------------------------------------------------------

struct WrappedKeyRow {
    bool present;
    std::uint32_t version;
    char state[16];
    std::uint8_t wrapped[core::kWrappedKeySize];
    size_t wrapped_size;
    char fingerprint[core::kFingerprintHexSize + 1];
};

struct KeyringRow {
    bool found;
    std::uint32_t keyring_id;
    int32 typmod;
    int term_bits;
    bool case_insensitive;
    char name[core::kMaxKeyringNameSize + 1];
    WrappedKeyRow data;   // the active data key
    WrappedKeyRow index;  // the active blind-index key
};

constexpr const char *kKeyringQuery =
    "SELECT k.keyring_id, k.name, k.type_modifier, k.index_term_bits,"
    "       d.version, d.wrapped_key, d.master_key_fingerprint,"
    "       i.version, i.wrapped_key, i.master_key_fingerprint, k.case_insensitive"
    "  FROM colcrypt.keyrings k"
    "  LEFT JOIN colcrypt.key_versions d ON d.keyring_id = k.keyring_id"
    "       AND d.purpose = 'data' AND d.state = 'active'"
    "  LEFT JOIN colcrypt.key_versions i ON i.keyring_id = k.keyring_id"
    "       AND i.purpose = 'index' AND i.state = 'active'";

void read_wrapped_key(WrappedKeyRow *row, int first_column) {
    row->present = !result_is_null(0, first_column);
    if (!row->present)
        return;
    row->version = result_int(0, first_column);
    row->wrapped_size = result_bytes(0, first_column + 1, row->wrapped, sizeof(row->wrapped));
    result_text(0, first_column + 2, row->fingerprint, sizeof(row->fingerprint));
}

// Read one keyring by type modifier or by id.
void load_keyring_row(bool by_typmod, int32 key, KeyringRow *row) {
    std::memset(row, 0, sizeof(*row));
    InternalAccess access;
    begin_internal_access(&access);
    char *sql = psprintf("%s WHERE k.%s = $1", kKeyringQuery, by_typmod ? "type_modifier" : "keyring_id");
    run_internal_query(sql, 1, &key, SPI_OK_SELECT);
    if (SPI_processed > 0) {
        row->found = true;
        row->keyring_id = result_int(0, 1);
        result_text(0, 2, row->name, sizeof(row->name));
        row->typmod = result_int(0, 3);
        row->term_bits = result_int(0, 4);
        read_wrapped_key(&row->data, 5);
        read_wrapped_key(&row->index, 8);
        row->case_insensitive = result_bool(0, 11);
    }
    end_internal_access(&access);
}

// Read one data-key version of a keyring.
void load_data_key_row(std::uint32_t keyring_id, std::uint32_t version, WrappedKeyRow *row) {
    std::memset(row, 0, sizeof(*row));
    InternalAccess access;
    begin_internal_access(&access);
    int32 args[2] = {(int32) keyring_id, (int32) version};
    run_internal_query("SELECT version, wrapped_key, master_key_fingerprint, state FROM colcrypt.key_versions"
              " WHERE keyring_id = $1 AND purpose = 'data' AND version = $2",
              2, args, SPI_OK_SELECT);
    if (SPI_processed > 0) {
        row->present = true;
        row->version = result_int(0, 1);
        row->wrapped_size = result_bytes(0, 2, row->wrapped, sizeof(row->wrapped));
        result_text(0, 3, row->fingerprint, sizeof(row->fingerprint));
        result_text(0, 4, row->state, sizeof(row->state));
    }
    end_internal_access(&access);
}

// ---------------------------------------------------------------------------
// The cache.  Maps are allocated once and never destroyed, so no static
// destructor runs at backend exit after PostgreSQL has torn things down.
// ---------------------------------------------------------------------------

struct CachedKeyring {
    CachedKeyring(const KeyringRow &row)
        : keyring_id(row.keyring_id), typmod(row.typmod), name(row.name),
          active_version(row.data.present ? row.data.version : 0), term_size(row.term_bits / 8),
          normalization(row.case_insensitive ? core::Normalization::ascii_case_fold : core::Normalization::none),
          keys(row.keyring_id) {}
    std::uint32_t keyring_id;
    int32 typmod;
    std::string name;
    std::uint32_t active_version;  // 0: no active data key
    size_t term_size;
    core::Normalization normalization;
    core::KeyringKeys keys;
    NonceCounter *counter = nullptr;  // of the active version, looked up on first encryption
    core::AesGcm *active_aead = nullptr;  // keys.data_key(active_version), looked up once
};

using KeyringsById = std::unordered_map<std::uint32_t, std::unique_ptr<CachedKeyring>>;
using KeyringsByTypmod = std::unordered_map<int32, CachedKeyring *>;

KeyringsById *cache_by_id = nullptr;
KeyringsByTypmod *cache_by_typmod = nullptr;
std::unordered_set<std::uint32_t> *missing_keyrings = nullptr;
core::NonceSource *backend_nonces = nullptr;
bool cache_stale = false;

// The keyring each lookup found last.  The values of a column, and the
// comparisons of an index scan, come one after another under one keyring,
// so most lookups stop here instead of hashing.  Reset whenever the cache
// is emptied; never consulted while it is stale.
CachedKeyring *last_by_typmod = nullptr;
CachedKeyring *last_by_id = nullptr;

// Invalidation may arrive in the middle of a lookup (any lock acquisition
// processes it), so it only marks the cache; it is emptied at the start of
// the next lookup, when no pointer into it is held.
void on_relcache_invalidation(Datum, Oid relid) {
    // Key operations invalidate colcrypt.keyrings (see key_functions.cpp);
    // InvalidOid means "everything", e.g. after a sinval queue overflow.
    if (relid == InvalidOid) {
        cache_stale = true;
        forget_key_tables();
    } else if (relid == keyrings_relid_if_known()) {
        cache_stale = true;
    }
}

void begin_lookup() {
    if (cache_by_id == nullptr) {
        cpp_guard([] {
            cache_by_id = new KeyringsById();
            cache_by_typmod = new KeyringsByTypmod();
            missing_keyrings = new std::unordered_set<std::uint32_t>();
        });
    }
    if (cache_stale) {
        cache_stale = false;
        last_by_typmod = last_by_id = nullptr;
        cpp_guard([] {
            cache_by_typmod->clear();
            cache_by_id->clear();
            missing_keyrings->clear();
        });
    }
}

void check_fingerprint(const char *keyring, const WrappedKeyRow &key) {
    const char *current = master_key().fingerprint();
    if (std::strcmp(key.fingerprint, current) != 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("master key does not match keyring \"%s\"", keyring),
                        errdetail("The keyring's keys were wrapped by master key %s; the server has master key %s.",
                                  key.fingerprint, current),
                        errhint("Start the server with the master key that created this keyring "
                                "(colcrypt.master_key_file or colcrypt.master_key_command).")));
}

// Unwrap a data or index key into the cache.  Returns false when the wrapped
// key fails authentication although the fingerprint matched: the key row
// was altered.
bool unwrap_into_cache(CachedKeyring &entry, core::KeyPurpose purpose, const WrappedKeyRow &key) {
    core::MasterKey &master = master_key();
    return cpp_guard([&] {
        try {
            core::SecretKey unwrapped =
                master.unwrap(entry.keyring_id, purpose, key.version, key.wrapped, key.wrapped_size);
            if (purpose == core::KeyPurpose::data)
                entry.keys.add_data_key(key.version, unwrapped);
            else
                entry.keys.set_index_key(unwrapped);
            return true;
        } catch (const core::Error &e) {
            if (e.code() == core::Errc::authentication_failed || e.code() == core::Errc::malformed_value)
                return false;
            throw;
        }
    });
}

[[noreturn]] void report_damaged_key(const char *keyring, const char *purpose, std::uint32_t version) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                    errmsg("%s key version %u of keyring \"%s\" failed authentication", purpose, version, keyring),
                    errdetail("The wrapped key in colcrypt.key_versions was altered or belongs to another keyring."),
                    errhint("Restore colcrypt.key_versions from a backup.")));
    pg_unreachable();
}

// Load a keyring into the cache with its active data key and index key.
// It enters the cache only once both are unwrapped, so a cached keyring
// always has the keys its row promises; one whose keys fail is reported
// again on every use, not cached half-built.
CachedKeyring *load_keyring(bool by_typmod, int32 key) {
    KeyringRow row;
    load_keyring_row(by_typmod, key, &row);
    if (!row.found)
        return nullptr;
    if (row.data.present)
        check_fingerprint(row.name, row.data);
    if (row.index.present)
        check_fingerprint(row.name, row.index);
    // Raw until cached: a failure below is reported after deleting it.  (An
    // OpenSSL failure inside an unwrap would leak it; that error is fatal
    // to the statement anyway.)
    CachedKeyring *entry = cpp_guard([&] { return new CachedKeyring(row); });
    bool data_ok = !row.data.present || unwrap_into_cache(*entry, core::KeyPurpose::data, row.data);
    // Unwrapped even when no terms are stored: comparisons then order values
    // by a full term computed on the fly, never by plaintext.
    bool index_ok = data_ok && (!row.index.present || unwrap_into_cache(*entry, core::KeyPurpose::index, row.index));
    if (!data_ok || !index_ok) {
        cpp_guard([&] { delete entry; });
        if (!data_ok)
            report_damaged_key(row.name, "data", row.data.version);
        report_damaged_key(row.name, "index", row.index.version);
    }
    entry->active_aead = entry->active_version != 0 ? entry->keys.data_key(entry->active_version) : nullptr;
    cpp_guard([&] {
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
    CachedKeyring *entry = it != cache_by_id->end() ? it->second.get() : load_keyring(false, (int32) keyring_id);
    if (entry != nullptr)
        last_by_id = entry;
    return entry;
}

CachedKeyring *cached_keyring_by_typmod(int32 typmod) {
    if (!cache_stale && last_by_typmod != nullptr && last_by_typmod->typmod == typmod)
        return last_by_typmod;
    begin_lookup();
    auto it = cache_by_typmod->find(typmod);
    CachedKeyring *entry = it != cache_by_typmod->end() ? it->second : load_keyring(true, typmod);
    if (entry != nullptr)
        last_by_typmod = entry;
    return entry;
}

}  // namespace

void define_key_store_gucs() {
    DefineCustomIntVariable("colcrypt.blind_index_bits",
                            "Size in bits of the blind-index term stored with each value of a new keyring.",
                            "A multiple of 8 from 0 (no index terms) to 256; fixed per keyring at creation. "
                            "Fewer bits leak less about equal values and give more false positives, "
                            "which colcrypt filters out by decrypting.",
                            &guc_blind_index_bits, 64, 0, 256, PGC_SUSET, 0,
                            [](int *newval, void **, GucSource) -> bool {
                                if (*newval % 8 != 0) {
                                    GUC_check_errdetail("colcrypt.blind_index_bits must be a multiple of 8.");
                                    return false;
                                }
                                return true;
                            },
                            nullptr, nullptr);
}

void register_key_cache_invalidation() {
    CacheRegisterRelcacheCallback(on_relcache_invalidation, (Datum) 0);
}

int32 keyring_typmod_for_name(const char *name) {
    size_t size = strlen(name);
    if (!core::is_valid_keyring_name(name, size))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid keyring name \"%s\"", name),
                        errdetail("Keyring names are 1 to %d characters: lower-case letters, digits and underscores, "
                                  "starting with a letter.",
                                  (int) core::kMaxKeyringNameSize)));
    return cpp_guard([&] { return core::keyring_type_modifier(name, size); });
}

void invalidate_key_caches() {
    CacheInvalidateRelcacheByRelid(keyrings_relid());
}

EncryptionKey encryption_key_for_typmod(int32 typmod) {
    CachedKeyring *entry = cached_keyring_by_typmod(typmod);
    if (entry == nullptr && in_restore())
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("keyring for type modifier %d does not exist yet", typmod),
                        errdetail("This table's data is being restored before colcrypt's key tables."),
                        errhint("Restore colcrypt.keyrings and colcrypt.key_versions first (pg_restore -l, move their "
                                "TABLE DATA lines before the other TABLE DATA lines, pg_restore -L), or dump with "
                                "colcrypt.output_mode = ciphertext, whose envelopes restore in any order.")));
    if (entry == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("keyring for type modifier %d does not exist", typmod),
                        errhint("Create it with colcrypt.create_key(), or restore colcrypt.keyrings.")));
    if (entry->active_version == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("keyring \"%s\" has no active key version", entry->name.c_str()),
                        errhint("Create one with colcrypt.rotate_key().")));
    EncryptionKey key;
    key.keyring_id = entry->keyring_id;
    key.key_version = entry->active_version;
    key.aead = entry->active_aead;
    key.index = entry->term_size > 0 ? entry->keys.index_key() : nullptr;
    key.term_size = key.index ? entry->term_size : 0;
    key.normalization = entry->normalization;
    key.keyring_name = entry->name.c_str();
    if (entry->counter == nullptr)
        entry->counter = nonce_counter_for(entry->keyring_id, entry->active_version);
    key.counter = entry->counter;
    return key;
}

// ---------------------------------------------------------------------------
// Transit keys.  Every literal and bind parameter is sealed under a transit
// key before the column's keyring binds it, so one key for all of them
// would reach the GCM bound of 2^32 random nonces on a busy server within
// days.  Instead each backend draws a random epoch and derives that epoch's
// key from the master key, and draws a new epoch after kTransitEpochSeals
// seals; any backend (a parallel worker, a later reader) derives the key of
// any epoch it meets.  Two backends drawing the same epoch (1 in 2^28) still
// stay far below the bound together.
// ---------------------------------------------------------------------------

namespace {

constexpr std::uint64_t kTransitEpochSeals = std::uint64_t{1} << 24;
constexpr std::size_t kMaxTransitKeys = 64;  // epochs kept for decryption

using TransitKeys = std::unordered_map<std::uint32_t, std::unique_ptr<core::AesGcm>>;
TransitKeys *transit_keys = nullptr;
std::uint32_t transit_epoch = 0;
core::AesGcm *transit_sealer = nullptr;  // the current epoch's key
std::uint64_t transit_seals = 0;

core::AesGcm &transit_key_for(std::uint32_t epoch) {
    core::MasterKey &master = master_key();
    return *cpp_guard([&] {
        if (transit_keys == nullptr)
            transit_keys = new TransitKeys();
        auto it = transit_keys->find(epoch);
        if (it != transit_keys->end())
            return it->second.get();
        if (transit_keys->size() >= kMaxTransitKeys) {
            transit_keys->clear();
            transit_sealer = nullptr;
        }
        auto aead = std::make_unique<core::AesGcm>(master.transit_key(epoch));
        core::AesGcm *raw = aead.get();
        (*transit_keys)[epoch] = std::move(aead);
        return raw;
    });
}

// A fresh epoch below 2^28, so that it takes at most four varint bytes.
std::uint32_t new_transit_epoch() {
    return cpp_guard([] {
        std::uint32_t epoch;
        core::random_bytes(reinterpret_cast<std::uint8_t *>(&epoch), sizeof epoch);
        return epoch & 0x0fffffffu;
    });
}

}  // namespace

EncryptionKey transit_encryption_key() {
    if (transit_sealer == nullptr || transit_seals >= kTransitEpochSeals) {
        transit_epoch = new_transit_epoch();
        transit_seals = 0;
        transit_sealer = &transit_key_for(transit_epoch);
    }
    transit_seals++;
    EncryptionKey key{};
    key.keyring_id = core::kTransitKeyringId;
    key.key_version = transit_epoch;
    key.aead = transit_sealer;
    key.keyring_name = "transit";
    return key;
}

void report_unknown_keyring(std::uint32_t keyring_id) {
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring %u does not exist", keyring_id),
                    errdetail("The value was encrypted under a keyring this database does not have."),
                    errhint("Restore colcrypt.keyrings and colcrypt.key_versions from the database the value came from.")));
    pg_unreachable();
}

core::AesGcm &decryption_key(std::uint32_t keyring_id, std::uint32_t key_version) {
    if (keyring_id == core::kTransitKeyringId)
        return transit_key_for(key_version);
    CachedKeyring *entry = cached_keyring_by_id(keyring_id);
    if (entry == nullptr)
        report_unknown_keyring(keyring_id);
    if (key_version == entry->active_version && entry->active_aead != nullptr)
        return *entry->active_aead;
    if (core::AesGcm *aead = entry->keys.data_key(key_version))
        return *aead;

    WrappedKeyRow row;
    load_data_key_row(keyring_id, key_version, &row);
    if (!row.present)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("key version %u of keyring \"%s\" does not exist", key_version, entry->name.c_str())));
    if (row.wrapped_size == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("key version %u of keyring \"%s\" is %s", key_version, entry->name.c_str(), row.state),
                        errdetail("Its key was destroyed; values encrypted under it can no longer be read.")));
    check_fingerprint(entry->name.c_str(), row);
    if (!unwrap_into_cache(*entry, core::KeyPurpose::data, row))
        report_damaged_key(entry->name.c_str(), "data", key_version);
    return *entry->keys.data_key(key_version);
}

IndexKey index_key_for_keyring(std::uint32_t keyring_id) {
    CachedKeyring *entry = cached_keyring_by_id(keyring_id);
    if (entry == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("keyring %u does not exist", keyring_id)));
    IndexKey key;
    key.index = entry->keys.index_key();
    key.term_size = entry->term_size;
    key.normalization = entry->normalization;
    return key;
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

bool in_restore() {
    return !check_function_bodies;
}

// Names are looked up without unwrapping anything, so that \d and pg_dump
// work on a server whose master key does not match (or is not loaded).
namespace {
char *lookup_keyring_name(const char *column, int32 key) {
    InternalAccess access;
    begin_internal_access(&access);
    char *sql = psprintf("SELECT name FROM colcrypt.keyrings WHERE %s = $1", column);
    run_internal_query(sql, 1, &key, SPI_OK_SELECT);
    char *name = nullptr;
    if (SPI_processed > 0) {
        // SPI_palloc: the copy must outlive SPI_finish.
        char *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
        name = (char *) SPI_palloc(strlen(value) + 1);
        strcpy(name, value);
    }
    end_internal_access(&access);
    return name;
}
}  // namespace

char *keyring_name_for_typmod(int32 typmod) {
    return lookup_keyring_name("type_modifier", typmod);
}

char *keyring_name_for_id(std::uint32_t keyring_id) {
    if (keyring_id == core::kTransitKeyringId)
        return pstrdup("(transit)");
    return lookup_keyring_name("keyring_id", (int32) keyring_id);
}

core::NonceSource &nonce_source() {
    if (backend_nonces == nullptr)
        backend_nonces = cpp_guard([] { return new core::NonceSource(); });
    return *backend_nonces;
}

}  // namespace colcrypt::pg
