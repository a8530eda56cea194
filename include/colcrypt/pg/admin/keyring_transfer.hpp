// Keyring transfer between clusters (docs/design/keyring-transfer.md): the
// SQL functions are in keyring_transfer.cpp; this is what key rotation
// needs from it.
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// The data-key version rotation makes next for a locked keyring: the next
// one inside the range of versions this database may make, so that no two
// clusters holding the keyring make the same version.  latest is the
// highest version the keyring has.  ERROR when the range is full.
std::int32_t next_data_key_version(std::int32_t keyring_id, const char *name, std::int32_t latest);

}  // namespace colcrypt::pg
