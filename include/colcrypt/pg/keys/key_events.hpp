// The audit trail of key operations: one row in colcrypt.key_events and the
// same line in the server log (LOG, prefixed "colcrypt:") per operation.
// Never key bytes: only names, versions, fingerprints and counts.
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// Who did it.  Captured on entry to a key function, before internal access
// switches the user id to the key tables' owner.
struct KeyEventActor {
    Oid session_user;
    Oid current_user;
};

KeyEventActor current_actor();

// current_actor() for a key function called from SQL, which changes key
// tables: ERROR during recovery (a standby), naming the function, rather
// than PostgreSQL's read-only error from deep inside it.
KeyEventActor begin_key_operation(const char *function);

// The operations colcrypt.key_events records.  This list is the only one:
// the table's CHECK constraint asks colcrypt._is_key_event_operation(),
// which reads it (0.1.0's constraint spelled the same names out).
// New events go at the end, with their name in key_events.cpp.
// grant and revoke are of decryption (their 0.1.0 names); grant_encrypt and
// revoke_encrypt of encryption (0.2.0).
enum class KeyEvent {
    create,
    rotate,
    auto_rotate,
    retire,
    rotate_master_key,
    grant,
    revoke,
    upgrade_index_order,
    grant_encrypt,
    revoke_encrypt,
    transfer_key,
    export_keyring,
    import_keyring,
    rotate_index_key
};

// The name stored in colcrypt.key_events.operation.
const char *key_event_name(KeyEvent event);

// Record one operation.  keyring may be nullptr (master key rotation);
// versions <= 0 are recorded as NULL; detail may be nullptr.  Part of the
// caller's transaction: an operation that rolls back leaves no row (the log
// line stays, as the server log cannot be rolled back).
void record_key_event(const KeyEventActor &actor, KeyEvent event, const char *keyring, std::int32_t old_version,
                      std::int32_t new_version, const char *detail);

}  // namespace colcrypt::pg
