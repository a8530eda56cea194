// Keys wrapped by the master key: making new ones, and the checks and
// errors of unwrapping stored ones.
#pragma once

#include <cstdint>

#include "colcrypt/core/keyring.hpp"
#include "colcrypt/core/master_key.hpp"
#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// A fresh random key for slot (keyring, purpose, version), wrapped by master.
void wrap_fresh_key(core::MasterKey &master, std::uint32_t keyring_id, core::KeyPurpose purpose,
                    std::uint32_t version, std::uint8_t out[core::kWrappedKeySize]);

// ERROR ("master key does not match keyring", both fingerprints, a hint)
// unless fingerprint is that of the server's master key.
void check_fingerprint(const char *keyring, const char *fingerprint);

// Unwrap a stored data or index key of a keyring with the server's master
// key straight into keys (so no copy of it lives in a frame that may
// longjmp).  Call check_fingerprint first.  False when the wrapped key does
// not authenticate although its fingerprint matched: it was altered, and
// report_damaged_key says so.
bool unwrap_stored_key(core::KeyringKeys &keys, core::KeyPurpose purpose, std::uint32_t version,
                       const std::uint8_t *wrapped, std::size_t size);
[[noreturn]] void report_damaged_key(const char *keyring, core::KeyPurpose purpose, std::uint32_t version);

}  // namespace colcrypt::pg
