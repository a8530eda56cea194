// Finding stored values by their header: how many values of a keyring use a
// data-key version, and in which columns.  Used by retire_key.
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "lib/stringinfo.h"
}

namespace colcrypt::pg {

// How many stored values of the keyring (keyring_id, whose columns carry
// type modifier typmod) use version; the columns holding them are listed
// in *where (at most a screenful).  Runs as the key tables' owner.
int64 count_values_using(std::int32_t keyring_id, std::int32_t typmod, std::int32_t version, StringInfo where);

}  // namespace colcrypt::pg
