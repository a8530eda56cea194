// Decryption as a privilege of its own.
//
// A role may read plaintext of a keyring when it has the privileges of a
// role listed for that keyring in colcrypt.decrypt_grants (itself, or a role
// it is a member of, inheriting).  SELECT on a table, owning it, or being a
// superuser does not imply it (a superuser can grant it to themselves, and
// that is recorded in colcrypt.key_events).  The check is made in one place,
// types/value_codec.cpp, before any decryption whose result reaches the user.
//
// Decisions are cached per backend; grants and revokes invalidate the cache
// through the same relcache invalidation as the key cache, and role
// membership changes through the pg_auth_members and pg_authid syscaches.
#pragma once

#include <cstdint>

namespace colcrypt::pg {

void register_decrypt_privilege_invalidation();

// Whether the current user (GetUserId()) may decrypt values of the keyring.
bool may_decrypt(std::uint32_t keyring_id);

// ERROR (insufficient_privilege, naming the keyring, with a hint) unless
// may_decrypt(keyring_id).
void require_decrypt_privilege(std::uint32_t keyring_id);

}  // namespace colcrypt::pg
