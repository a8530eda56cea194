// Keyring names and the column type modifier that stands for them.
//
// A column declared encrypted_text('pii') stores an int32 type modifier.  It
// is derived from the name alone (SHA-256, 31 bits), not looked up, so that a
// restore can create the table before the keyring rows are loaded: pg_dump
// writes table definitions before extension configuration data.
// create_key refuses a name whose modifier collides with an existing keyring.
#pragma once

#include <cstddef>
#include <cstdint>

namespace colcrypt::core {

constexpr std::size_t kMaxKeyringNameSize = 63;

// 1..63 characters from [a-z0-9_], starting with a letter.
bool is_valid_keyring_name(const char *name, std::size_t size) noexcept;

// Non-negative type modifier for a keyring name (first 31 bits of SHA-256).
std::int32_t keyring_type_modifier(const char *name, std::size_t size);

}  // namespace colcrypt::core
