// The nonce budget: how many values each data-key version has encrypted.
//
// With random 96-bit nonces one AES-GCM key may encrypt at most 2^32 values
// (NIST SP 800-38D).  colcrypt counts encryptions per (database, keyring,
// version) in shared memory, one atomic add per value.  The count is made
// durable ahead of use: a backend reserves a block of encryptions in
// $PGDATA/pg_colcrypt/nonce_counters (written atomically, fsync'd) before it
// uses any of them, and a restart resumes every counter at the end of its
// last reservation.  A crash may therefore over-count by up to one block per
// version, never under-count.
//
// When a version reaches colcrypt.nonce_budget, the encrypting backend asks a
// dynamic background worker to rotate the keyring (it cannot write the key
// tables in the middle of the caller's transaction) and keeps encrypting; at
// the hard limit (twice the budget, at most 2^32 - 2^24) encryption refuses.
#pragma once

#include <cstdint>

#include "colcrypt/pg/postgres.hpp"

namespace colcrypt::pg {

struct EncryptionKey;
struct NonceCounter;  // one slot in shared memory

extern int guc_nonce_budget;

void define_nonce_budget_gucs();
// Shared memory and the xact callback; only while preloading.
void install_nonce_budget_hooks();

// The counter of (this database, keyring_id, version), created when missing.
// ERROR when the shared table is full; nullptr when colcrypt was not
// preloaded (then no master key is loaded either, and nothing encrypts).
NonceCounter *nonce_counter_for(std::uint32_t keyring_id, std::uint32_t version);

// Count one encryption under key (transit keys have no counter): reserves
// durably, triggers automatic rotation at the budget and refuses at the
// hard limit.  Called before every encryption.
void count_encryption(const EncryptionKey &key);

// Forget the counter of a retired version when the transaction commits.
void release_nonce_counter_at_commit(std::uint32_t keyring_id, std::uint32_t version);

}  // namespace colcrypt::pg
