// Recognising a restore, and the roles that may restore.
#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"
}

#include "colcrypt/pg/keys/restore_session.hpp"

namespace colcrypt::pg {

bool in_restore() {
    return !check_function_bodies;
}

bool restoring_with_privileges() {
    if (!in_restore())
        return false;
    Oid user = GetUserId();
    if (superuser_arg(user))
        return true;
    Oid admin = get_role_oid("colcrypt_admin", true);
    return OidIsValid(admin) && has_privs_of_role(user, admin);
}

}  // namespace colcrypt::pg
