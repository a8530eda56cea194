// The per-backend cache of unwrapped keyrings.
//
// A keyring's keys are unwrapped once per backend and kept with their
// OpenSSL contexts (core::KeyringKeys), so no value pays for a key setup.
// Any change to the key tables is broadcast as a relcache invalidation of
// colcrypt.keyrings; each backend then drops its cache before its next
// lookup, so a new keyring or version is seen by every session without
// reconnecting.  The rows come from keys/catalog.cpp.
//
// Lifetime: every key, name and pointer these functions return stays valid
// until the end of the current transaction, also across later lookups that
// find the cache stale (the dropped keyrings are destroyed, their keys
// wiped, at transaction end).  Never keep one across transactions.
#pragma once

#include <cstdint>

#include "colcrypt/core/keyring_policy.hpp"
#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

void register_key_cache_invalidation();

// Ask every backend (this one included) to drop its cached keys and its
// cached plans: called by every function that changes the key tables,
// effective at commit.
void invalidate_key_caches();

// Changes whenever the cached keys may change (an invalidation of the key
// tables, or keys read in parallel mode emptied at the transaction's end):
// what was learnt from the cache under one epoch (an index key's version,
// its term size) holds while the epoch stays.  Read it before the lookup
// whose answer is remembered, so that an invalidation processed during the
// lookup makes the memo stale rather than current.
std::uint64_t key_cache_epoch();

// What sealing under a keyring's active data-key version needs, and the
// keyring's name for messages (owned by the cache).
struct SealingKeyring {
    core::SealingKey key;
    const char *keyring_name;
};

// The active data key of the keyring a type modifier names (typmod >= 0).
// ERROR when no such keyring exists or it has no active version.
SealingKeyring sealing_key_for_typmod(int32 typmod);

// The id of the keyring a type modifier names (typmod >= 0), whether or not
// it has an active version (an imported keyring has none until rotated):
// what a value's keyring is compared with.  ERROR when there is none.
std::uint32_t keyring_id_for_typmod(int32 typmod);

// The key that decrypts (keyring_id, key_version); keyring 0 is transit.
// ERROR when the keyring or version does not exist, the version is
// retired, or the master key does not match the one that wrapped it.
core::AesGcm &data_key(std::uint32_t keyring_id, std::uint32_t key_version);

// The blind-index key comparisons of a keyring order by (its order key,
// docs/design/reencryption.md section 7) and its term policy (the key
// exists even when no terms are stored).  ERROR when the keyring does not
// exist or its keys cannot be unwrapped.
struct IndexKey {
    core::BlindIndex *index;  // nullptr only for a keyring row without index key
    core::TermPolicy policy;
    std::uint32_t order_version;  // the order key's version (what cached terms are made under)
    // The data versions whose values carry terms of another index key
    // (sorted; none outside a blind-index key rotation).
    const std::int32_t *off_order_versions;
    int off_order_count;
    // The index key of the active data version, whose terms new values
    // carry: the order key, except during a blind-index key rotation, when
    // it is the new key, the one the off-order versions are bound to (a
    // rotation is refused while another is unfinished, so there are never
    // more than these two).
    core::BlindIndex *sealing;
    std::uint32_t sealing_version;
};
IndexKey index_key_for_keyring(std::uint32_t keyring_id);

// The same for the keyring a type modifier names (typmod >= 0), into *key;
// false, where the other raises an error, when there is no such keyring.
bool index_key_for_typmod(int32 typmod, IndexKey *key);

// The version of the order key of the keyring a type modifier names (0
// when it has none): what the terms of its search values are made under.
// ERROR when there is no such keyring.
std::uint32_t order_index_version_for_typmod(int32 typmod);

// Whether a stored value's term, made under its data version's index key,
// is a term under the keyring's order key: comparisons may use it as it is.
// Search values (key version 0) are made under the order key.
inline bool term_under_order_key(const IndexKey &key, std::uint32_t key_version) {
    for (int i = 0; i < key.off_order_count; i++)
        if ((std::uint32_t) key.off_order_versions[i] == key_version)
            return false;
    return true;
}

// Whether keyring_id exists in this database (transit: true).  Absent ids
// are remembered until the next key-table invalidation: the answer is used
// only to decide whether a restore can verify an envelope now.
bool keyring_exists(std::uint32_t keyring_id);

// The error for a value whose keyring this database does not have.
[[noreturn]] void report_unknown_keyring(std::uint32_t keyring_id);

}  // namespace colcrypt::pg
