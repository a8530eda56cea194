// Recognising a restore.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "utils/guc.h"
}

#include "colcrypt/pg/keys/restore_session.hpp"

namespace colcrypt::pg {

bool in_restore() {
    return !check_function_bodies;
}

}  // namespace colcrypt::pg
