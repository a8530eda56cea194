// The master key provider: loads the 256-bit master key once, in the
// postmaster, from colcrypt.master_key_command or colcrypt.master_key_file,
// into a page that is locked in memory and excluded from core dumps.
// Backends inherit the page through fork() and derive their wrapping and
// transit keys from it on first use.
#pragma once

#include "colcrypt/pg/postgres.hpp"

namespace colcrypt::core {
class MasterKey;
}

namespace colcrypt::pg {

// GUC storage (defined in master_key_provider.cpp, registered by _PG_init).
extern char *guc_master_key_file;
extern char *guc_master_key_command;
extern char *guc_previous_master_key_file;
extern char *guc_previous_master_key_command;
extern bool guc_allow_core_dumps;

void define_master_key_gucs();

// Load the key; called by _PG_init while shared_preload_libraries is being
// processed.  Any problem is an ERROR, which stops the server from starting:
// running with a missing or wrong key file is never what the DBA wanted.
void load_master_key_at_startup();

// The master key for this backend.  ERROR with a hint to preload colcrypt
// when no key was loaded.
core::MasterKey &master_key();

// The previous master key, read in this backend from
// colcrypt.previous_master_key_command or _file with the same checks as the
// current one (permissions, size, format; the text buffer is wiped).  The
// caller owns the result and must delete it, also on error (its destructor
// wipes the key).  ERROR when neither or both are set, or the key is bad.
core::MasterKey *load_previous_master_key();

}  // namespace colcrypt::pg
