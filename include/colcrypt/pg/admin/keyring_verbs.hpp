// What DBAs do to keyrings: create, rotate, retire.  The SQL functions are
// in keyring_verbs.cpp; rotation is also run by the background worker when
// a version reaches its nonce budget (worker/database_worker.cpp).
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"
#include "colcrypt/pg/keys/key_events.hpp"

namespace colcrypt::pg {

// Rotate a keyring's data key: a new random key, wrapped by the current
// master key, becomes the active version; the previous active version
// becomes decrypt_only.  The keyring row is locked FOR UPDATE first, so
// concurrent rotations serialize and no version is lost.  The keyring is
// named by `name`, or by `keyring_id` when name is nullptr.  When
// expected_active > 0 and that version is no longer the active one, nothing
// is done and 0 is returned (another rotation got there first).  Otherwise
// returns the new version.  Records the event.  Runs in the caller's
// transaction.
std::int32_t rotate_data_key(const char *name, std::int32_t keyring_id, std::int32_t expected_active,
                             const KeyEventActor &actor, KeyEvent event, const char *detail);

// Destroy the keyring's blind-index keys that are neither its order key nor
// its active one and that no data version, not retired, is bound to
// (catalog::retire_unbound_index_keys), with a NOTICE each.  Returns
// "; blind-index key version N destroyed" for each, for the event's detail
// ("" when none, and under 0.1.0's SQL).  The caller invalidates the caches.
const char *destroy_unused_index_keys(std::int32_t keyring_id, const char *keyring_name);

}  // namespace colcrypt::pg
