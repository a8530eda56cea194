// The audit trail of key operations: one row in colcrypt.key_events and the
// same line in the server log (LOG, prefixed "colcrypt:") per operation.
// Never key bytes: only names, versions, fingerprints and counts.
#pragma once

#include <cstdint>

#include "colcrypt/pg/postgres.hpp"

namespace colcrypt::pg {

// Who did it.  Captured on entry to a key function, before internal access
// switches the user id to the key tables' owner.
struct KeyEventActor {
    Oid session_user;
    Oid current_user;
};

KeyEventActor current_actor();

// The operations colcrypt.key_events accepts (its CHECK constraint).
namespace key_event {
constexpr const char *create = "create";
constexpr const char *rotate = "rotate";
constexpr const char *auto_rotate = "auto_rotate";
constexpr const char *retire = "retire";
constexpr const char *rotate_master_key = "rotate_master_key";
constexpr const char *grant = "grant";
constexpr const char *revoke = "revoke";
}  // namespace key_event

// Record one operation.  keyring may be nullptr (master key rotation);
// versions <= 0 are recorded as NULL; detail may be nullptr.  Part of the
// caller's transaction: an operation that rolls back leaves no row (the log
// line stays, as the server log cannot be rolled back).
void record_key_event(const KeyEventActor &actor, const char *operation, const char *keyring,
                      std::int32_t old_version, std::int32_t new_version, const char *detail);

}  // namespace colcrypt::pg
