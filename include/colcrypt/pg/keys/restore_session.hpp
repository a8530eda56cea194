// Whether this session is restoring a dump, and whether it may store what
// it cannot verify yet.
//
// pg_dump scripts turn check_function_bodies off, and table data may then be
// loaded before colcrypt's key tables: keyring names in column types and
// envelopes of keyrings not there yet have to be accepted then.  Any role
// may turn that setting off, so the one thing that weakens a check, storing
// an envelope unverified, is also reserved to the roles that restore
// databases: superusers and members of colcrypt_admin.
#pragma once

namespace colcrypt::pg {

// check_function_bodies is off, as in a restore.
bool in_restore();

// in_restore(), and the current user is a superuser or has the privileges
// of colcrypt_admin.
bool restoring_with_privileges();

}  // namespace colcrypt::pg
