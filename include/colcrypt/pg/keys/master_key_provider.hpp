// The master key provider: loads the 256-bit master key once, in the
// postmaster, from colcrypt.master_key_command or colcrypt.master_key_file,
// into a page that is locked in memory and excluded from core dumps.
// Backends inherit the page through fork() and derive their wrapping and
// transit keys from it on first use.
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "utils/palloc.h"
}

namespace colcrypt::core {
class MasterKey;
}

namespace colcrypt::pg {

// Load the key; called by _PG_init while shared_preload_libraries is being
// processed.  Any problem is an ERROR, which stops the server from starting:
// running with a missing or wrong key file is never what the DBA wanted.
// With the default key file path and no file there, a new key is generated
// only for a data directory that colcrypt has never used and that is not a
// standby, in archive recovery or restored from a base backup: anywhere
// else its data is under an existing key, and a new one would read none of
// it.  The loaded key's fingerprint is written to pg_colcrypt/ for that.
void load_master_key_at_startup();

// The loaded master key's fingerprint, or nullptr when none is loaded.
const char *loaded_master_key_fingerprint();

// The master key for this backend.  ERROR with a hint to preload colcrypt
// when no key was loaded.
core::MasterKey &master_key();

// The previous master key, read in this backend from
// colcrypt.previous_master_key_command or _file with the same checks as the
// current one (permissions, size, format; the text buffer is wiped).  It
// belongs to the memory context owner, whose reset or deletion destroys it
// and so wipes the key, however the caller's transaction ends.  ERROR when
// neither or both are set, or the key is bad.
core::MasterKey *load_previous_master_key(MemoryContext owner);

}  // namespace colcrypt::pg
