// The two privileges of a keyring: to decrypt its values, and to encrypt
// (seal) plaintexts under it.
//
// A role holds a privilege when it has the privileges of a role listed for
// the keyring in the privilege's table (colcrypt.decrypt_grants,
// colcrypt.encrypt_grants): itself, or a role it is a member of,
// inheriting.  SELECT or INSERT on a table, owning it, or being a superuser
// does not imply either (a superuser can grant them to themselves, and that
// is recorded in colcrypt.key_events).  Only the encrypt privilege can be
// granted to PUBLIC (grantee 0): every keyring has that grant unless an
// administrator revokes it (docs/design/encrypt-privilege.md).
//
// The checks are made in one place, types/value_codec.cpp: the decrypt
// privilege before any decryption whose result reaches the user, the
// encrypt privilege before sealing a plaintext under a keyring.
//
// Decisions are cached per backend; grants and revokes invalidate the cache
// through the same relcache invalidation as the key cache, and role
// membership changes through the pg_auth_members and pg_authid syscaches.
#pragma once

#include <cstdint>

namespace colcrypt::pg {

enum class KeyringPrivilege { decrypt, encrypt };

void register_keyring_privilege_invalidation();

// Whether the current user (GetUserId()) holds the privilege on the keyring.
bool may_decrypt(std::uint32_t keyring_id);
bool may_encrypt(std::uint32_t keyring_id);

// ERROR (insufficient_privilege, naming the keyring, with a hint) unless
// the current user holds the privilege.
void require_decrypt_privilege(std::uint32_t keyring_id);
void require_encrypt_privilege(std::uint32_t keyring_id);

// A re-encryption batch (admin/reencrypt_step.cpp) re-seals values that
// are under their keyring already, as the table's owner, who may hold no
// encrypt grant: nothing new enters the keyring, so for the duration of one
// batch may_encrypt is true.  Outside a batch, colcrypt._reencrypt_value
// (callable by anyone) needs the grant like any other seal.
void set_resealing_for_extension(bool on);

// Changes whenever a decision may change (grants or role memberships
// invalidated, grants read in parallel mode forgotten at the transaction's
// end, set_resealing_for_extension): a decision for one user taken under
// an epoch holds while the epoch does.  Read it before the check whose
// answer is remembered.
std::uint64_t privilege_epoch();

}  // namespace colcrypt::pg
