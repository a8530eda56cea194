// The re-encryption job a rotation queues (colcrypt.reencrypt_on_rotate,
// docs/design/reencryption.md, section 2).
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// Queue every column of keyring `name`'s tables for re-encryption, in the
// caller's transaction, when colcrypt.reencrypt_on_rotate is on and the
// job tables exist (0.2.0); NOTICE with the job.
void queue_reencrypt_after_rotation(const char *name);

}  // namespace colcrypt::pg
