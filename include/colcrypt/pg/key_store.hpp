// Keyrings and their wrapped keys, stored in colcrypt.keyrings and
// colcrypt.key_versions, and the per-backend cache of unwrapped keys.
//
// Keys are unwrapped once per backend and kept with their OpenSSL contexts
// (core::KeyringKeys).  Any change to the key tables is broadcast as a
// relcache invalidation of colcrypt.keyrings; each backend then drops its
// cache before its next lookup, so a new keyring or version is seen by every
// session without reconnecting.
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/pg/postgres.hpp"

namespace colcrypt::core {
class AesGcm;
class BlindIndex;
class NonceSource;
}  // namespace colcrypt::core

namespace colcrypt::pg {

extern int guc_blind_index_bits;

// What encrypting under one keyring needs: its active data-key version.
struct NonceCounter;

struct EncryptionKey {
    std::uint32_t keyring_id;
    std::uint32_t key_version;
    core::AesGcm *aead;
    core::BlindIndex *index;  // nullptr when the keyring has no index terms
    std::size_t term_size;
    core::Normalization normalization;  // how plaintext is normalised for its term
    const char *keyring_name;
    NonceCounter *counter;    // encryptions of this version (nonce_budget.hpp); nullptr for transit
};

void define_key_store_gucs();
void register_key_cache_invalidation();

// The type modifier for a keyring name.  ERROR with the naming rules when the
// name is not valid.  Does not check that the keyring exists.
int32 keyring_typmod_for_name(const char *name);

// Ask every backend (this one included) to drop its cached keys: called by
// every function that changes the key tables, effective at commit.
void invalidate_key_caches();

// The active key of the keyring a type modifier names.  ERROR when no such
// keyring exists.  typmod must be >= 0.
EncryptionKey encryption_key_for_typmod(int32 typmod);

// The transit key, for values not yet bound to a keyring.
EncryptionKey transit_encryption_key();

// The key that decrypts (keyring_id, key_version); keyring 0 is transit.
// ERROR when the keyring or version does not exist, or the master key does
// not match the one that wrapped it.
core::AesGcm &decryption_key(std::uint32_t keyring_id, std::uint32_t key_version);

// The blind-index key of a keyring and the size of the terms its values
// store (0: none stored; the key exists all the same).  ERROR when the
// keyring does not exist or its keys cannot be unwrapped.
struct IndexKey {
    core::BlindIndex *index;
    std::size_t term_size;
    core::Normalization normalization;  // also applies to plaintext comparisons
};
IndexKey index_key_for_keyring(std::uint32_t keyring_id);

// Whether keyring_id exists in this database (transit: true).  Absent ids
// are remembered until the next key-table invalidation: the answer is used
// only to decide whether a restore can verify an envelope now.
bool keyring_exists(std::uint32_t keyring_id);

// Whether we are inside a restore: pg_dump scripts turn check_function_bodies
// off, and table data may then be loaded before colcrypt's key tables.
bool in_restore();

// The error for a value whose keyring this database does not have.
[[noreturn]] void report_unknown_keyring(std::uint32_t keyring_id);

// Keyring name for a type modifier or id, palloc'd; nullptr when unknown.
char *keyring_name_for_typmod(int32 typmod);
char *keyring_name_for_id(std::uint32_t keyring_id);

// This backend's nonce source.
core::NonceSource &nonce_source();

}  // namespace colcrypt::pg
