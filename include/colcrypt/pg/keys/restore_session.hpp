// Whether this session is restoring a dump.
//
// pg_dump scripts turn check_function_bodies off, and table data may then be
// loaded before colcrypt's key tables: keyring names in column types and
// envelopes of keyrings not there yet are accepted then.
#pragma once

namespace colcrypt::pg {

bool in_restore();

}  // namespace colcrypt::pg
