// The family of colcrypt's encrypted types, as seen from the catalogs.
#pragma once

#include "colcrypt/pg/postgres.hpp"

namespace colcrypt::pg {

// Whether type is one of colcrypt's encrypted types, or an array of one.
bool is_encrypted_type(Oid type);

// Whether relation has a column of an encrypted type (dropped columns
// aside).  False for an unknown relation.
bool has_encrypted_column(Oid relation);

}  // namespace colcrypt::pg
