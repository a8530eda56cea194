// Keyring names and the column type modifiers that stand for them.
//
// A column declared encrypted_text('pii') stores the keyring's type
// modifier, derived from the name alone (core/keyring_name.hpp), so that a
// restore can create tables before the keyring rows exist.  Names are read
// without unwrapping anything, so \d and pg_dump work on a server whose
// master key does not match (or is not loaded).
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// The type modifier for a keyring name.  ERROR with the naming rules when the
// name is not valid.  Does not check that the keyring exists.
int32 keyring_typmod_for_name(const char *name);

// Keyring name for a type modifier or id, palloc'd; nullptr when unknown.
// Keyring 0 is "(transit)".
char *keyring_name_for_typmod(int32 typmod);
char *keyring_name_for_id(std::uint32_t keyring_id);

}  // namespace colcrypt::pg
