// Transit keys: for values parsed before their column's keyring is known
// (literals, untyped bind parameters; type modifier -1).
//
// Every such value is sealed under a transit key before a column's keyring
// binds it, so one key for all of them would reach the GCM bound of 2^32
// random nonces on a busy server within days.  Instead each backend draws a
// random epoch and derives that epoch's key from the master key
// (core::MasterKey::transit_key), and draws a new epoch after 2^24 seals;
// any backend (a parallel worker, a later reader) derives the key of any
// epoch it meets.  Two backends drawing the same epoch (1 in 2^28) still
// stay far below the bound together.  A transit value's key version is its
// epoch.
#pragma once

#include <cstdint>

#include "colcrypt/core/keyring_policy.hpp"

namespace colcrypt::pg {

// What to seal the next transit value with: keyring 0, this backend's
// current epoch, no term.  Counts the seal against the epoch.
core::SealingKey transit_sealing_key();

// The key of a transit epoch, for decryption.
core::AesGcm &transit_data_key(std::uint32_t epoch);

}  // namespace colcrypt::pg
